/** SkyMemory's world on the engine: its config, how to run it, and its report. */
export * from "./config.js"
export type { RunReport } from "./report.js"
export { runInProcess, runOnWorkers } from "./run.js"
export { RunFailed } from "../runtime/pool.js"
