/**
 * The main job (`npm start`): the default story on built-in defaults. It grows as the project does; today
 * it shows the paper's 19x5 constellation and a user's view of it, then runs the standard workload
 * (beacons + ground cache traffic) on it in virtual time through the actor runtime.
 */
import { makeRunConfig, runOnWorkers } from "../src/runtime/index.js"
import { parseCli, runMain } from "./lib/cli.js"
import { fmt, printResult } from "./lib/output.js"
import { makeProgress } from "./lib/progress.js"
import { bytesPerSatellite, toScaleResult } from "./scale.js"
import { describeSummary, summarize } from "./topology.js"

const spec = { name: "main", summary: "SkyMemory's default story on built-in defaults", flags: {} }

runMain(async () => {
  const o = parseCli(spec)
  const base = { preset: "paper-19x5", planes: undefined, satsPerPlane: undefined, altitudeKm: 550, inclinationDeg: 53, phasing: 1, pattern: "delta" as const, maskDeg: 25 }
  // A user under the patch's first pass (the 19x5 patch covers a band of longitudes at a time).
  const topology = summarize({ ...base, at: 0, ground: { latDeg: 25, lonDeg: 40 } })
  const config = makeRunConfig({ preset: "paper-19x5", seed: o.seed, simSeconds: 120, users: 32, requestRatePerUser: 2 })
  const progress = makeProgress("standard workload", config.simSeconds, o.quiet || o.json)
  const run = toScaleResult(await runOnWorkers(config, { workers: 1, onProgress: (p) => progress.update(p.virtualTime, p.delivered) }), bytesPerSatellite(config))
  progress.stop()
  printResult(o.json, { topology, run }, () =>
    [
      describeSummary(topology),
      "",
      `standard workload on paper-19x5: ${config.simSeconds} s virtual, ${config.users} ground users at ${config.requestRatePerUser} requests/s, seed ${config.seed}`,
      `  ${run.events} messages delivered in ${fmt(run.wallSeconds, 3)} s wall: ${fmt(run.speedup, 0)}x real time, ${fmt(run.eventsPerSecond, 0)} messages/s`,
      `  cache retrieval (key-homed baseline placement): p50 ${fmt(run.retrievalMs.p50, 1)} ms, p99 ${fmt(run.retrievalMs.p99, 1)} ms`,
      `  dropped: ${Object.entries(run.dropped).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(", ") || "none"}; in flight at the end: ${run.inFlight}`,
      `  trace hash ${run.traceHash} (same seed, same hash, whatever the worker count)`
    ].join("\n"))
})
