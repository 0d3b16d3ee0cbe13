/**
 * Replay a Mooncake request trace against the emulated constellation through the actor runtime: users
 * (one per conversation) at population-weighted cities, each request a directory lookup, a fetch of the
 * cached prefix from its S servers, and puts of its new blocks; one run per strategy.
 * `npx tsx experiments/replay.ts --trace data/traces/mooncake-conversation.jsonl.gz --preset starlink-shell1 --strategy all --capacity-mb 1024 --requests 1000 --seed 1 --json`
 * (`--capacity-mb 64,256,1024,4096` draws the capacity curve).
 */
import { strategyNames } from "../src/cache/strategies.js"
import { oracleHitRate } from "../src/cache/trace.js"
import { makeRunConfig, type RunReport } from "../src/actors/index.js"
import { runSky, Workers } from "../src/actors/hosts.js"
import { Effect } from "effect"
import { readTrace } from "../src/actors/trace-file.js"
import { Constellation, kepler, preset, subSatellitePoints } from "../src/topology/index.js"
import { flag, parseCli, runMain, traceFlags } from "./lib/cli.js"
import { presetFlag } from "./lib/constellation-flags.js"
import { fmt, printResult } from "./lib/output.js"
import { makeProgress } from "./lib/progress.js"
import { writeChart, type ChartSpec } from "./lib/plot.js"
import { writeIndex } from "./lib/report-index.js"
import { openRunDirectory, type RunDirectory } from "./lib/results.js"
import { worldMap } from "./lib/world-map.js"

const STRATEGIES = strategyNames

const spec = {
  name: "replay",
  summary: "a request trace through the cache protocol: hit rate, retrieval latency, migration traffic",
  flags: {
    ...traceFlags(1000),
    preset: presetFlag("starlink-shell1"),
    strategy: flag.choice("placement strategy", [...STRATEGIES, "all"] as const, "all"),
    capacityMb: flag.intList("store capacity per satellite, MiB; several values draw the capacity curve", [1024]),
    servers: flag.number("servers S per block", 9, { min: 1, max: 255, integer: true }),
    policy: flag.choice("eviction policy", ["lru", "slru"] as const, "lru"),
    codec: flag.choice("KV codec of the shares (ours always uses int8)", ["fp16", "int8"] as const, "fp16"),
    workers: flag.number("worker threads", 1, { min: 1, max: 64, integer: true }),
    lenient: flag.boolean("skip malformed trace lines (counted) instead of stopping at the first")
  }
}

export interface ReplayRow {
  readonly strategy: string
  readonly capacityMb: number
  readonly requests: number
  readonly blocks: number
  readonly hitBlocks: number
  readonly hitRate: number
  readonly oracleHitRate: number
  readonly retrievalMs: { readonly p50: number; readonly p90: number; readonly p99: number }
  readonly migrationBytes: number
  readonly evictions: number
}

const row = (strategy: string, capacityMb: number, r: RunReport, oracle: number): ReplayRow => {
  const c = r.counters
  return {
    strategy,
    capacityMb,
    requests: c.requests ?? 0,
    blocks: c.blocks ?? 0,
    hitBlocks: c.hitBlocks ?? 0,
    hitRate: (c.hitBlocks ?? 0) / Math.max(1, c.blocks ?? 0),
    oracleHitRate: oracle,
    retrievalMs: { p50: r.retrieval.p50Ms, p90: r.retrieval.p90Ms, p99: r.retrieval.p99Ms },
    migrationBytes: c.migrationBytes ?? 0,
    evictions: r.evictions
  }
}

runMain(async () => {
  const o = parseCli(spec)
  const trace = readTrace(o.trace, { limit: o.requests, lenient: o.lenient })
  if (trace.skipped.length > 0) process.stderr.write(`replay: skipped ${trace.skipped.length} malformed lines (first: ${trace.skipped[0]!.message})\n`)
  const oracle = oracleHitRate(trace.requests).hitRate
  // Run until the last request has had a minute to finish.
  const simSeconds = Math.max(...trace.requests.map((r) => r.timestamp)) / 1000 + 60
  const strategies = o.strategy === "all" ? STRATEGIES : [o.strategy]
  const rows: Array<ReplayRow> = []
  const base = { preset: o.preset, seed: o.seed, simSeconds, workload: "replay" as const, users: 0 }
  const dir = openRunDirectory("replay", { ...base, trace: o.trace, requests: o.requests, servers: o.servers, policy: o.policy, codec: o.codec, strategies, capacityMb: o.capacityMb })
  const reports = new Map<string, RunReport>()
  for (const capacityMb of o.capacityMb) {
    for (const strategy of strategies) {
      const config = makeRunConfig({
        ...base,
        capacityBytesPerSatellite: Math.round(capacityMb * 2 ** 20),
        replay: { ...makeRunConfig().replay, tracePath: o.trace, requests: o.requests, strategy, servers: o.servers, storePolicy: o.policy, codec: o.codec }
      })
      const progress = makeProgress(`replay ${strategy} ${capacityMb} MiB`, simSeconds, o.quiet || o.json)
      const report = await Effect.runPromise(runSky(config).pipe(Effect.provide(Workers({ workers: o.workers, onProgress: (p) => progress.update(p.virtualTime, p.delivered) }))))
      progress.stop()
      rows.push(row(strategy, capacityMb, report, oracle))
      reports.set(`${strategy}@${capacityMb}`, report)
    }
  }
  const biggest = Math.max(...o.capacityMb)
  const atBiggest = rows.filter((r) => r.capacityMb === biggest)
  dir.writeJson("results.json", rows)
  dir.writeCsv("results.csv", rows.map((r) => ({ ...r, retrievalMs: undefined, p50Ms: r.retrievalMs.p50, p90Ms: r.retrievalMs.p90, p99Ms: r.retrievalMs.p99 })))
  await writeReplayCharts(dir, o.preset, simSeconds, rows, oracle, strategies.map((s) => [s, reports.get(`${s}@${biggest}`)!] as const))
  dir.writeSummary({
    preset: o.preset, requests: o.requests, capacityMb: biggest, oracleHitRate: oracle,
    ...Object.fromEntries(atBiggest.flatMap((r) => [[`${r.strategy} hit rate`, r.hitRate], [`${r.strategy} p99 ms`, r.retrievalMs.p99]]))
  })
  writeIndex()
  printResult(o.json, rows, () =>
    [
      `replay: ${o.requests} requests of ${o.trace} on ${o.preset}, S = ${o.servers}, ${o.policy}; oracle hit rate ${fmt(oracle, 4)}; written to ${dir.path}`,
      "strategy       MiB/sat   hit rate   of oracle   retrieval p50 / p90 / p99 ms        migration GB   evictions",
      ...rows.map((r) => `${r.strategy.padEnd(14)} ${String(r.capacityMb).padStart(7)} ${fmt(r.hitRate, 4).padStart(10)}   ${fmt(r.hitRate / r.oracleHitRate, 3).padStart(9)}   ${`${fmt(r.retrievalMs.p50, 0)} / ${fmt(r.retrievalMs.p90, 0)} / ${fmt(r.retrievalMs.p99, 0)}`.padStart(28)}   ${fmt(r.migrationBytes / 1e9, 1).padStart(12)}   ${String(r.evictions).padStart(9)}`)
    ].join("\n"))
})

/** The replay's pictures: capacity curve against the oracle, latency CDFs, migration over time, occupancy map. */
const writeReplayCharts = async (dir: RunDirectory, presetName: string, endSeconds: number, rows: ReadonlyArray<ReplayRow>, oracle: number, runs: ReadonlyArray<readonly [string, RunReport]>) => {
  const schema = "https://vega.github.io/schema/vega-lite/v5.json"
  await writeChart(dir.writeText, "hit-rate-vs-capacity", {
    $schema: schema, title: "Hit rate vs. capacity per satellite (dashed: oracle, unbounded cache)", width: 480, height: 300,
    layer: [
      { data: { values: rows }, mark: { type: "line", point: true }, encoding: { x: { field: "capacityMb", type: "quantitative", scale: { type: "log" }, title: "capacity per satellite, MiB" }, y: { field: "hitRate", type: "quantitative", title: "block hit rate" }, color: { field: "strategy", type: "nominal" } } },
      { data: { values: [{ oracle }] }, mark: { type: "rule", strokeDash: [6, 4] }, encoding: { y: { field: "oracle", type: "quantitative" } } }
    ]
  } as ChartSpec)
  await writeChart(dir.writeText, "retrieval-cdf", {
    $schema: schema, title: "Retrieval latency of hits (CDF)", width: 480, height: 300,
    data: { values: runs.flatMap(([strategy, r]) => r.retrieval.cdf.map((p) => ({ strategy, ms: p.ms, fraction: p.percentile / 100 }))) },
    mark: "line",
    encoding: { x: { field: "ms", type: "quantitative", scale: { type: "log" }, title: "retrieval latency, ms" }, y: { field: "fraction", type: "quantitative", title: "fraction of hits" }, color: { field: "strategy", type: "nominal" } }
  } as ChartSpec)
  await writeChart(dir.writeText, "migration-over-time", {
    $schema: schema, title: "Migration traffic over time (10-s buckets)", width: 480, height: 300,
    data: { values: runs.flatMap(([strategy, r]) => Object.entries(r.series.migrationBytes ?? {}).map(([t, bytes]) => ({ strategy, t: Number(t), mb: bytes / 2 ** 20 }))) },
    mark: { type: "line", point: true },
    encoding: { x: { field: "t", type: "quantitative", title: "virtual time, s" }, y: { field: "mb", type: "quantitative", title: "MiB migrated" }, color: { field: "strategy", type: "nominal" } }
  } as ChartSpec)
  // Occupancy at the end of the run, for the first placement-aware strategy.
  const [strategy, r] = runs.find(([s]) => s !== "baseline") ?? runs[0]!
  const c = Constellation.make(preset(presetName))
  const eph = kepler(c)
  const pos = new Float64Array(3 * c.size)
  eph.positionsAt(endSeconds, pos)
  const ll = subSatellitePoints(pos, c.size, eph.earthRotationAngleAt(endSeconds))
  await writeChart(dir.writeText, "occupancy-map", worldMap(`Bytes stored per satellite at the end (${strategy})`, [
    {
      data: { values: r.occupancy.map(([s, bytes]) => ({ lat: ll[2 * s]!, lon: ll[2 * s + 1]!, mib: bytes / 2 ** 20 })) },
      mark: { type: "circle", opacity: 0.8 },
      encoding: { latitude: { field: "lat", type: "quantitative" }, longitude: { field: "lon", type: "quantitative" }, color: { field: "mib", type: "quantitative", title: "MiB", scale: { scheme: "inferno", reverse: true } }, size: { value: 30 } }
    }
  ]))
}
