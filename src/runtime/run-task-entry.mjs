// piscina loads plain JavaScript; this registers tsx's loader in the worker thread and hands piscina the
// TypeScript task of one whole run (see worker-entry.mjs for one shard of a run).
import { register } from "tsx/esm/api"

register()
const task = await import("./run-task.ts")
export default task.default
