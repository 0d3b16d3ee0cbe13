/**
 * The bytes that travel with cache messages when real KV must come back (the inference actor). Messages
 * in the runtime are fixed records that carry a size, not bytes, so that millions a second fit through
 * the engine; a sender that has bytes to send stages them here under a slot both ends can name from the
 * message (block key, share, request id), and the receiver takes them on delivery. At rest the bytes
 * live in the satellites' chunk stores (as the store's payload), so eviction and loss drop them for
 * real. Bytes of a message that is dropped stay staged until the run ends.
 * One wire per shard: bytes for an actor another shard owns are handed to `elsewhere` (the world sends
 * them through the engine's side channel, and the other shard's wire `receive`s them before the record).
 */
import { deserialize, serialize } from "node:v8"
export type ShareChunks = ReadonlyArray<Uint8Array>

/**
 * One share of a block as stored: its index among the block's S shares travels with it, because after
 * a minimal-move migration the satellites of a block are the placement's set but not in its order.
 */
export interface SharePayload {
  readonly share: number
  readonly chunks: ShareChunks
}

export interface PayloadWireOptions {
  /**
   * Bit errors: per-bit error probability on every link a share crosses, and each receiving actor's
   * seeded uniform [0, 1) source that decides which bits flip (per actor, so the flips do not depend on
   * how actors are split between shards).
   */
  readonly bitErrors?: { readonly rate: number; readonly randomFor: (actor: number) => () => number }
  /** Bytes for actor `to` that this wire does not hold (another shard's): true if it took them. */
  readonly elsewhere?: (to: number, slot: string, payload: SharePayload) => boolean
}

export class PayloadWire {
  private readonly slots = new Map<string, SharePayload>()

  constructor(private readonly o: PayloadWireOptions = {}) {}

  /** Stage the bytes of a message to actor `to` under `slot`. */
  stage(to: number, slot: string, payload: SharePayload): void {
    if (this.o.elsewhere?.(to, slot, payload)) return
    this.slots.set(slot, payload)
  }

  /** Bytes another shard's wire staged for an actor of this one. */
  receive(slot: string, payload: SharePayload): void {
    this.slots.set(slot, payload)
  }

  /** The share staged under `slot`, taken by `taker` after crossing `hops` links (bit errors applied to a copy). */
  take(slot: string, hops: number, taker: number): SharePayload | undefined {
    const c = this.slots.get(slot)
    if (c === undefined) return undefined
    this.slots.delete(slot)
    const e = this.o.bitErrors
    if (e === undefined || e.rate <= 0) return c
    const random = e.randomFor(taker)
    const chunks = c.chunks.map((chunk) => {
      // P(at least one flip) over the chunk's bits on every link; then one flipped bit (rates are small).
      const p = -Math.expm1(chunk.length * 8 * Math.max(1, hops) * Math.log1p(-e.rate))
      if (chunk.length === 0 || random() >= p) return chunk
      const bad = Uint8Array.from(chunk)
      const bit = Math.floor(random() * chunk.length * 8)
      bad[bit >>> 3]! ^= 1 << (bit & 7)
      return bad
    })
    return { share: c.share, chunks }
  }
}

/** Staged bytes as one frame between threads (v8's structured serialisation: Uint8Arrays as they are). */
export const encodeStaged = (slot: string, payload: SharePayload): Uint8Array => serialize({ slot, share: payload.share, chunks: payload.chunks })

export const decodeStaged = (frame: Uint8Array): { readonly slot: string; readonly payload: SharePayload } => {
  // A copy first: the deserialised chunks are views into the buffer they came from, and `frame` is a
  // view into a shared area the sender reuses.
  const v = deserialize(Uint8Array.from(frame)) as { slot?: unknown; share?: unknown; chunks?: unknown }
  if (typeof v.slot !== "string" || !Number.isInteger(v.share) || !Array.isArray(v.chunks) || !v.chunks.every((c) => c instanceof Uint8Array)) {
    throw new TypeError("a staged-bytes frame is not { slot, share, chunks }")
  }
  return { slot: v.slot, payload: { share: v.share as number, chunks: v.chunks as Array<Uint8Array> } }
}

/** Slot names: one per kind of message that carries a share. */
export const wireSlot = {
  // The destination is part of the name: with replicas, copies of one share travel to several satellites at once.
  put: (key: number, share: number, to: number) => `put:${key}:${share}:${to}`,
  reply: (reader: number, request: number, index: number) => `reply:${reader}:${request}:${index}`,
  migrate: (key: number, to: number) => `mig:${key}:${to}`
}
