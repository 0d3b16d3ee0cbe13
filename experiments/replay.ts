/**
 * Replay a Mooncake request trace against the emulated constellation through the actor runtime: users
 * (one per conversation) at population-weighted cities, each request a directory lookup, a fetch of the
 * cached prefix from its S servers, and puts of its new blocks; one run per strategy.
 * `npx tsx experiments/replay.ts --trace data/traces/mooncake-conversation.jsonl.gz --preset starlink-shell1 --strategy all --capacity-mb 1024 --requests 1000 --seed 1 --json`
 */
import { oracleHitRate } from "../src/cache/trace.js"
import { makeRunConfig, type RunReport, runOnWorkers } from "../src/runtime/index.js"
import { readTrace } from "../src/runtime/trace-file.js"
import { presetNames } from "../src/topology/index.js"
import { flag, parseCli, runMain } from "./lib/cli.js"
import { fmt, printResult } from "./lib/output.js"
import { makeProgress } from "./lib/progress.js"
import { openRunDirectory } from "./lib/results.js"

const STRATEGIES = ["rotation", "hop", "hop_rotation", "baseline"] as const

const spec = {
  name: "replay",
  summary: "a request trace through the cache protocol: hit rate, retrieval latency, migration traffic",
  flags: {
    trace: flag.string("Mooncake-format trace (.jsonl or .jsonl.gz)", "data/traces/mooncake-conversation.jsonl.gz", "PATH"),
    preset: flag.choice("named constellation", presetNames, "starlink-shell1"),
    strategy: flag.choice("placement strategy", [...STRATEGIES, "all"] as const, "all"),
    capacityMb: flag.number("store capacity per satellite, MiB", 1024, { min: 0 }),
    requests: flag.number("replay the first N requests", 1000, { min: 1, integer: true }),
    servers: flag.number("servers S per block", 9, { min: 1, max: 255, integer: true }),
    policy: flag.choice("eviction policy", ["lru", "slru"] as const, "lru"),
    workers: flag.number("worker threads", 1, { min: 1, max: 64, integer: true }),
    lenient: flag.boolean("skip malformed trace lines (counted) instead of stopping at the first")
  }
}

export interface ReplayRow {
  readonly strategy: string
  readonly requests: number
  readonly blocks: number
  readonly hitBlocks: number
  readonly hitRate: number
  readonly oracleHitRate: number
  readonly retrievalMs: { readonly p50: number; readonly p90: number; readonly p99: number }
  readonly migrationBytes: number
  readonly evictions: number
}

const row = (strategy: string, r: RunReport, oracle: number): ReplayRow => {
  const c = r.counters
  return {
    strategy,
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
  const base = {
    preset: o.preset, seed: o.seed, simSeconds, workload: "replay" as const,
    capacityBytesPerSatellite: Math.round(o.capacityMb * 2 ** 20), users: 0
  }
  const dir = openRunDirectory("replay", { ...base, trace: o.trace, requests: o.requests, servers: o.servers, policy: o.policy, strategies })
  for (const strategy of strategies) {
    const config = makeRunConfig({
      ...base,
      replay: { ...makeRunConfig().replay, tracePath: o.trace, requests: o.requests, strategy, servers: o.servers, storePolicy: o.policy }
    })
    const progress = makeProgress(`replay ${strategy}`, simSeconds, o.quiet || o.json)
    const report = await runOnWorkers(config, { workers: o.workers, onProgress: (p) => progress.update(p.virtualTime, p.delivered) })
    progress.stop()
    rows.push(row(strategy, report, oracle))
  }
  dir.writeJson("results.json", rows)
  dir.writeCsv("results.csv", rows.map((r) => ({ ...r, retrievalMs: undefined, p50Ms: r.retrievalMs.p50, p90Ms: r.retrievalMs.p90, p99Ms: r.retrievalMs.p99 })))
  printResult(o.json, rows, () =>
    [
      `replay: ${o.requests} requests of ${o.trace} on ${o.preset}, S = ${o.servers}, ${o.capacityMb} MiB per satellite (${o.policy}); oracle hit rate ${fmt(oracle, 4)}; written to ${dir.path}`,
      "strategy       hit rate   of oracle   retrieval p50 / p90 / p99 ms        migration GB   evictions",
      ...rows.map((r) => `${r.strategy.padEnd(14)} ${fmt(r.hitRate, 4).padStart(8)}   ${fmt(r.hitRate / r.oracleHitRate, 3).padStart(9)}   ${`${fmt(r.retrievalMs.p50, 0)} / ${fmt(r.retrievalMs.p90, 0)} / ${fmt(r.retrievalMs.p99, 0)}`.padStart(28)}   ${fmt(r.migrationBytes / 1e9, 1).padStart(12)}   ${String(r.evictions).padStart(9)}`)
    ].join("\n"))
})
