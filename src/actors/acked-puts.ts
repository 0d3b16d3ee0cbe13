/**
 * Shares put with acknowledgement. The puts of one store job are one Effect program in virtual time
 * (runtime/fibers.ts): send them, wait at most PUT_TIMEOUT_SECONDS for every BlockPutAck, send again
 * those not acknowledged, up to PUT_ATTEMPTS sends (Effect.timeout, Effect.retry with
 * Schedule.recurs); what is still unacknowledged then is given up (counted; the block misses until it is
 * written again). One program per job, not per share: a fiber costs tens of microseconds to start, and
 * a store job puts hundreds of shares. A later put of the same share to the same satellite takes it
 * over from the job that sent it first. The owner calls `onAck` for each BlockPutAck.
 */
import { Deferred, Duration, Effect, Schedule } from "effect"
import { type PayloadWire, type SharePayload, wireSlot } from "../cache/payload-wire.js"
import { Sky } from "./protocol.js"
import type { SkyContext } from "./sky-context.js"

export const PUT_TIMEOUT_SECONDS = 0.5
export const PUT_ATTEMPTS = 3

/** Put a share on a satellite; acked = the satellite acknowledges it (BlockPutAck). */
export const sendShare = (ctx: SkyContext, wire: PayloadWire, sat: number, key: number, payload: SharePayload, acked: boolean): void => {
  wire.stage(sat, wireSlot.put(key, payload.share, sat), payload)
  Sky.BlockPut.send(ctx, sat, payload.chunks.reduce((n, c) => n + c.length, 0), { key, acked, share: payload.share })
}

export interface Put {
  readonly sat: number
  readonly key: number
  readonly payload: SharePayload
}

/** One store job's puts: those still waiting for their acknowledgement, by "key:satellite". */
export interface Batch {
  readonly waiting: Map<string, Put>
  readonly acked: Deferred.Deferred<void>
}

export class AckedPuts {
  /** "key:satellite" -> the batch that owns the put now. */
  private readonly owner = new Map<string, Batch>()

  constructor(private readonly wire: PayloadWire) {}

  /** A new store job's batch: put its shares with `put`, then `watch` it. */
  batch(): Batch {
    return { waiting: new Map(), acked: Deferred.makeUnsafe() }
  }

  /** Send one share now, as part of `batch` (the job's messages keep their order). */
  put(ctx: SkyContext, batch: Batch, p: Put): void {
    const slot = `${p.key}:${p.sat}`
    const before = this.owner.get(slot)
    if (before !== undefined && before !== batch) {
      // Taken over: the earlier job no longer waits for this put, and is done if it was its last.
      before.waiting.delete(slot)
      if (before.waiting.size === 0) Deferred.doneUnsafe(before.acked, Effect.void)
    }
    this.owner.set(slot, batch)
    batch.waiting.set(slot, p)
    sendShare(ctx, this.wire, p.sat, p.key, p.payload, true)
  }

  /**
   * See the batch's puts acknowledged, in virtual time: the job's program. `abandoned` is handed the
   * puts still unacknowledged after every attempt (their satellites did not answer: down, or unreachable);
   * `settled` is called when every put is acknowledged or given up.
   */
  watch(ctx: SkyContext, batch: Batch, abandoned?: (puts: ReadonlyArray<Put>) => void, settled?: () => void): void {
    if (batch.waiting.size === 0) return settled?.()
    let round = 0
    const attempt = Effect.suspend(() => {
      if (round++ > 0) {
        for (const p of batch.waiting.values()) {
          ctx.count("putRetries")
          sendShare(ctx, this.wire, p.sat, p.key, p.payload, true)
        }
      }
      return Deferred.await(batch.acked)
    }).pipe(Effect.timeout(Duration.seconds(PUT_TIMEOUT_SECONDS)))
    ctx.run(attempt.pipe(
      Effect.retry(Schedule.recurs(PUT_ATTEMPTS - 1)),
      Effect.catch(() => Effect.sync(() => {
        ctx.count("putsAbandoned", batch.waiting.size)
        abandoned?.([...batch.waiting.values()])
      })),
      Effect.ensuring(Effect.sync(() => {
        // A put taken over left this batch's waiting (put): what is left here is this batch's own.
        for (const slot of batch.waiting.keys()) this.owner.delete(slot)
        batch.waiting.clear()
        settled?.()
      }))
    ))
  }

  /** Puts awaiting their acknowledgement, over all batches (for tests: a settled batch leaves none). */
  get awaiting(): number {
    return this.owner.size
  }

  /** A BlockPutAck from `sat` for block `key`. */
  onAck(key: number, sat: number): void {
    const slot = `${key}:${sat}`
    const batch = this.owner.get(slot)
    if (batch === undefined) return
    this.owner.delete(slot)
    batch.waiting.delete(slot)
    if (batch.waiting.size === 0) Deferred.doneUnsafe(batch.acked, Effect.void)
  }
}
