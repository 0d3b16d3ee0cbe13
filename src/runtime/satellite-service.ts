import { Tag } from "../actors/messages.js"
import type { RunConfig } from "./config.js"
import { F, I, type RecordBlock } from "./record.js"

/**
 * The satellite service model (overload): a satellite handles one cache message at a time, each taking
 * satelliteServiceSecondsPerMessage + bytes / satelliteServiceBytesPerSecond, and messages wait in a
 * mailbox of at most satelliteMailboxMessages. Beacons, Busy replies and migration acks are link-level
 * control: no service time.
 * The engine asks `arrive` when a message reaches its satellite; a waiting message goes back into the
 * event queue until its service ends, marked (I.spare = 1) so that its second arrival is its delivery.
 */
export type Arrival = "deliver" | "wait" | "refuse"

/** Link-level control: delivered at once, never queued nor refused (so never answered with Busy). */
export const isLinkLevel = (tag: number): boolean => tag === Tag.Beacon || tag === Tag.Busy || tag === Tag.MigrateAck

export class SatelliteService {
  private readonly free: Float64Array
  private readonly depth: Int32Array
  /** Deepest any mailbox got. */
  peak = 0

  private constructor(private readonly cfg: RunConfig, satellites: number) {
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
  arrive(pool: RecordBlock, slot: number, at: number, time: number): Arrival {
    const tag = pool.getI(slot, I.tag)
    if (isLinkLevel(tag)) return "deliver"
    if (pool.getI(slot, I.spare) === 1) {
      this.depth[at]!--
      return "deliver"
    }
    const cfg = this.cfg
    if (this.depth[at]! >= cfg.satelliteMailboxMessages) return "refuse"
    const start = Math.max(time, this.free[at]!)
    const done = start + cfg.satelliteServiceSecondsPerMessage + (cfg.satelliteServiceBytesPerSecond > 0 ? pool.getI(slot, I.bytes) / cfg.satelliteServiceBytesPerSecond : 0)
    this.free[at] = done
    const depth = ++this.depth[at]!
    if (depth > this.peak) this.peak = depth
    pool.setF(slot, F.time, done)
    pool.setI(slot, I.spare, 1)
    return "wait"
  }
}
