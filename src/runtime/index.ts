export * from "./config.js"
export type { RunReport } from "./report.js"
export { runInProcess } from "./local.js"
export { runOnWorkers, RunFailed } from "./pool.js"
