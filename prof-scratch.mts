import { makeRunConfig } from "./src/actors/config.js"
import { runInProcess } from "./src/actors/run.js"
const strategy = process.argv[2] ?? "hop_rotation"
const requests = Number(process.argv[3] ?? 3000)
const config = makeRunConfig({ preset: "starlink-shell1", seed: 1, simSeconds: 60, beaconIntervalSeconds: Number(process.argv[4] ?? 1), workload: "replay", users: 0, capacityBytesPerSatellite: 256 * 2 ** 20,
  replay: { ...makeRunConfig().replay, requests, strategy } })
const { readTrace } = await import("./src/actors/trace-file.js")
const t = readTrace(config.replay.tracePath, { limit: requests })
const sim = Math.max(...t.requests.map((r) => r.timestamp)) / 1000 + 60
const r = await runInProcess(makeRunConfig({ ...config, simSeconds: sim }), 1)
console.log(strategy, requests, sim, r.wallSeconds, "fwd", r.forwarded, "timers", r.timersFired, "windows", r.windows, r.delivered, r.counters.migrationBytes, (r.counters.hitBlocks ?? 0) / (r.counters.blocks ?? 1), JSON.stringify(r.deliveredByTag))
