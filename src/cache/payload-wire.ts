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

  stage(slot: string, payload: SharePayload): void {
    this.slots.set(slot, payload)
  }

  take(slot: string): SharePayload | undefined {
    const c = this.slots.get(slot)
    if (c !== undefined) this.slots.delete(slot)
    return c
  }

  get staged(): number {
    return this.slots.size
  }
}

/** Slot names: one per kind of message that carries a share. */
export const wireSlot = {
  put: (key: number, share: number) => `put:${key}:${share}`,
  reply: (reader: number, request: number, index: number) => `reply:${reader}:${request}:${index}`,
  migrate: (key: number, to: number) => `mig:${key}:${to}`
}
