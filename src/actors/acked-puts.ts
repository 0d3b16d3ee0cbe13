/**
 * Shares put with acknowledgement, as one Effect program per share (runtime/fibers.ts, virtual time):
 * send, wait for its BlockPutAck at most PUT_TIMEOUT_SECONDS, and on a timeout send again, up to
 * PUT_ATTEMPTS sends (Effect.timeout, Effect.retry with Schedule.recurs); then it is given up (counted;
 * the block misses until it is written again). The owner calls `onAck` for each BlockPutAck; a new put
 * of the same share to the same satellite replaces the one in progress.
 */
import { Deferred, Duration, Effect, type Fiber, Schedule } from "effect"
import { type PayloadWire, type SharePayload, wireSlot } from "../cache/payload-wire.js"
import { Sky } from "./protocol.js"
import type { SkyContext } from "./sky-context.js"

export const PUT_TIMEOUT_SECONDS = 0.5
export const PUT_ATTEMPTS = 3

/** Put a share on a satellite; acked = the satellite acknowledges it (BlockPutAck). */
export const sendShare = (ctx: SkyContext, wire: PayloadWire, sat: number, key: number, payload: SharePayload, acked: boolean): void => {
  wire.stage(wireSlot.put(key, payload.share, sat), payload)
  Sky.BlockPut.send(ctx, sat, payload.chunks.reduce((n, c) => n + c.length, 0), { key, acked, share: payload.share })
}

interface InFlight {
  readonly ack: Deferred.Deferred<void>
  /** Set once the program runs: a replacing put ends it. */
  fiber?: Fiber.Fiber<unknown, unknown>
}

export class AckedPuts {
  /** "key:satellite" -> the put waiting for its acknowledgement. */
  private readonly inFlight = new Map<string, InFlight>()

  constructor(private readonly wire: PayloadWire) {}

  send(ctx: SkyContext, sat: number, key: number, payload: SharePayload): void {
    const slot = `${key}:${sat}`
    this.inFlight.get(slot)?.fiber?.interruptUnsafe()
    const put: InFlight = { ack: Deferred.makeUnsafe<void>() }
    this.inFlight.set(slot, put)
    let sends = 0
    const attempt = Effect.suspend(() => {
      if (sends++ > 0) ctx.count("putRetries")
      sendShare(ctx, this.wire, sat, key, payload, true)
      return Deferred.await(put.ack)
    }).pipe(Effect.timeout(Duration.seconds(PUT_TIMEOUT_SECONDS)))
    ctx.run(Effect.gen({ self: this }, function* () {
      put.fiber = yield* Effect.fiber
      yield* attempt.pipe(
        Effect.retry(Schedule.recurs(PUT_ATTEMPTS - 1)),
        Effect.catch(() => Effect.sync(() => ctx.count("putsAbandoned")))
      )
    }).pipe(Effect.ensuring(Effect.sync(() => {
      if (this.inFlight.get(slot) === put) this.inFlight.delete(slot)
    }))))
  }

  /** A BlockPutAck from `sat` for block `key`: the put is done. */
  onAck(key: number, sat: number): void {
    const put = this.inFlight.get(`${key}:${sat}`)
    if (put) Deferred.doneUnsafe(put.ack, Effect.void)
  }
}
