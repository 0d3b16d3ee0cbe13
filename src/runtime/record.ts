/**
 * The binary form of a message in flight: fixed 96-byte records (6 float64 + 12 int32), the same layout
 * in the event queue and in the cross-shard mailboxes, so a window's cross-shard traffic moves as one
 * block of bytes and no message is ever a JavaScript object on the hot path.
 *
 * Ordering key of an event: (time, src, seq): `src` is the actor that scheduled this event (the sender,
 * or the satellite that forwarded the previous hop) and `seq` its own counter, so the order is total and
 * independent of how actors are spread over shards.
 */
export const RECORD_BYTES = 96
const F64_PER_RECORD = RECORD_BYTES / 8
const I32_PER_RECORD = RECORD_BYTES / 4
const I32_BASE = 12

/** float64 fields */
export const F = { time: 0, sentAt: 1, p0: 2, p1: 3, p2: 4, p3: 5 } as const
/** int32 fields */
/** `route`: root satellite of the routing tree the message follows (-1 until its first ISL hop; -2 - root once detoured round a down link). */
export const I = { at: 0, src: 1, seq: 2, dst: 3, tag: 4, hops: 5, bytes: 6, origin: 7, originSeq: 8, aux: 9, route: 10, spare: 11 } as const

export type F64Field = (typeof F)[keyof typeof F]
export type I32Field = (typeof I)[keyof typeof I]

/** A block of records over one ArrayBuffer or SharedArrayBuffer. */
export class RecordBlock {
  f64: Float64Array
  i32: Int32Array
  capacity: number

  constructor(capacityOrBuffer: number | ArrayBufferLike, byteOffset = 0, capacity?: number) {
    const buffer = typeof capacityOrBuffer === "number" ? new ArrayBuffer(capacityOrBuffer * RECORD_BYTES) : capacityOrBuffer
    this.capacity = typeof capacityOrBuffer === "number" ? capacityOrBuffer : (capacity ?? (buffer.byteLength - byteOffset) / RECORD_BYTES)
    this.f64 = new Float64Array(buffer, byteOffset, this.capacity * F64_PER_RECORD)
    this.i32 = new Int32Array(buffer, byteOffset, this.capacity * I32_PER_RECORD)
  }

  getF(r: number, f: F64Field): number {
    return this.f64[r * F64_PER_RECORD + f]!
  }
  setF(r: number, f: F64Field, v: number): void {
    this.f64[r * F64_PER_RECORD + f] = v
  }
  getI(r: number, f: I32Field): number {
    return this.i32[r * I32_PER_RECORD + I32_BASE + f]!
  }
  setI(r: number, f: I32Field, v: number): void {
    this.i32[r * I32_PER_RECORD + I32_BASE + f] = v
  }

  /** Copy record `from` of `src` into record `to` of this block. */
  copyFrom(src: RecordBlock, from: number, to: number): void {
    // A plain loop: subarray() would allocate a view object per copy, on the hottest path of the engine.
    const a = src.f64
    const b = this.f64
    const i = from * F64_PER_RECORD
    const j = to * F64_PER_RECORD
    for (let k = 0; k < F64_PER_RECORD; k++) b[j + k] = a[i + k]!
  }

  /** Double the capacity (only for blocks that own a plain ArrayBuffer). */
  grow(): void {
    const next = new RecordBlock(this.capacity * 2)
    next.f64.set(this.f64)
    this.f64 = next.f64
    this.i32 = next.i32
    this.capacity = next.capacity
  }
}

/**
 * The worker-boundary check of a raw record: known tag, actors in range, finite times not before the
 * window that receives it, hop count bounded. Returns the name of the bad field, or undefined.
 */
export const checkRecord = (block: RecordBlock, r: number, actorCount: number, maxTag: number, notBefore: number, maxHops: number): string | undefined => {
  const tag = block.getI(r, I.tag)
  if (tag < 1 || tag > maxTag) return "tag"
  for (const [name, f] of [["at", I.at], ["dst", I.dst], ["src", I.src], ["origin", I.origin]] as const) {
    const v = block.getI(r, f)
    if (v < 0 || v >= actorCount) return name
  }
  const time = block.getF(r, F.time)
  if (!Number.isFinite(time) || time < notBefore) return "time"
  const sentAt = block.getF(r, F.sentAt)
  if (!Number.isFinite(sentAt) || sentAt > time) return "sentAt"
  const hops = block.getI(r, I.hops)
  if (hops < 0 || hops > maxHops) return "hops"
  if (block.getI(r, I.bytes) < 0) return "bytes"
  return undefined
}
