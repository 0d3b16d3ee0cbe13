/**
 * The piscina task of one live shard: built like a run's shard (build.ts), then idle between the host's
 * calls over the comlink control plane. `advanceTo` and `advanceUntilSignal` are called on every worker
 * at once and run windows in lockstep through the barrier (the same WindowLoop as runs to an end);
 * `serve` answers the world's requests (jobs in, results out) between them. The signal a world raises is
 * one shared word every shard reads after the same barrier, so all stop at the same step.
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises"
import * as Comlink from "comlink"
import { nodeEndpoint } from "./comlink-node.js"
import { Barrier } from "./barrier.js"
import { advanceInSteps } from "./live.js"
import { WindowLoop } from "./loop.js"
import type { ShardReport } from "./metrics.js"
import type { ShardEngine } from "./shard.js"
import { buildTaskShard, controlLayout, type ShardTask } from "./worker.js"

export interface LiveShardTask extends ShardTask {
  /** One Int32: the world's signal (HostContext.signal). */
  readonly signal: SharedArrayBuffer
}

export interface LiveShardControl {
  ready(): boolean
  advanceTo(time: number): Promise<void>
  advanceUntilSignal(limitSeconds: number, stepSeconds?: number): Promise<{ now: number; signalled: boolean }>
  serve(request: unknown): unknown
  injectFaults(o: { lossRate: number; seed: number }): void
  crash(actors: ReadonlyArray<number>, downSeconds: number): void
  report(): ShardReport
  /** End the task (its promise resolves). */
  finish(): void
}

export default async function runLiveShardTask(task: LiveShardTask): Promise<void> {
  const layout = controlLayout(task.shards)
  const barrier = new Barrier(layout.barrier(task.control), task.shards)
  const signal = new Int32Array(task.signal)
  let engine: ShardEngine | undefined
  let loop: WindowLoop | undefined
  let now = 0
  let finish!: () => void
  const finished = new Promise<void>((r) => (finish = r))
  // A failure in one shard's windows releases the others from the barrier instead of leaving them waiting.
  const guarded = async <A>(f: () => Promise<A>): Promise<A> => {
    try {
      return await f()
    } catch (e) {
      barrier.abort(task.shard)
      throw e
    }
  }
  const advanceTo = (t: number) => guarded(async () => {
    await loop!.runUntil(t)
    now = t
  })
  const control: LiveShardControl = {
    ready: () => engine !== undefined,
    advanceTo,
    advanceUntilSignal: (limitSeconds, stepSeconds) => advanceInSteps(now, limitSeconds, () => Atomics.load(signal, 0) !== 0, advanceTo, () => loop!.nextTime, stepSeconds),
    serve: (request) => engine!.serve(request, now, () => void Atomics.store(signal, 0, 1)),
    injectFaults: (o) => engine!.injectFaults(o),
    crash: (actors, downSeconds) => {
      for (const a of actors) engine!.crashActor(a, now, downSeconds)
    },
    report: () => engine!.report(loop!.stats),
    finish: () => finish()
  }
  Comlink.expose(control, nodeEndpoint(task.port))
  try {
    const built = (await buildTaskShard(task)).engine
    loop = new WindowLoop([built], layout.shared(task.control), () => barrier.arrive(), { shards: task.shards, realtimeFactor: 0 })
    engine = built
    await finished
    // Let comlink post the reply to finish() before the port closes.
    await yieldToEventLoop()
  } catch (e) {
    barrier.abort(task.shard)
    throw e
  } finally {
    task.port.close()
  }
}
