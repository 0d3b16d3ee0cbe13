import { type PayloadWire, type SharePayload, wireSlot } from "../cache/payload-wire.js"
import type { SkyContext } from "./sky-context.js"
import { Sky } from "./protocol.js"

/**
 * Shares put with acknowledgement: each is sent again if its satellite has not acknowledged it within
 * PUT_TIMEOUT_SECONDS of its last send, up to PUT_ATTEMPTS sends, then given up (counted; the block
 * misses until it is written again). The owner calls `onAck` for each BlockPutAck and `onTimer` when
 * its timer (Tick with timer = `timer`) fires; the timer is set here for the earliest deadline.
 */
export const PUT_TIMEOUT_SECONDS = 0.5
export const PUT_ATTEMPTS = 3

interface Unacked {
  readonly sat: number
  readonly key: number
  readonly payload: SharePayload
  sends: number
  due: number
}

/** Put a share on a satellite; acked = the satellite acknowledges it (BlockPutAck). */
export const sendShare = (ctx: SkyContext, wire: PayloadWire, sat: number, key: number, payload: SharePayload, acked: boolean): void => {
  wire.stage(wireSlot.put(key, payload.share, sat), payload)
  Sky.BlockPut.send(ctx, sat, payload.chunks.reduce((n, c) => n + c.length, 0), { key, acked, share: payload.share })
}

export class AckedPuts {
  /** "key:satellite" -> the share and its sends so far. */
  private readonly unacked = new Map<string, Unacked>()

  constructor(private readonly wire: PayloadWire, private readonly timer: number) {}

  send(ctx: SkyContext, sat: number, key: number, payload: SharePayload): void {
    if (this.unacked.size === 0) Sky.Tick.after(ctx, PUT_TIMEOUT_SECONDS, { timer: this.timer, id: 0 })
    this.unacked.set(`${key}:${sat}`, { sat, key, payload, sends: 1, due: ctx.now + PUT_TIMEOUT_SECONDS })
    sendShare(ctx, this.wire, sat, key, payload, true)
  }

  onAck(key: number, sat: number): void {
    this.unacked.delete(`${key}:${sat}`)
  }

  onTimer(ctx: SkyContext): void {
    for (const [slot, u] of this.unacked) {
      if (u.due > ctx.now) continue
      if (u.sends >= PUT_ATTEMPTS) {
        this.unacked.delete(slot)
        ctx.count("putsAbandoned")
        continue
      }
      u.sends++
      u.due = ctx.now + PUT_TIMEOUT_SECONDS
      ctx.count("putRetries")
      sendShare(ctx, this.wire, u.sat, u.key, u.payload, true)
    }
    let due = Number.POSITIVE_INFINITY
    for (const u of this.unacked.values()) due = Math.min(due, u.due)
    if (due < Number.POSITIVE_INFINITY) Sky.Tick.after(ctx, due - ctx.now, { timer: this.timer, id: 0 })
  }
}
