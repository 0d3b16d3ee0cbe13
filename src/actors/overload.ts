/**
 * The satellite service model (overload): a satellite handles one cache message at a time, each taking
 * satelliteServiceSecondsPerMessage + bytes / satelliteServiceBytesPerSecond, and messages wait in a
 * mailbox of at most satelliteMailboxMessages. Beacons, Busy replies and migration acks are link-level
 * control: no service time.
 * The engine asks `arrive` when a message reaches its actor (runtime/world.ts Admission); a waiting
 * message goes back into the event queue until its service ends, marked (I.spare = 1) so that its second
 * arrival is its delivery. A refused message is answered with Busy, naming the tag it refused.
 */
import type { ActorContext } from "../runtime/behaviour.js"
import { F, I, type RecordBlock } from "../runtime/record.js"
import { Admit, type Admission } from "../runtime/world.js"
import type { RunConfig } from "./config.js"
import { CONTROL_BYTES } from "./satellite.js"
import { busyFor, Sky, Tag } from "./protocol.js"
import { Kind } from "./kinds.js"

/** The overload model's drop reason (World.dropReasons.admission). */
export const admissionDropReasons = ["mailboxFull"]

/** Link-level control: delivered at once, never queued nor refused (so never answered with Busy). */
export const isLinkLevel = (tag: number): boolean => tag === Tag.Beacon || tag === Tag.Busy || tag === Tag.MigrateAck

export class SatelliteService implements Admission {
  private readonly free: Float64Array
  private readonly depth: Int32Array
  /** Deepest any mailbox got. */
  peak = 0

  private constructor(private readonly cfg: RunConfig, private readonly satellites: number) {
    this.free = new Float64Array(satellites)
    this.depth = new Int32Array(satellites)
  }

  /** The model for a run, or undefined when handling takes no time (both rates 0: the default). */
  static fromConfig(cfg: RunConfig, satellites: number): SatelliteService | undefined {
    return cfg.satelliteServiceSecondsPerMessage > 0 || cfg.satelliteServiceBytesPerSecond > 0 ? new SatelliteService(cfg, satellites) : undefined
  }

  /**
   * Message record `slot` of `pool` reached satellite `at` at `time`: deliver it now (link-level, or
   * its service just ended), let it wait (its record's time is set to when its service ends: queue it
   * again), or refuse it (the mailbox is full: the engine drops it with a reason and tells the sender).
   */
  arrive(pool: RecordBlock, slot: number, at: number, time: number): number {
    if (at >= this.satellites) return Admit.deliver
    const tag = pool.getI(slot, I.tag)
    if (isLinkLevel(tag)) return Admit.deliver
    if (pool.getI(slot, I.spare) === 1) {
      this.depth[at]!--
      return Admit.deliver
    }
    const cfg = this.cfg
    if (this.depth[at]! >= cfg.satelliteMailboxMessages) return Admit.refuse
    const start = Math.max(time, this.free[at]!)
    const done = start + cfg.satelliteServiceSecondsPerMessage + (cfg.satelliteServiceBytesPerSecond > 0 ? pool.getI(slot, I.bytes) / cfg.satelliteServiceBytesPerSecond : 0)
    this.free[at] = done
    const depth = ++this.depth[at]!
    if (depth > this.peak) this.peak = depth
    pool.setF(slot, F.time, done)
    pool.setI(slot, I.spare, 1)
    return Admit.wait
  }

  mayRefuse(kind: number, tag: number): boolean {
    return kind === Kind.satellite && !isLinkLevel(tag)
  }

  /** Busy to the refused message's sender, naming what it refused (protocol.ts busyFor). */
  refusal(pool: RecordBlock, slot: number, from: Pick<ActorContext, "send">): void {
    Sky.Busy.send(from, pool.getI(slot, I.origin), CONTROL_BYTES, busyFor(pool, slot))
  }
}
