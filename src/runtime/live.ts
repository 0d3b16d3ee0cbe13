/**
 * The engine advanced on demand instead of run to an end: one shard in this thread, moved forward to a
 * virtual time, or until something the host waits for has happened. This is how a model running in wall
 * time (the inference actor's driver) works against a world in virtual time: it hands an actor a job,
 * wakes it, and advances until the job is done; the virtual time that took is the network's. Windows are
 * the network's epochs (one shard needs no lookahead), exactly as in runInProcess.
 */
import { buildShard } from "./build.js"
import { Mailboxes } from "./mailbox.js"
import type { ShardEngine } from "./shard.js"
import type { Network, World } from "./world.js"

export class LiveEngine<N extends Network = Network> {
  readonly engine: ShardEngine<N>
  private t = 0

  constructor(readonly world: World<N>) {
    const shared = new SharedArrayBuffer(world.sharedBytes(1))
    this.engine = buildShard(world, { index: 0, shards: 1, owner: world.ownership(1), mailboxes: Mailboxes.allocate(1, world.config.mailboxCapacity), shared })
  }

  /** Virtual time, s. */
  get now(): number {
    return this.t
  }

  /** Run every event before `time`. */
  advanceTo(time: number): void {
    const e = this.engine
    while (this.t < time) {
      e.network.enterEpochOf(this.t)
      const end = Math.min(time, e.network.epochEnd)
      e.runWindow(end, 0)
      this.t = end
    }
  }

  /**
   * Advance in steps of `stepSeconds` until `done()` holds (checked after each step), at most
   * `limitSeconds` of virtual time; returns whether it held. Events are exact in time whatever the
   * step; the step only bounds how far past the moment `done` became true the clock has run.
   */
  advanceUntil(done: () => boolean, limitSeconds: number, stepSeconds = 1e-3): boolean {
    const stop = this.t + limitSeconds
    while (!done()) {
      if (this.t >= stop) return false
      this.advanceTo(Math.min(stop, this.t + stepSeconds))
    }
    return true
  }

  /** Wake `actor` now with a timer (tag and slots; a protocol's MessageType.wake lays them out). */
  wake(actor: number, tag: number, p0 = 0, p1 = 0, p2 = 0, aux = 0): void {
    this.engine.wake(actor, this.t, tag, p0, p1, p2, aux)
  }
}
