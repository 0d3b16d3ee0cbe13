import type { HostedServices } from "../actors/registry.js"
import type { RunConfig } from "./config.js"
import { Mailboxes } from "./mailbox.js"
import { ShardEngine } from "./shard.js"
import { makeWorld, ownership, shardBounds, type World } from "./world.js"

/**
 * The engine advanced on demand instead of run to an end: one shard in this thread, moved forward to a
 * virtual time, or until something the host waits for has happened. This is how a model running in wall
 * time (the inference actor's driver) works against a constellation in virtual time: it hands an actor
 * a job, wakes it, and advances until the job is done; the virtual time that took is the network's.
 * Windows are the topology's link epochs (one shard needs no lookahead), exactly as in runInProcess.
 */
export class LiveEngine {
  readonly world: World
  readonly engine: ShardEngine
  private t = 0

  constructor(config: RunConfig, hosted: HostedServices) {
    this.world = makeWorld(config)
    const owner = ownership(this.world, shardBounds(this.world, 1))
    this.engine = new ShardEngine(this.world, 0, owner, Mailboxes.allocate(1, config.mailboxCapacity), { hosted })
    this.engine.start()
  }

  /** Virtual time, s. */
  get now(): number {
    return this.t
  }

  /** Run every event before `time`. */
  advanceTo(time: number): void {
    const e = this.engine
    while (this.t < time) {
      e.topology.enterEpochOf(this.t)
      const end = Math.min(time, e.topology.epochEnd)
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

  /** Wake `actor` now with a timer (tag, aux). */
  wake(actor: number, tag: number, aux = 0): void {
    this.engine.wake(actor, this.t, tag, aux)
  }
}
