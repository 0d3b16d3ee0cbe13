/**
 * The bytes that travel with cache messages when real KV must come back (the inference actor). Messages
 * in the runtime are fixed records that carry a size, not bytes, so that millions a second fit through
 * the engine; a sender that has bytes to send stages them here under a slot both ends can name from the
 * message (block key, share, request id), and the receiver takes them on delivery. At rest the bytes
 * live in the satellites' chunk stores (as the store's payload), so eviction and loss drop them for
 * real. Bytes of a message that is dropped stay staged until the run ends (counted by `staged`).
 * In-process runs only: the map is not shared between worker threads.
 */
export type ShareChunks = ReadonlyArray<Uint8Array>

/**
 * One share of a block as stored: its index among the block's S shares travels with it, because after
 * a minimal-move migration the satellites of a block are the placement's set but not in its order.
 */
export interface SharePayload {
  readonly share: number
  readonly chunks: ShareChunks
}

export class PayloadWire {
  private readonly slots = new Map<string, SharePayload>()
  /** Bits flipped in flight (fault injection), and chunks that carried at least one. */
  flippedBits = 0
  corruptedChunks = 0

  /**
   * @param bitErrors per-bit error probability on every link a share crosses (0 = none), and the
   *   seeded uniform [0, 1) source that decides which bits flip.
   */
  constructor(private readonly bitErrors?: { readonly rate: number; readonly random: () => number }) {}

  stage(slot: string, payload: SharePayload): void {
    this.slots.set(slot, payload)
  }

  /** The share staged under `slot`, after crossing `hops` links (bit errors applied to a copy). */
  take(slot: string, hops = 1): SharePayload | undefined {
    const c = this.slots.get(slot)
    if (c === undefined) return undefined
    this.slots.delete(slot)
    const e = this.bitErrors
    if (e === undefined || e.rate <= 0) return c
    const chunks = c.chunks.map((chunk) => {
      // P(at least one flip) over the chunk's bits on every link; then one flipped bit (rates are small).
      const p = -Math.expm1(chunk.length * 8 * Math.max(1, hops) * Math.log1p(-e.rate))
      if (chunk.length === 0 || e.random() >= p) return chunk
      const bad = Uint8Array.from(chunk)
      const bit = Math.floor(e.random() * chunk.length * 8)
      bad[bit >>> 3]! ^= 1 << (bit & 7)
      this.flippedBits++
      this.corruptedChunks++
      return bad
    })
    return { share: c.share, chunks }
  }

  get staged(): number {
    return this.slots.size
  }
}

/** Slot names: one per kind of message that carries a share. */
export const wireSlot = {
  // The destination is part of the name: with replicas, copies of one share travel to several satellites at once.
  put: (key: number, share: number, to: number) => `put:${key}:${share}:${to}`,
  reply: (reader: number, request: number, index: number) => `reply:${reader}:${request}:${index}`,
  migrate: (key: number, to: number) => `mig:${key}:${to}`
}
