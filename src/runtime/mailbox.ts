/**
 * Cross-shard mailboxes: for each ordered pair of shards (from, to) and each window parity, one block of
 * records in a SharedArrayBuffer plus a count. In window k shard `from` appends to parity k % 2; after the
 * window's barrier shard `to` drains it. Parity alternates so a writer of window k + 1 never touches what a
 * reader of window k may still be reading. No message is cloned: the batch is the bytes.
 *
 * A mailbox is bounded: a window that would overflow it raises MailboxOverflow with the capacity to raise.
 */
import { RECORD_BYTES, RecordBlock } from "./record.js"

export class MailboxOverflow extends Error {
  readonly _tag = "MailboxOverflow"
  constructor(readonly from: number, readonly to: number, readonly capacity: number) {
    super(`cross-shard mailbox ${from} -> ${to} overflowed its ${capacity} records in one window (raise mailboxCapacity)`)
  }
}

export const mailboxBytes = (shards: number, capacity: number): number => shards * shards * 2 * (8 + capacity * RECORD_BYTES)

export class Mailboxes {
  private readonly blocks: Array<RecordBlock> = []
  private readonly counts: Array<Int32Array> = []

  constructor(readonly buffer: SharedArrayBuffer, readonly shards: number, readonly capacity: number) {
    let off = 0
    for (let k = 0; k < shards * shards * 2; k++) {
      this.counts.push(new Int32Array(buffer, off, 2))
      off += 8
      this.blocks.push(new RecordBlock(buffer, off, capacity))
      off += capacity * RECORD_BYTES
    }
  }

  static allocate(shards: number, capacity: number): Mailboxes {
    return new Mailboxes(new SharedArrayBuffer(mailboxBytes(shards, capacity)), shards, capacity)
  }

  private index(from: number, to: number, parity: number): number {
    return (from * this.shards + to) * 2 + parity
  }

  /** Reserve a record in the (from, to, parity) mailbox; returns its block and record number. */
  reserve(from: number, to: number, parity: number): [RecordBlock, number] {
    const k = this.index(from, to, parity)
    const c = this.counts[k]!
    const n = c[0]!
    if (n >= this.capacity) throw new MailboxOverflow(from, to, this.capacity)
    c[0] = n + 1
    return [this.blocks[k]!, n]
  }

  /** The records waiting for `to` from `from` in a parity; call `clear` once they are read. */
  pending(from: number, to: number, parity: number): [RecordBlock, number] {
    const k = this.index(from, to, parity)
    return [this.blocks[k]!, this.counts[k]![0]!]
  }

  clear(from: number, to: number, parity: number): void {
    this.counts[this.index(from, to, parity)]![0] = 0
  }
}
