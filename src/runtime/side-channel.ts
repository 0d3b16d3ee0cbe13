/**
 * Bytes beside the records: for each ordered pair of shards (from, to) and each window parity, a byte
 * area in a SharedArrayBuffer holding length-prefixed frames. Records are fixed 96-byte slots with sizes,
 * not contents; a world whose messages must carry real bytes to an actor of another shard (SkyMemory's
 * KV shares) writes them here in the window it sends the record, and the receiving shard reads them
 * when it ingests that window's records, so the bytes are there before any record that needs them can
 * be delivered. Same parity discipline as the record mailboxes (mailbox.ts).
 *
 * Layout per area: [used bytes: Int32][frames: (length: Uint32, bytes)...].
 */
export class SideChannelOverflow extends Error {
  readonly _tag = "SideChannelOverflow"
  constructor(readonly from: number, readonly to: number, readonly capacity: number, readonly needed: number) {
    super(`side channel ${from} -> ${to} needs ${needed} bytes in one window but holds ${capacity} (raise the world's sideChannelBytes)`)
  }
}

const HEADER = 8

export class SideChannel {
  private readonly used: Array<Int32Array> = []
  private readonly areas: Array<Uint8Array> = []
  private readonly views: Array<DataView> = []

  static bytes(shards: number, capacity: number): number {
    return shards * shards * 2 * (HEADER + capacity)
  }

  static allocate(shards: number, capacity: number): SideChannel {
    return new SideChannel(new SharedArrayBuffer(SideChannel.bytes(shards, capacity)), shards, capacity)
  }

  /** A run's side channel: none for a world without one (capacity 0 or absent) or for a single shard. */
  static forRun(capacity: number | undefined, shards: number): SideChannel | undefined {
    return capacity !== undefined && capacity > 0 && shards > 1 ? SideChannel.allocate(shards, capacity) : undefined
  }

  constructor(readonly buffer: SharedArrayBuffer, readonly shards: number, readonly capacity: number) {
    let off = 0
    for (let k = 0; k < shards * shards * 2; k++) {
      this.used.push(new Int32Array(buffer, off, 1))
      off += HEADER
      this.areas.push(new Uint8Array(buffer, off, capacity))
      this.views.push(new DataView(buffer, off, capacity))
      off += capacity
    }
  }

  private index(from: number, to: number, parity: number): number {
    return (from * this.shards + to) * 2 + parity
  }

  /** Append one frame for shard `to`, sent in a window of parity `parity`. */
  write(from: number, to: number, parity: number, frame: Uint8Array): void {
    const k = this.index(from, to, parity)
    const used = this.used[k]!
    const at = used[0]!
    if (at + 4 + frame.length > this.capacity) throw new SideChannelOverflow(from, to, this.capacity, at + 4 + frame.length)
    this.views[k]!.setUint32(at, frame.length)
    this.areas[k]!.set(frame, at + 4)
    used[0] = at + 4 + frame.length
  }

  /** Hand each frame `from` left for `to` in parity `parity` to `each` (a view: copy what is kept), then clear. */
  drain(from: number, to: number, parity: number, each: (frame: Uint8Array) => void): void {
    const k = this.index(from, to, parity)
    const used = this.used[k]!
    const end = used[0]!
    const area = this.areas[k]!
    const view = this.views[k]!
    for (let at = 0; at < end;) {
      const n = view.getUint32(at)
      each(area.subarray(at + 4, at + 4 + n))
      at += 4 + n
    }
    used[0] = 0
  }
}
