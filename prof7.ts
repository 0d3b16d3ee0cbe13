import { makeRunConfig, runInProcess } from "./src/runtime/index.js"
const r = await runInProcess(makeRunConfig({ preset: "starlink-shell1", simSeconds: 120 }), 2)
console.log(r.events, r.wallSeconds.toFixed(3), Math.round(r.eventsPerSecond), r.windows)
