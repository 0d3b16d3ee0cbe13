// piscina loads plain JavaScript; this registers tsx's loader in the worker thread and hands piscina the
// TypeScript task of a live shard (see worker-entry.mjs for runs to an end).
import { register } from "tsx/esm/api"

register()
const task = await import("./live-worker.ts")
export default task.default
