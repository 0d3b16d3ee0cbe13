/**
 * Overload: the replay workload at several multiples of the trace's request rate, with satellites that
 * take time to handle cache messages (a service rate) and bounded mailboxes. Shows what a flood does:
 * latency grows, memory stays bounded (mailboxes never exceed their bound, the event queue stays
 * small), and every request ends served, missed or rejected with a reason; none disappears.
 * `npx tsx experiments/flood.ts --rates 1,10 --requests 500 --json`
 */
import { strategyNames } from "../src/cache/strategies.js"
import { makeRunConfig, type RunReport } from "../src/actors/index.js"
import { runSky, Workers } from "../src/actors/hosts.js"
import { Effect } from "effect"
import { RECORD_BYTES } from "../src/runtime/record.js"
import { readTrace } from "../src/actors/trace-file.js"
import { flag, parseCli, runMain, traceFlags } from "./lib/cli.js"
import { atFlag, catalogFlags, presetFlag, resolveConstellation } from "./lib/constellation-flags.js"
import { fmt, printResult } from "./lib/output.js"
import { type ChartSpec, writeChart } from "./lib/plot.js"
import { makeProgress } from "./lib/progress.js"
import { writeIndex } from "./lib/report-index.js"
import { openRunDirectory } from "./lib/results.js"

const spec = {
  name: "flood",
  summary: "the replay workload at multiples of the trace's request rate: latency, bounded memory, every request accounted for",
  flags: {
    rates: flag.intList("request rate as multiples of the trace's", [1, 3, 10]),
    ...traceFlags(500),
    preset: presetFlag("starlink-shell1"),
    ...catalogFlags,
    at: atFlag,
    strategy: flag.choice("placement strategy", strategyNames, "ours"),
    serviceMbps: flag.number("bytes a satellite's cache handles per second, Mbit/s (100: the trace at 1x loads the busiest satellites moderately, 10x saturates them)", 100, { min: 0.001 }),
    serviceUs: flag.number("fixed handling time per cache message, microseconds", 20, { min: 0 }),
    mailbox: flag.number("satellite mailbox bound, messages", 256, { min: 1, integer: true }),
    maxInFlight: flag.number("requests one client may have waiting", 16, { min: 1, integer: true }),
    workers: flag.number("worker threads", 1, { min: 1, max: 64, integer: true })
  }
}

export interface FloodRow {
  readonly rate: number
  readonly issued: number
  readonly served: number
  readonly missed: number
  readonly rejected: number
  /** Rejections by reason: a satellite's mailbox was full; the client already had maxInFlight waiting. */
  readonly rejectedSatelliteMailbox: number
  readonly rejectedClientBacklog: number
  /** Misses that were lost answers ending at the client's deadline (part of `missed`). */
  readonly timedOut: number
  /** issued - served - missed - rejected: requests with no outcome (must be 0). */
  readonly unaccounted: number
  readonly hitRate: number
  readonly retrievalMs: { readonly p50: number; readonly p99: number }
  readonly peakMailbox: number
  readonly peakQueueMB: number
  readonly writesRejected: number
  readonly rssMB: number
}

const row = (rate: number, r: RunReport): FloodRow => {
  const c = (name: string) => r.counters[name] ?? 0
  const [served, missed, rejected] = [c("outcome.served"), c("outcome.missed"), c("outcome.rejected")]
  return {
    rate, issued: c("issued"), served, missed, rejected,
    rejectedSatelliteMailbox: c("rejectedBy.satelliteMailbox"), rejectedClientBacklog: c("rejectedBy.clientBacklog"), timedOut: c("timedOut"),
    unaccounted: c("issued") - served - missed - rejected,
    hitRate: c("hitBlocks") / Math.max(1, c("blocks")),
    retrievalMs: { p50: r.retrieval.p50Ms, p99: r.retrieval.p99Ms },
    peakMailbox: r.peakMailbox, peakQueueMB: (r.peakQueueRecords * RECORD_BYTES) / 2 ** 20,
    writesRejected: c("writesRejected"), rssMB: r.rssMB
  }
}

runMain(async () => {
  const o = parseCli(spec)
  const { catalog, where } = resolveConstellation(o)
  const trace = readTrace(o.trace, { limit: o.requests })
  const lastSeconds = Math.max(...trace.requests.map((r) => r.timestamp)) / 1000
  const dir = openRunDirectory("flood", { ...o, json: undefined, quiet: undefined, help: undefined })
  const rows: Array<FloodRow> = []
  for (const rate of o.rates) {
    // Until the last request has had its deadline (30 s) and some to spare.
    const simSeconds = lastSeconds / rate + 60
    const config = makeRunConfig({
      preset: o.preset, catalog, seed: o.seed, simSeconds, workload: "replay", users: 0,
      satelliteServiceBytesPerSecond: (o.serviceMbps * 1e6) / 8, satelliteServiceSecondsPerMessage: o.serviceUs * 1e-6,
      satelliteMailboxMessages: o.mailbox, clientMaxInFlight: o.maxInFlight,
      replay: { ...makeRunConfig().replay, tracePath: o.trace, requests: trace.requests.length, strategy: o.strategy, rateScale: rate }
    })
    const progress = makeProgress(`flood ${rate}x`, simSeconds, o.quiet || o.json)
    const report = await Effect.runPromise(runSky(config).pipe(Effect.provide(Workers({ workers: o.workers, onProgress: (p) => progress.update(p.virtualTime, p.delivered) }))))
    progress.stop()
    rows.push(row(rate, report))
  }
  dir.writeJson("results.json", rows)
  dir.writeCsv("results.csv", rows.map((r) => ({ ...r, retrievalMs: undefined, p50Ms: r.retrievalMs.p50, p99Ms: r.retrievalMs.p99 })))
  const schema = "https://vega.github.io/schema/vega-lite/v5.json"
  await writeChart(dir.writeText, "latency-vs-rate", {
    $schema: schema, title: "Retrieval latency of hits vs. request rate", width: 420, height: 260,
    data: { values: rows.flatMap((r) => [{ rate: r.rate, q: "p50", ms: r.retrievalMs.p50 }, { rate: r.rate, q: "p99", ms: r.retrievalMs.p99 }]) },
    mark: { type: "line", point: true },
    encoding: { x: { field: "rate", type: "quantitative", scale: { type: "log" }, title: "request rate, x trace" }, y: { field: "ms", type: "quantitative", title: "ms" }, color: { field: "q", type: "nominal" } }
  } as ChartSpec)
  await writeChart(dir.writeText, "outcomes", {
    $schema: schema, title: "How each request ended", width: 420, height: 260,
    data: { values: rows.flatMap((r) => [["served", r.served], ["missed", r.missed], ["rejected: satellite mailbox", r.rejectedSatelliteMailbox], ["rejected: client backlog", r.rejectedClientBacklog]].map(([outcome, n]) => ({ rate: `${r.rate}x`, outcome, n }))) },
    mark: "bar",
    encoding: { x: { field: "rate", type: "nominal", sort: null, axis: { labelAngle: 0 } }, y: { field: "n", type: "quantitative", title: "requests" }, color: { field: "outcome", type: "nominal", legend: { labelLimit: 0 } } }
  } as ChartSpec)
  dir.writeSummary(Object.fromEntries(rows.flatMap((r) => [[`${r.rate}x p99 ms`, r.retrievalMs.p99], [`${r.rate}x rejected`, r.rejected], [`${r.rate}x unaccounted`, r.unaccounted]])))
  writeIndex()
  printResult(o.json, rows, () => [
    `flood: ${trace.requests.length} requests of ${o.trace} on ${where} (${o.strategy}); satellites ${o.serviceMbps} Mbit/s + ${o.serviceUs} us per message, mailbox ${o.mailbox}, ${o.maxInFlight} in flight per client; written to ${dir.path}`,
    "rate   issued   served   missed (timed out)   rejected: mailbox / backlog   unaccounted   hit rate   p50 / p99 ms      peak mailbox   peak queue MB   RSS MB   writes refused",
    ...rows.map((r) => `${`${r.rate}x`.padStart(4)} ${String(r.issued).padStart(8)} ${String(r.served).padStart(8)} ${`${r.missed} (${r.timedOut})`.padStart(20)}   ${`${r.rejectedSatelliteMailbox} / ${r.rejectedClientBacklog}`.padStart(27)} ${String(r.unaccounted).padStart(13)} ${fmt(r.hitRate, 4).padStart(10)}   ${`${fmt(r.retrievalMs.p50, 0)} / ${fmt(r.retrievalMs.p99, 0)}`.padStart(14)} ${String(r.peakMailbox).padStart(14)} ${fmt(r.peakQueueMB, 1).padStart(15)} ${fmt(r.rssMB, 0).padStart(8)} ${String(r.writesRejected).padStart(16)}`)
  ].join("\n"))
})
