// The other party of a Barrier in test/runtime-barrier.test.ts, on its own thread: before each
// arrival it sleeps the round's delay (ms), so the test's party waits that long; then, if asked, it
// sleeps `abortAfterMs` and aborts as shard 1.
import { register } from "tsx/esm/api"
import { workerData } from "node:worker_threads"

register()
const { Barrier } = await import("../../src/runtime/barrier.ts")
const barrier = new Barrier(new Int32Array(workerData.control), 2, workerData.spin)
const nap = new Int32Array(new SharedArrayBuffer(4))
for (const delay of workerData.delays) {
  if (delay > 0) Atomics.wait(nap, 0, 0, delay)
  barrier.arrive()
}
if (workerData.abortAfterMs !== undefined) {
  Atomics.wait(nap, 0, 0, workerData.abortAfterMs)
  barrier.abort(1)
}
