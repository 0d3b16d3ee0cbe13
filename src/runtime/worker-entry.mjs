// piscina loads plain JavaScript; this registers tsx's loader in the worker thread and hands piscina the
// TypeScript task, so the same sources run under `npx tsx` and under vitest.
import { register } from "tsx/esm/api"

register()
const task = await import("./worker.ts")
export default task.default
