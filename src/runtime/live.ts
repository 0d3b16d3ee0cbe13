/**
 * Hosts that advance the engine on demand instead of running it to an end. This is how a model running
 * in wall time (the inference actor's driver) works against a world in virtual time: it hands an actor
 * a job (a request to the shard that owns it, ShardWorld.serve), advances until the world signals the
 * job done, and reads the result; the virtual time that took is the network's.
 * Two hosts, one contract: LiveEngine (one shard in this thread) and the worker pool's live mode
 * (live-pool.ts: one shard per worker, windows agreed through the barrier). Both advance in the same
 * steps and stop at the same step after the signal, so what is decided in virtual time is the same
 * whichever runs it.
 */
import { buildShard } from "./build.js"
import { Mailboxes } from "./mailbox.js"
import { mergeReports, type EngineReport } from "./report.js"
import type { EngineObservers, ShardEngine } from "./shard.js"
import type { Network, World } from "./world.js"

/**
 * The step advanceUntilSignal checks the signal at by default (virtual s): it bounds how far past the
 * signal the clock runs, so how late in virtual time the next jobs start.
 */
export const SIGNAL_STEP_SECONDS = 1e-3

export interface LiveHost {
  readonly shards: number
  /** Virtual time, s: every event before it has run. */
  readonly now: number
  /** Owner shard of every actor. */
  readonly owner: Int32Array
  /**
   * Run every event before `time`. A call that fails leaves the host failed: every later call but
   * close() throws the same error (the run stopped part-way through a window).
   */
  advanceTo(time: number): void | Promise<void>
  /**
   * Advance in steps of `stepSeconds` (default SIGNAL_STEP_SECONDS) until a shard's world signals
   * (HostContext.signal) during this call, at most `limitSeconds`; returns whether it did.
   */
  advanceUntilSignal(limitSeconds: number, stepSeconds?: number): boolean | Promise<boolean>
  /** A request to the world's part on `shard` (ShardWorld.serve), now; structured-clonable both ways. */
  request(shard: number, request: unknown): unknown
  /** Turn on injected message loss (seeded, per sender) and actor crashes, on every shard. */
  injectFaults(o: { lossRate: number; seed: number }): void | Promise<void>
  /** Crash actors now: state lost, down for `downSeconds` (every shard learns they are down). */
  crash(actors: ReadonlyArray<number>, downSeconds: number): void | Promise<void>
  /** The run so far, merged over shards. */
  report(): EngineReport | Promise<EngineReport>
  close(): void | Promise<void>
}

/**
 * Step the clock from `from` until `signalled()` holds after a step, at most to `from + limitSeconds`.
 * The one definition of the steps, shared by both hosts (the same float arithmetic, the same stops).
 * `nextEvent()` is the earliest pending event over all shards: steps that end at or before it hold no
 * event, so nothing in them can signal, and they are passed without running (a lookup waiting out
 * a 2-s timeout is 2,000 steps).
 */
export const advanceInSteps = async (
  from: number, limitSeconds: number, signalled: () => boolean, advanceTo: (t: number) => void | Promise<void>, nextEvent: () => number,
  step = SIGNAL_STEP_SECONDS
): Promise<{ now: number; signalled: boolean }> => {
  const stop = from + limitSeconds
  let t = from
  for (;;) {
    if (signalled()) return { now: t, signalled: true }
    if (t >= stop) return { now: t, signalled: false }
    const next = nextEvent()
    t = Math.min(stop, t + step)
    while (t <= next && t < stop) t = Math.min(stop, t + step)
    await advanceTo(t)
  }
}

/** One shard in this thread: the host for tests (engine state in reach) and single-threaded runs. */
export class LiveEngine<N extends Network = Network> implements LiveHost {
  readonly engine: ShardEngine<N>
  readonly shards = 1
  readonly owner: Int32Array
  private t = 0
  private signalled = false
  private readonly started = performance.now()
  private workMs = 0
  private failure: { readonly cause: unknown } | undefined

  /** `observers`: watch every hop and delivery (a live view draws them). */
  constructor(readonly world: World<N>, observers: EngineObservers = {}) {
    const shared = new SharedArrayBuffer(world.sharedBytes(1))
    this.owner = world.ownership(1)
    this.engine = buildShard(world, { index: 0, shards: 1, owner: this.owner, mailboxes: Mailboxes.allocate(1, world.config.mailboxCapacity), shared }, observers)
  }

  get now(): number {
    return this.t
  }

  /** Run every event before `time`; windows are the network's epochs (one shard needs no lookahead). */
  advanceTo(time: number): void {
    this.throwIfFailed()
    const e = this.engine
    const w0 = performance.now()
    try {
      while (this.t < time) {
        e.network.enterEpochOf(this.t)
        const end = Math.min(time, e.network.epochEnd)
        e.runWindow(end, 0)
        this.t = end
      }
    } catch (cause) {
      this.failure = { cause }
      throw cause
    }
    this.workMs += performance.now() - w0
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.cause
  }

  async advanceUntilSignal(limitSeconds: number, stepSeconds?: number): Promise<boolean> {
    this.signalled = false
    return (await advanceInSteps(this.t, limitSeconds, () => this.signalled, (t) => this.advanceTo(t), () => this.engine.queue.peekTime(), stepSeconds)).signalled
  }

  request(_shard: number, request: unknown): unknown {
    this.throwIfFailed()
    return this.engine.serve(request, this.t, () => (this.signalled = true))
  }

  injectFaults(o: { lossRate: number; seed: number }): void {
    this.throwIfFailed()
    this.engine.injectFaults(o)
  }

  crash(actors: ReadonlyArray<number>, downSeconds: number): void {
    this.throwIfFailed()
    for (const a of actors) this.engine.crashActor(a, this.t, downSeconds)
  }

  report(): EngineReport {
    this.throwIfFailed()
    const wallSeconds = (performance.now() - this.started) / 1e3
    return mergeReports(this.world, [this.engine.report({ wallSeconds, syncSeconds: 0, workSeconds: this.workMs / 1e3 })], this.started / 1e3, 0)
  }

  close(): void {}
}
