/**
 * The live host on the worker pool: one long-lived piscina task per worker, each a shard of the world
 * built from its module and config (live-worker.ts), advanced on demand over the comlink control plane.
 * Same contract as LiveEngine (live.ts); what is decided in virtual time does not depend on which.
 */
import { MessageChannel } from "node:worker_threads"
import * as Comlink from "comlink"
import { Piscina } from "piscina"
import type { WorldSource } from "./build.js"
import { nodeEndpoint } from "./comlink-node.js"
import type { LiveHost } from "./live.js"
import type { LiveShardControl, LiveShardTask } from "./live-worker.js"
import { abortingShardOf } from "./barrier.js"
import { RunFailed } from "./pool.js"
import { mergeReports, type EngineReport } from "./report.js"
import { loadWorld, runBuffers } from "./worker.js"
import type { World } from "./world.js"

export class LivePool implements LiveHost {
  private t = 0
  private failure: RunFailed | undefined

  private constructor(
    readonly world: World,
    readonly owner: Int32Array,
    private readonly pool: Piscina,
    private readonly remotes: ReadonlyArray<Comlink.Remote<LiveShardControl>>,
    private readonly tasks: ReadonlyArray<Promise<void>>,
    /** Resolves (undefined) when a shard's task fails, which sets `failure` first. */
    private readonly taskFailed: Promise<undefined>,
    private readonly signal: Int32Array,
    private readonly started: number
  ) {}

  /** Start `workers` live shards of the source's world (`built`: the world already built in this thread). */
  static async start(source: WorldSource, o: { readonly workers: number }, built?: World): Promise<LivePool> {
    const W = o.workers
    if (!(Number.isInteger(W) && W >= 1)) throw new RangeError(`workers must be an integer >= 1, got ${W}`)
    const world = built ?? (await loadWorld(source))
    const buffers = runBuffers(world, W)
    const signal = new SharedArrayBuffer(4)
    const pool = new Piscina({
      filename: new URL("./live-worker-entry.mjs", import.meta.url).href,
      minThreads: W, maxThreads: W, concurrentTasksPerWorker: 1, atomics: "disabled", idleTimeout: 1000
    })
    const remotes: Array<Comlink.Remote<LiveShardControl>> = []
    let live: LivePool | undefined
    let failed: RunFailed | undefined
    let signalFailed!: () => void
    const taskFailed = new Promise<undefined>((r) => (signalFailed = () => r(undefined)))
    const tasks = Array.from({ length: W }, (_, shard) => {
      const { port1, port2 } = new MessageChannel()
      remotes.push(Comlink.wrap<LiveShardControl>(nodeEndpoint(port1)))
      const task: LiveShardTask = { world: source, shard, shards: W, ...buffers, signal, port: port2 }
      return (pool.run(task, { transferList: [port2] }) as Promise<void>).catch((e: unknown) => {
        failed ??= new RunFailed(shard, e)
        if (live) live.failure ??= failed
        signalFailed()
      })
    })
    for (;;) {
      const ready = await Promise.race([Promise.all(remotes.map((r) => r.ready())), Promise.all(tasks).then(() => undefined)])
      if (failed) {
        await pool.destroy()
        throw failed
      }
      if (ready === undefined) throw new Error("the live shard tasks ended before they were ready")
      if (ready.every(Boolean)) break
      await new Promise((r) => setTimeout(r, 5))
    }
    live = new LivePool(world, world.ownership(W), pool, remotes, tasks, taskFailed, new Int32Array(signal), performance.now())
    return live
  }

  get shards(): number {
    return this.remotes.length
  }

  get now(): number {
    return this.t
  }

  /**
   * Every shard at once. When one fails, the others are released from the barrier with "run aborted"
   * errors, which may arrive first: the failure thrown is the shard's own (a RunFailed naming it). From
   * then on every call throws it, since the shards stopped at different times.
   */
  private async all<A>(call: (r: Comlink.Remote<LiveShardControl>) => Promise<A>): Promise<Array<A>> {
    if (this.failure) throw this.failure
    // A task that dies leaves its call unanswered: its end, with the failure it sets, ends the wait too.
    const settled = await Promise.race([Promise.allSettled(this.remotes.map(call)), this.taskFailed])
    if (settled === undefined) throw this.failure!
    const rejected = settled.flatMap((r, shard) => (r.status === "rejected" ? [{ shard, cause: r.reason as unknown }] : []))
    if (rejected.length === 0) return settled.map((r) => (r as PromiseFulfilledResult<A>).value)
    const own = rejected.find((r) => abortingShardOf(r.cause) === undefined)
    this.failure ??= own ? new RunFailed(own.shard, own.cause) : new RunFailed(abortingShardOf(rejected[0]!.cause)!, rejected[0]!.cause)
    throw this.failure
  }

  async advanceTo(time: number): Promise<void> {
    await this.all((r) => r.advanceTo(time))
    this.t = Math.max(this.t, time)
  }

  async advanceUntilSignal(limitSeconds: number, stepSeconds?: number): Promise<boolean> {
    Atomics.store(this.signal, 0, 0)
    const r = await this.all((s) => s.advanceUntilSignal(limitSeconds, stepSeconds))
    if (r.some((x) => x.now !== r[0]!.now || x.signalled !== r[0]!.signalled)) throw new Error(`live shards stopped apart: ${JSON.stringify(r)}`)
    this.t = r[0]!.now
    return r[0]!.signalled
  }

  request(shard: number, request: unknown): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure)
    return this.remotes[shard]!.serve(request)
  }

  async injectFaults(o: { lossRate: number; seed: number }): Promise<void> {
    await this.all((r) => r.injectFaults(o))
  }

  async crash(actors: ReadonlyArray<number>, downSeconds: number): Promise<void> {
    await this.all((r) => r.crash([...actors], downSeconds))
  }

  async report(): Promise<EngineReport> {
    return mergeReports(this.world, await this.all((r) => r.report()), this.started / 1e3, this.shards)
  }

  async close(): Promise<void> {
    // The tasks end on finish(); their ends, not the calls' replies, are what is awaited.
    for (const r of this.remotes) r.finish().catch(() => {})
    await Promise.all(this.tasks)
    for (const r of this.remotes) r[Comlink.releaseProxy]()
    await this.pool.destroy()
  }
}
