/**
 * Run a world on a piscina pool of `workers` threads, one long-lived shard task each, every worker
 * building the world from its module and config. The main thread only starts, watches and collects:
 * windows are agreed between the workers themselves through shared memory. Progress comes over the
 * comlink control plane.
 */
import { MessageChannel } from "node:worker_threads"
import * as Comlink from "comlink"
import { nodeEndpoint } from "./comlink-node.js"
import { Piscina } from "piscina"
import { abortingShardOf, Barrier, RunAborted } from "./barrier.js"
import type { WorldSource } from "./build.js"
import type { ShardReport } from "./metrics.js"
import { type EngineReport, mergeReports } from "./report.js"
import { controlLayout, loadWorld, runBuffers, type ShardControl, type ShardTask } from "./worker.js"
import type { World } from "./world.js"

export class RunFailed extends Error {
  readonly _tag = "RunFailed"
  constructor(readonly shard: number, override readonly cause: unknown) {
    super(`shard ${shard} failed: ${(cause as Error)?.message ?? String(cause)}`)
  }
}

export interface PoolOptions {
  readonly workers: number
  /** Called about twice a second with the slowest shard's virtual time and the delivered count so far. */
  readonly onProgress?: (p: { virtualTime: number; delivered: number }) => void
}

/** `built`: the source's world already built in this thread (it is needed here for its sizes). */
export const runOnWorkers = async (source: WorldSource, o: PoolOptions, built?: World): Promise<EngineReport> => {
  const W = o.workers
  const world = built ?? (await loadWorld(source))
  const layout = controlLayout(W)
  const buffers = runBuffers(world, W)
  const control = buffers.control
  const pool = new Piscina({
    filename: new URL("./worker-entry.mjs", import.meta.url).href,
    minThreads: W,
    maxThreads: W,
    concurrentTasksPerWorker: 1,
    // Workers must keep their event loop running between tasks' awaits (comlink), not block in Atomics.
    atomics: "disabled",
    idleTimeout: 1000
  })
  const remotes: Array<Comlink.Remote<ShardControl>> = []
  // The first real failure wins over the "run aborted" errors of the shards it released, whatever
  // order their rejections arrive in.
  let failure: RunFailed | undefined
  let aborted: RunFailed | undefined
  let failed!: () => void
  const anyFailed = new Promise<void>((r) => (failed = r))
  const tasks = Array.from({ length: W }, (_, shard) => {
    const { port1, port2 } = new MessageChannel()
    remotes.push(Comlink.wrap<ShardControl>(nodeEndpoint(port1)))
    const task: ShardTask = { world: source, shard, shards: W, ...buffers, port: port2 }
    return (pool.run(task, { transferList: [port2] }) as Promise<ShardReport>).catch((e: unknown) => {
      const released = abortingShardOf(e)
      if (released !== undefined) aborted ??= new RunFailed(released, e)
      else failure ??= new RunFailed(shard, e)
      new Barrier(layout.barrier(control), W).abort(shard)
      failed()
      return undefined
    })
  })
  // A control-plane call is answered by a worker's task; once a task has failed or all have ended, some
  // call may never be answered (a task that failed before it listened, a run that ended at once), so
  // every such wait also ends then.
  const ended = Promise.race([Promise.all(tasks), anyFailed]).then(() => undefined)
  const unlessEnded = <A>(call: Promise<A>): Promise<A | undefined> => Promise.race([call, ended])
  let timer: ReturnType<typeof setInterval> | undefined
  try {
    await waitReady(remotes, unlessEnded, () => failure ?? aborted)
    const startSeconds = performance.now() / 1e3
    await unlessEnded(Promise.all(remotes.map((r) => r.start())))
    if (o.onProgress) {
      timer = setInterval(() => {
        Promise.all(remotes.map((r) => r.stats()))
          .then((s) => o.onProgress!({ virtualTime: Math.min(...s.map((x) => x.virtualTime)), delivered: s.reduce((a, x) => a + x.delivered, 0) }))
          .catch(() => {})
      }, 500)
    }
    const reports = await Promise.all(tasks)
    if (failure ?? aborted) throw failure ?? aborted
    return mergeReports(world, reports as Array<ShardReport>, startSeconds, W)
  } finally {
    if (timer) clearInterval(timer)
    for (const r of remotes) r[Comlink.releaseProxy]()
    await pool.destroy()
  }
}

const waitReady = async (
  remotes: ReadonlyArray<Comlink.Remote<ShardControl>>,
  unlessEnded: <A>(call: Promise<A>) => Promise<A | undefined>,
  failed: () => RunFailed | undefined
): Promise<void> => {
  for (;;) {
    const ready = await unlessEnded(Promise.all(remotes.map((r) => r.ready())))
    const f = failed()
    if (f) throw f
    if (ready === undefined) throw new Error("the shard tasks ended before they were started")
    if (ready.every(Boolean)) return
    await new Promise((r) => setTimeout(r, 5))
  }
}

export { RunAborted }
