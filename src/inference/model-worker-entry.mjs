// piscina loads plain JavaScript; this registers tsx's loader in the worker thread and hands piscina the
// TypeScript task (as runtime/worker-entry.mjs does for shards).
import { register } from "tsx/esm/api"

register()
const task = await import("./model-worker.ts")
export default task.default
