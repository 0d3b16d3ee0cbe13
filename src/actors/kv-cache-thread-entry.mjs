// piscina loads plain JavaScript; this registers tsx's loader in the worker thread and hands piscina the
// TypeScript task of the KV cache's own thread (kv-cache-thread.ts).
import { register } from "tsx/esm/api"

register()
const task = await import("./kv-cache-thread-task.ts")
export default task.default
