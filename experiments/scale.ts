/**
 * The standard workload at scale: every satellite beacons its four ISL neighbours once per simulated
 * second, and ground users put and get chunks at their key's home satellite, through the actor runtime
 * in virtual time on a piscina pool.
 * `npx tsx experiments/scale.ts --preset starlink-shell1 --sim-seconds 60 --workers 2 --json`
 * `npx tsx experiments/scale.ts --tle starlink.tle --sim-seconds 60 --workers 1 --json` (a real catalog)
 */
import { appendFileSync, renameSync, writeFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { Effect } from "effect"
import { fromEnvelope } from "../src/actors/protocol.js"
import type { Envelope } from "../src/runtime/behaviour.js"
import { makeRunConfig, type RunReport } from "../src/actors/index.js"
import { InProcess, runSky, Workers } from "../src/actors/hosts.js"
import { measureBytesPerSatellite } from "../src/runtime/memory.js"
import { Mailboxes } from "../src/runtime/mailbox.js"
import { buildShard } from "../src/runtime/build.js"
import { makeWorld } from "../src/actors/world.js"
import { CliError, flag, parseCli, runMain } from "./lib/cli.js"
import { atFlag, catalogFlags, presetFlag, resolveConstellation } from "./lib/constellation-flags.js"
import { crossingRecorder, fewestWindows } from "./lib/coupling.js"
import { fmt, printResult } from "./lib/output.js"
import { writeIndex } from "./lib/report-index.js"
import { openRunDirectory } from "./lib/results.js"
import { makeProgress } from "./lib/progress.js"

export const scaleSpec = {
  name: "scale",
  summary: "emulator speed and memory on the standard workload (beacons + ground cache traffic)",
  flags: {
    preset: presetFlag("paper-19x5"),
    ...catalogFlags,
    at: atFlag,
    simSeconds: flag.number("virtual seconds to simulate", 10, { min: 0.001, placeholder: "S" }),
    workers: flag.number("worker threads (piscina), one shard each", 2, { min: 1, max: 64, integer: true, placeholder: "W" }),
    users: flag.number("ground users issuing cache requests", 32, { min: 0, integer: true }),
    requestRate: flag.number("requests per second per user", 2, { min: 0 }),
    realtime: flag.number("pace to the wall clock: 1 = live, 0 = as fast as possible", 0, { min: 0, placeholder: "FACTOR" }),
    inProcess: flag.boolean("run every shard in the main thread (no worker pool)"),
    messages: flag.optionalString("write every delivered message to FILE, one JSON object a line, each validated by its schema (runs in-process)", "FILE"),
    coupling: flag.boolean("count the hops between shards and the fewest windows any barrier-synchronous run of them could take (runs in-process)"),
    unsynchronised: flag.boolean("a ceiling, not a valid run: shards run whole epochs without waiting for each other, and what arrives in a shard's past is delivered late; the wall time bounds what any synchronisation protocol could reach")
  }
}

/** The scale contract's fields (see the runtime issue), plus what explains them. */
export type ScaleResult = Pick<RunReport,
  | "preset" | "satellites" | "users" | "workers" | "simSeconds" | "startSeconds" | "wallSeconds" | "events"
  | "eventsPerSecond" | "speedup" | "rssMB" | "traceHash" | "sent" | "dropped" | "inFlight" | "windows" | "barrierWaitShare"
> & {
  readonly bytesPerActor: number
  readonly retrievalMs: { readonly p50: number; readonly p90: number; readonly p99: number }
  /** With --coupling (experiments/lib/coupling.ts). */
  readonly coupling?: { readonly crossings: number; readonly crossingsPerVirtualSecond: number; readonly fewestWindows: number }
  /** With --unsynchronised: records delivered after their time (the run's other results are not valid). */
  readonly unsynchronised?: { readonly lateArrivals: number }
}

export const toScaleResult = (r: RunReport, bytesPerActor: number): ScaleResult => ({
  preset: r.preset, satellites: r.satellites, users: r.users, workers: r.workers, simSeconds: r.simSeconds,
  startSeconds: r.startSeconds, wallSeconds: r.wallSeconds, events: r.events, eventsPerSecond: r.eventsPerSecond,
  speedup: r.speedup, rssMB: r.rssMB, bytesPerActor, traceHash: r.traceHash, sent: r.sent, dropped: r.dropped,
  inFlight: r.inFlight, windows: r.windows, barrierWaitShare: r.barrierWaitShare,
  retrievalMs: { p50: r.retrieval.p50Ms, p90: r.retrieval.p90Ms, p99: r.retrieval.p99Ms }
})

/** Heap per satellite actor (world, topology replica, queue, state) measured by building one shard here. */
export const bytesPerSatellite = (config: ReturnType<typeof makeRunConfig>) => {
  const world = makeWorld(config)
  return measureBytesPerSatellite(() => {
    const w = makeWorld(config)
    return buildShard(w, { index: 0, shards: 1, owner: w.ownership(1), mailboxes: Mailboxes.allocate(1, 16), shared: new SharedArrayBuffer(0) })
  }, world.satellites)
}

/**
 * The message log: every delivered message as its structured form (protocol.ts fromEnvelope: named
 * fields, validated by the message's Schema), one JSON object a line, in the engine's delivery order.
 * Written to FILE.partial and renamed when the run ends, so a killed run leaves no half log under FILE.
 */
const messageLog = (file: string) => {
  const partial = `${file}.partial`
  writeFileSync(partial, "")
  let lines: Array<string> = []
  const flush = () => {
    appendFileSync(partial, lines.join(""))
    lines = []
  }
  return {
    observers: {
      onDelivery: (_d: unknown, env: Envelope) => {
        lines.push(`${JSON.stringify(fromEnvelope(env))}\n`)
        if (lines.length >= 10_000) flush()
      }
    },
    close: () => {
      flush()
      renameSync(partial, file)
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runMain(async () => {
    const o = parseCli(scaleSpec)
    const { catalog } = resolveConstellation(o)
    // A log or a coupling count of a run whose causality is broken would describe no valid run.
    if (o.unsynchronised && (o.coupling || o.messages !== undefined)) throw new CliError({ flag: "--unsynchronised", message: `cannot be combined with ${o.coupling ? "--coupling" : "--messages"}` })
    const config = makeRunConfig({
      preset: o.preset, catalog, seed: o.seed, simSeconds: o.simSeconds, users: o.users, requestRatePerUser: o.requestRate, realtimeFactor: o.realtime,
      unsynchronised: o.unsynchronised
    })
    // Measured before the run, while nothing else of the run is on the heap.
    const perActor = bytesPerSatellite(config)
    const progress = makeProgress(`scale ${catalog.path !== "" ? "catalog" : o.preset}`, o.simSeconds, o.quiet || o.json)
    // The host is a Layer: in-process or the worker pool, the same run (actors/hosts.ts). A message log
    // and the coupling count need every delivery or hop in this thread, so they run in-process.
    const log = o.messages === undefined ? undefined : messageLog(o.messages)
    const crossings = o.coupling ? crossingRecorder(makeWorld(config).ownership(o.workers)) : undefined
    const observers = { ...log?.observers, ...(crossings ? { onHop: crossings.onHop } : {}) }
    const inProcess = o.inProcess || log !== undefined || crossings !== undefined
    const host = inProcess ? InProcess(o.workers, observers) : Workers({ workers: o.workers, onProgress: (p) => progress.update(p.virtualTime, p.delivered) })
    // Shards on worker threads wait for each other every window: with fewer cores than workers they wait
    // for cores too (4 workers on 2 cores: 3.7x slower than 1 worker; docs/performance.md).
    const cores = availableParallelism()
    if (!inProcess && o.workers > cores) console.error(`scale: ${o.workers} workers on ${cores} cores: each window waits for a core, so expect it slower than 1 worker (docs/performance.md)`)
    const report = await Effect.runPromise(runSky(config).pipe(Effect.provide(host)))
    log?.close()
    progress.stop()
    const coupling = crossings && {
      crossings: crossings.crossings.length,
      crossingsPerVirtualSecond: crossings.crossings.length / o.simSeconds,
      fewestWindows: fewestWindows(crossings.crossings, config.epochSeconds, o.simSeconds)
    }
    const unsynchronised = o.unsynchronised ? { lateArrivals: report.lateArrivals } : undefined
    const result: ScaleResult = { ...toScaleResult(report, perActor), ...(coupling ? { coupling } : {}), ...(unsynchronised ? { unsynchronised } : {}) }
    const dir = openRunDirectory("scale", { ...o, json: undefined, quiet: undefined, help: undefined })
    dir.writeJson("results.json", result)
    dir.writeJson("latency.json", { retrieval: report.retrieval, put: report.put })
    dir.writeSummary({
      preset: result.preset, satellites: result.satellites, workers: result.workers, speedup: result.speedup, "messages/s": result.eventsPerSecond, "retrieval p99 ms": result.retrievalMs.p99, "trace hash": result.traceHash,
      ...(unsynchronised ? { "UNSYNCHRONISED, not a valid run: records delivered late": unsynchronised.lateArrivals } : {})
    })
    writeIndex()
    const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`
    // An in-process run reports 0 workers: name its shards instead.
    const hosts = result.workers > 0 ? count(result.workers, "worker") : `${count(o.workers, "shard")} in-process`
    printResult(o.json, result, () =>
      [
        `scale: ${result.preset}, ${result.satellites} satellites, ${result.users} users, ${hosts}, ${result.simSeconds} s virtual`,
        ...(unsynchronised ? [`  UNSYNCHRONISED  ${unsynchronised.lateArrivals} records delivered late: a ceiling on speed, not a valid run`] : []),
        `  start-up        ${fmt(result.startSeconds, 2)} s`,
        `  run             ${fmt(result.wallSeconds, 3)} s wall  (speedup ${fmt(result.speedup, 1)}x over real time)`,
        `  delivered       ${result.events} messages, ${fmt(result.eventsPerSecond, 0)} per wall second`,
        `  sent / dropped / in flight   ${result.sent} / ${Object.values(result.dropped).reduce((a, b) => a + b, 0)} / ${result.inFlight}`,
        `  windows         ${result.windows}, ${fmt(100 * result.barrierWaitShare, 1)}% of shard time waiting at barriers`,
        ...(coupling ? [`  coupling        ${coupling.crossings} hops between shards (${fmt(coupling.crossingsPerVirtualSecond, 1)} a virtual second); the fewest windows any barrier-synchronous run could take: ${coupling.fewestWindows}`] : []),
        `  retrieval       p50 ${fmt(result.retrievalMs.p50, 2)} ms  p90 ${fmt(result.retrievalMs.p90, 2)} ms  p99 ${fmt(result.retrievalMs.p99, 2)} ms`,
        `  memory          ${fmt(result.rssMB, 0)} MB RSS, ${fmt(result.bytesPerActor, 0)} bytes per satellite actor`,
        `  trace hash      ${result.traceHash}`,
        `written to ${dir.path}`
      ].join("\n"))
  })
}
