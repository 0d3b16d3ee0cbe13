/**
 * Replay a Mooncake request trace against the emulated constellation through the actor runtime: users
 * (one per conversation) at population-weighted cities, each request a directory lookup, a fetch of the
 * cached prefix from its S servers, and puts of its new blocks. One run per strategy x codec x capacity x
 * seed, side by side on the worker pool (one whole run per worker: the results do not depend on
 * --workers). Every request's time to first token on --device (its lookup, then the prefill of what was
 * not cached) beside the same request's without a cache; paired differences between strategies over
 * seeds with 95% bootstrap intervals.
 * `npx tsx experiments/replay.ts --trace data/traces/mooncake-conversation.jsonl.gz --preset starlink-shell1 --strategy all --codec all --capacity-mb 256 --requests all --seeds 3 --device jetson-orin-nano-8gb --json`
 * (`--capacity-mb 64,256,1024,4096` draws the capacity curve).
 */
import { codecNames } from "../src/cache/codecs.js"
import { evictionPolicies } from "../src/cache/store.js"
import { strategyNames } from "../src/cache/strategies.js"
import { oracleHitRate } from "../src/cache/trace.js"
import { deviceProfiles } from "../src/inference/devices.js"
import { makeRunConfig, type RunConfig, type RunReport } from "../src/actors/index.js"
import { runEach } from "../src/actors/run.js"
import { readTrace } from "../src/actors/trace-file.js"
import { type Constellation, ephemerisOf, subSatellitePoints } from "../src/topology/index.js"
import { flag, parseCli, runMain, traceFlags } from "./lib/cli.js"
import { atFlag, catalogFlags, presetFlag, resolveConstellation } from "./lib/constellation-flags.js"
import { fmt, printResult } from "./lib/output.js"
import { makeStepProgress } from "./lib/progress.js"
import { writeChart, type ChartSpec } from "./lib/plot.js"
import { writeIndex } from "./lib/report-index.js"
import { openRunDirectory, type RunDirectory } from "./lib/results.js"
import { pairedBootstrap } from "./lib/stats.js"
import { worldMap } from "./lib/world-map.js"

const STRATEGIES = strategyNames as ReadonlyArray<string>
const CODECS = codecNames.filter((c) => c === "fp16" || c === "int8")
/** Hit rate over time is reported in buckets of this many seconds (the runs count in 10-s buckets). */
const HIT_RATE_BUCKET_SECONDS = 300

const spec = {
  name: "replay",
  summary: "a request trace through the cache protocol: hit rate, TTFT of every request, retrieval latency, migration traffic",
  flags: {
    ...traceFlags(1000),
    preset: presetFlag("starlink-shell1"),
    ...catalogFlags,
    at: atFlag,
    strategy: flag.choiceList("placement strategies", STRATEGIES, STRATEGIES),
    codec: flag.choiceList("KV codecs of the shares: every strategy runs with each", CODECS, ["fp16"]),
    capacityMb: flag.intList("store capacity per satellite, MiB; several values draw the capacity curve", [1024]),
    seeds: flag.number("seeds --seed, --seed + 1, ... (users' places, the salt of the block keys' hashes, fault draws): K runs per configuration", 1, { min: 1, max: 100, integer: true, placeholder: "K" }),
    device: flag.choice("device whose prefill time each request's TTFT adds (Qwen2.5-0.5B)", deviceProfiles.map((d) => d.name), "jetson-orin-nano-8gb"),
    servers: flag.number("servers S per block", 9, { min: 1, max: 255, integer: true }),
    policy: flag.choice("eviction policy", evictionPolicies, "lru"),
    beaconInterval: flag.number("seconds between a satellite's beacons to its ISL neighbours; 0 = none, but for a strategy that chooses anchors by load (ours), which reads the loads beacons carry: every 30 s", 0, { min: 0, placeholder: "S" }),
    workers: flag.number("worker threads: configurations run side by side, one whole run per worker", 1, { min: 1, max: 64, integer: true }),
    lenient: flag.boolean("skip malformed trace lines and catalog records (counted) instead of stopping at the first")
  }
}

interface Percentiles { readonly p50: number; readonly p90: number; readonly p99: number }

export interface ReplayRow {
  readonly strategy: string
  readonly codec: string
  readonly capacityMb: number
  readonly seed: number
  readonly device: string
  readonly requests: number
  readonly blocks: number
  readonly hitBlocks: number
  readonly hitRate: number
  readonly oracleHitRate: number
  /** Time to first token over every request (hit, partial or miss), ms. */
  readonly ttftMs: Percentiles & { readonly mean: number }
  /** The same requests without a cache (the whole prompt prefilled), ms. */
  readonly coldTtftMs: Percentiles & { readonly mean: number }
  /** Lookup-to-last-share time of the requests with at least one block served from the cache, ms. */
  readonly hitRetrievalMs: Percentiles
  readonly migrationBytes: number
  /** Bytes of the copies readers placed near themselves (strategies with replicateBeyondHops: ours). */
  readonly replicaBytes: number
  readonly evictions: number
  /** The run's own time (the engine's, start-up excluded), s. */
  readonly wallSeconds: number
  /** Block hit rate per 5-minute bucket of virtual time: drift shows here. */
  readonly hitRateOverTime: ReadonlyArray<{ readonly fromSeconds: number; readonly hitRate: number }>
}

interface Run {
  readonly strategy: string
  readonly codec: "fp16" | "int8"
  readonly capacityMb: number
  readonly seed: number
  readonly config: RunConfig
}

const percentiles = (l: { p50Ms: number; p90Ms: number; p99Ms: number }): Percentiles => ({ p50: l.p50Ms, p90: l.p90Ms, p99: l.p99Ms })

const hitRateOverTime = (r: RunReport) => {
  const buckets = new Map<number, { blocks: number; hit: number }>()
  const add = (series: Record<string, number> | undefined, key: "blocks" | "hit") => {
    for (const [t, n] of Object.entries(series ?? {})) {
      const from = Math.floor(Number(t) / HIT_RATE_BUCKET_SECONDS) * HIT_RATE_BUCKET_SECONDS
      const b = buckets.get(from) ?? { blocks: 0, hit: 0 }
      b[key] += n
      buckets.set(from, b)
    }
  }
  add(r.series.blocks, "blocks")
  add(r.series.hitBlocks, "hit")
  return [...buckets].sort((a, b) => a[0] - b[0]).map(([fromSeconds, b]) => ({ fromSeconds, hitRate: b.hit / Math.max(1, b.blocks) }))
}

const row = (run: Run, r: RunReport, oracle: number, device: string): ReplayRow => {
  const c = r.counters
  const requests = c.requests ?? 0
  return {
    strategy: run.strategy, codec: run.codec, capacityMb: run.capacityMb, seed: run.seed, device,
    requests,
    blocks: c.blocks ?? 0,
    hitBlocks: c.hitBlocks ?? 0,
    hitRate: (c.hitBlocks ?? 0) / Math.max(1, c.blocks ?? 0),
    oracleHitRate: oracle,
    // Means from exact integer-microsecond sums; percentiles from the histograms (3 significant digits).
    ttftMs: { mean: (c.ttftMicros ?? 0) / 1e3 / Math.max(1, requests), ...percentiles(r.latency.ttft!) },
    coldTtftMs: { mean: (c.coldTtftMicros ?? 0) / 1e3 / Math.max(1, requests), ...percentiles(r.latency.coldTtft!) },
    hitRetrievalMs: percentiles(r.retrieval),
    migrationBytes: c.migrationBytes ?? 0,
    replicaBytes: c.replicaBytes ?? 0,
    evictions: r.evictions,
    wallSeconds: r.wallSeconds,
    hitRateOverTime: hitRateOverTime(r)
  }
}

/** Paired differences (a - b) over seeds, per codec and capacity, with 95% bootstrap intervals. */
export interface PairedDifference {
  readonly codec: string
  readonly capacityMb: number
  readonly a: string
  readonly b: string
  readonly measure: "hitRate" | "meanTtftMs" | "p99TtftMs" | "migrationBytes"
  readonly mean: number
  readonly lo: number
  readonly hi: number
  readonly seeds: number
}

const MEASURES = {
  hitRate: (r: ReplayRow) => r.hitRate,
  meanTtftMs: (r: ReplayRow) => r.ttftMs.mean,
  p99TtftMs: (r: ReplayRow) => r.ttftMs.p99,
  migrationBytes: (r: ReplayRow) => r.migrationBytes
} as const

const pairedDifferences = (rows: ReadonlyArray<ReplayRow>, strategies: ReadonlyArray<string>): Array<PairedDifference> => {
  const out: Array<PairedDifference> = []
  const groups = new Map<string, Array<ReplayRow>>()
  for (const r of rows) groups.set(`${r.codec}@${r.capacityMb}`, [...(groups.get(`${r.codec}@${r.capacityMb}`) ?? []), r])
  for (const group of groups.values()) {
    const { codec, capacityMb } = group[0]!
    for (const [i, a] of strategies.entries()) {
      for (const b of strategies.slice(i + 1)) {
        for (const [measure, f] of Object.entries(MEASURES) as Array<[PairedDifference["measure"], (r: ReplayRow) => number]>) {
          const diffs = group.filter((r) => r.strategy === a).flatMap((ra) => {
            const rb = group.find((r) => r.strategy === b && r.seed === ra.seed)
            return rb ? [f(ra) - f(rb)] : []
          })
          out.push({ codec, capacityMb, a, b, measure, ...pairedBootstrap(diffs, { seed: 1 }), seeds: diffs.length })
        }
      }
    }
  }
  return out
}

runMain(async () => {
  const o = parseCli(spec)
  const { catalog, where, constellation } = resolveConstellation({ ...o, lenient: o.lenient && o.tle !== undefined })
  const trace = readTrace(o.trace, { limit: o.requests, lenient: o.lenient })
  if (trace.skipped.length > 0) process.stderr.write(`replay: skipped ${trace.skipped.length} malformed lines (first: ${trace.skipped[0]!.message})\n`)
  if (trace.requests.length === 0) throw Object.assign(new Error(`the trace ${o.trace} has no requests`), { field: "--trace" })
  const requests = trace.requests.length
  const oracle = oracleHitRate(trace.requests).hitRate
  // Run until the last request has had a minute to finish.
  const simSeconds = Math.max(...trace.requests.map((r) => r.timestamp)) / 1000 + 60
  const strategies = o.strategy
  const seeds = Array.from({ length: o.seeds }, (_, k) => o.seed + k)
  const runs: Array<Run> = o.capacityMb.flatMap((capacityMb) => o.codec.flatMap((codec) => strategies.flatMap((strategy) => seeds.map((seed) => ({
    strategy, codec, capacityMb, seed,
    config: makeRunConfig({
      preset: o.preset, catalog, seed, simSeconds, workload: "replay", users: 0, beaconIntervalSeconds: o.beaconInterval,
      capacityBytesPerSatellite: Math.round(capacityMb * 2 ** 20),
      replay: { ...makeRunConfig().replay, tracePath: o.trace, requests, strategy, servers: o.servers, storePolicy: o.policy, codec, device: o.device }
    })
  })))))
  const dir = openRunDirectory("replay", { seed: o.seed, preset: where, ...(catalog.path !== "" ? { catalog } : {}), trace: o.trace, requests, servers: o.servers, policy: o.policy, codecs: o.codec, strategies, capacityMb: o.capacityMb, seeds, device: o.device, beaconInterval: o.beaconInterval, simSeconds })
  const progress = makeStepProgress("replay", runs.length, o.quiet || o.json)
  const reports = await runEach(runs.map((r) => r.config), { workers: o.workers, onDone: (i) => progress.step(`${runs[i]!.strategy} ${runs[i]!.codec} ${runs[i]!.capacityMb} MiB seed ${runs[i]!.seed}`) })
  progress.stop()
  const rows = runs.map((run, i) => row(run, reports[i]!, oracle, o.device))
  const differences = pairedDifferences(rows, strategies)
  const biggest = Math.max(...o.capacityMb)
  const first = (r: Run) => r.seed === seeds[0] && r.codec === o.codec[0]
  dir.writeJson("results.json", rows)
  dir.writeJson("differences.json", differences)
  dir.writeCsv("results.csv", rows.map((r) => ({
    strategy: r.strategy, codec: r.codec, capacityMb: r.capacityMb, seed: r.seed, device: r.device, requests: r.requests, blocks: r.blocks, hitBlocks: r.hitBlocks,
    hitRate: r.hitRate, oracleHitRate: r.oracleHitRate, ttftMeanMs: r.ttftMs.mean, ttftP50Ms: r.ttftMs.p50, ttftP90Ms: r.ttftMs.p90, ttftP99Ms: r.ttftMs.p99,
    coldTtftMeanMs: r.coldTtftMs.mean, coldTtftP99Ms: r.coldTtftMs.p99, hitRetrievalP50Ms: r.hitRetrievalMs.p50, hitRetrievalP99Ms: r.hitRetrievalMs.p99,
    migrationBytes: r.migrationBytes, replicaBytes: r.replicaBytes, evictions: r.evictions, wallSeconds: r.wallSeconds
  })))
  await writeReplayCharts(dir, constellation, simSeconds, rows, differences, oracle, runs.flatMap((run, i) => (first(run) && run.capacityMb === biggest ? [[run.strategy, reports[i]!] as const] : [])))
  const summaryRows = rows.filter((r) => r.capacityMb === biggest && r.seed === seeds[0])
  dir.writeSummary({
    preset: where, requests, capacityMb: biggest, seeds: seeds.length, device: o.device, oracleHitRate: oracle,
    ...Object.fromEntries(summaryRows.flatMap((r) => [[`${r.strategy} ${r.codec} hit rate`, r.hitRate], [`${r.strategy} ${r.codec} mean TTFT ms`, r.ttftMs.mean]]))
  })
  writeIndex()
  const reference = strategies.includes("ours") ? "ours" : strategies[0]!
  printResult(o.json, rows, () =>
    [
      `replay: ${requests} requests of ${o.trace} on ${where}, S = ${o.servers}, ${o.policy}, TTFT on ${o.device}; oracle hit rate ${fmt(oracle, 4)}; seeds ${seeds.join(",")}; written to ${dir.path}`,
      "strategy       codec   MiB/sat  seed   hit rate   TTFT mean / p50 / p99 ms (cold mean)      hit retrieval p50 / p99 ms   migration GB   copies GB   evictions   run s",
      ...rows.map((r) => `${r.strategy.padEnd(14)} ${r.codec.padEnd(5)} ${String(r.capacityMb).padStart(9)} ${String(r.seed).padStart(5)} ${fmt(r.hitRate, 4).padStart(10)}   ${`${fmt(r.ttftMs.mean, 0)} / ${fmt(r.ttftMs.p50, 0)} / ${fmt(r.ttftMs.p99, 0)} (${fmt(r.coldTtftMs.mean, 0)})`.padStart(34)}   ${`${fmt(r.hitRetrievalMs.p50, 0)} / ${fmt(r.hitRetrievalMs.p99, 0)}`.padStart(26)}   ${fmt(r.migrationBytes / 1e9, 1).padStart(12)}   ${fmt(r.replicaBytes / 1e9, 1).padStart(9)}   ${String(r.evictions).padStart(9)} ${fmt(r.wallSeconds, 1).padStart(7)}`),
      "",
      `paired differences over ${seeds.length} seed(s), ${reference} - other, mean [95% bootstrap interval]:`,
      ...differences.filter((d) => d.a === reference || d.b === reference).filter((d) => d.measure !== "migrationBytes").map((d) => {
        const sign = d.a === reference ? 1 : -1
        const [lo, hi] = sign === 1 ? [d.lo, d.hi] : [-d.hi, -d.lo]
        const digits = d.measure === "hitRate" ? 4 : 0
        return `  ${d.codec} ${d.capacityMb} MiB  vs ${(d.a === reference ? d.b : d.a).padEnd(13)} ${d.measure.padEnd(11)} ${fmt(sign * d.mean, digits).padStart(9)} [${fmt(lo, digits)}, ${fmt(hi, digits)}]`
      })
    ].join("\n"))
})

/** The replay's pictures: capacity curve against the oracle, hit rate over time, paired differences, latency CDFs, migration, occupancy. */
const writeReplayCharts = async (
  dir: RunDirectory, c: Constellation.Constellation, endSeconds: number, rows: ReadonlyArray<ReplayRow>, differences: ReadonlyArray<PairedDifference>, oracle: number,
  runs: ReadonlyArray<readonly [string, RunReport]>
) => {
  const schema = "https://vega.github.io/schema/vega-lite/v5.json"
  const firstSeed = Math.min(...rows.map((r) => r.seed))
  await writeChart(dir.writeText, "hit-rate-vs-capacity", {
    $schema: schema, title: `Hit rate vs. capacity per satellite, seed ${firstSeed} (dashed: oracle, unbounded cache)`, width: 480, height: 300,
    layer: [
      { data: { values: rows.filter((r) => r.seed === firstSeed).map((r) => ({ ...r, series: `${r.strategy} ${r.codec}` })) }, mark: { type: "line", point: true }, encoding: { x: { field: "capacityMb", type: "quantitative", scale: { type: "log" }, title: "capacity per satellite, MiB" }, y: { field: "hitRate", type: "quantitative", title: "block hit rate" }, color: { field: "series", type: "nominal" } } },
      { data: { values: [{ oracle }] }, mark: { type: "rule", strokeDash: [6, 4] }, encoding: { y: { field: "oracle", type: "quantitative" } } }
    ]
  } as ChartSpec)
  await writeChart(dir.writeText, "hit-rate-over-time", {
    $schema: schema, title: `Block hit rate per 5-minute bucket, seed ${firstSeed} (drift shows as a fall)`, width: 480, height: 300,
    data: { values: rows.filter((r) => r.seed === firstSeed).flatMap((r) => r.hitRateOverTime.map((b) => ({ series: `${r.strategy} ${r.codec} ${r.capacityMb} MiB`, minute: b.fromSeconds / 60, hitRate: b.hitRate }))) },
    mark: { type: "line", point: true },
    encoding: { x: { field: "minute", type: "quantitative", title: "virtual time, min" }, y: { field: "hitRate", type: "quantitative", title: "block hit rate" }, color: { field: "series", type: "nominal" } }
  } as ChartSpec)
  await writeChart(dir.writeText, "paired-differences", {
    $schema: schema, title: "Paired differences over seeds (a - b), mean and 95% bootstrap interval", width: 360, height: 240,
    data: { values: differences.filter((d) => d.measure !== "migrationBytes").map((d) => ({ ...d, pair: `${d.a} - ${d.b} (${d.codec}, ${d.capacityMb} MiB)` })) },
    facet: { column: { field: "measure", type: "nominal" } },
    spec: {
      layer: [
        { mark: "rule", encoding: { y: { field: "pair", type: "nominal", title: null }, x: { field: "lo", type: "quantitative", title: "difference" }, x2: { field: "hi" } } },
        { mark: { type: "point", filled: true }, encoding: { y: { field: "pair", type: "nominal" }, x: { field: "mean", type: "quantitative" } } }
      ]
    },
    resolve: { scale: { x: "independent" } }
  } as ChartSpec)
  await writeChart(dir.writeText, "hit-retrieval-cdf", {
    $schema: schema, title: "Retrieval latency of requests with a hit only (CDF)", width: 480, height: 300,
    data: { values: runs.flatMap(([strategy, r]) => r.retrieval.cdf.map((p) => ({ strategy, ms: p.ms, fraction: p.percentile / 100 }))) },
    mark: "line",
    encoding: { x: { field: "ms", type: "quantitative", scale: { type: "log" }, title: "retrieval latency of hits, ms" }, y: { field: "fraction", type: "quantitative", title: "fraction of requests with a hit" }, color: { field: "strategy", type: "nominal" } }
  } as ChartSpec)
  await writeChart(dir.writeText, "ttft-cdf", {
    $schema: schema, title: "Time to first token of every request (CDF)", width: 480, height: 300,
    data: { values: runs.flatMap(([strategy, r]) => r.latency.ttft!.cdf.map((p) => ({ strategy, ms: p.ms, fraction: p.percentile / 100 }))) },
    mark: "line",
    encoding: { x: { field: "ms", type: "quantitative", scale: { type: "log" }, title: "TTFT, ms" }, y: { field: "fraction", type: "quantitative", title: "fraction of requests" }, color: { field: "strategy", type: "nominal" } }
  } as ChartSpec)
  await writeChart(dir.writeText, "migration-over-time", {
    $schema: schema, title: "Migration traffic over time (10-s buckets)", width: 480, height: 300,
    data: { values: runs.flatMap(([strategy, r]) => Object.entries(r.series.migrationBytes ?? {}).map(([t, bytes]) => ({ strategy, t: Number(t), mb: bytes / 2 ** 20 }))) },
    mark: { type: "line", point: true },
    encoding: { x: { field: "t", type: "quantitative", title: "virtual time, s" }, y: { field: "mb", type: "quantitative", title: "MiB migrated" }, color: { field: "strategy", type: "nominal" } }
  } as ChartSpec)
  // Occupancy at the end of the run, for the first placement-aware strategy.
  const [strategy, r] = runs.find(([s]) => s !== "baseline") ?? runs[0]!
  const eph = ephemerisOf(c)
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
