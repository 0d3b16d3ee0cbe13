/**
 * Manifests: the list of shares one migration message is about. A handover moves every block a writer
 * placed (~26 blocks on average in the conversation trace's first 1,000 requests), and each old server
 * hands all of its shares to one new server; one message per share crossing ~21 ISL hops made
 * migration cost far more events than the bytes it moves. So a writer sends each old server one
 * MigrateOrder for all the shares that go to one new server, and that server sends them on as one
 * MigrateData train (the network pipelines a train: see network/topology-actor.ts; shares with bytes
 * still go one to a message: kv-protocol.ts followHandover). Records are fixed slots with no room for
 * a list, so the list rides beside the record, as a share's bytes do (cache/payload-wire.ts): posted
 * under an id the record carries, taken by the receiver on delivery.
 *
 * Entries are rows of ENTRY numbers (the message decides what they mean: see protocol.ts). An id is
 * (sender's count of posts, sender), so it does not depend on how actors are split between shards; a
 * manifest for an actor of another shard goes through the engine's side channel in the window it is
 * posted, and is there before its record. A manifest whose message is dropped stays until the run ends.
 */

/** Numbers per manifest entry. */
export const ENTRY = 4

/** Shares in one train at most (its bytes stay well inside a record's int32 size). */
export const MAX_TRAIN_SHARES = 256
export class Manifests {
  private readonly held = new Map<number, Float64Array>()
  private readonly posted: Int32Array

  constructor(
    private readonly actorCount: number,
    /** A manifest for actor `to` that this shard does not own: true if it was sent to its shard. */
    private readonly elsewhere?: (to: number, frame: Uint8Array) => boolean
  ) {
    this.posted = new Int32Array(actorCount)
  }

  /** Post `entries` (rows of ENTRY numbers) from actor `from` for actor `to`; returns the id its message carries. */
  post(from: number, to: number, entries: Float64Array): number {
    if (entries.length === 0 || entries.length % ENTRY !== 0) throw new RangeError(`a manifest holds rows of ${ENTRY} numbers, got ${entries.length}`)
    const id = this.posted[from]! * this.actorCount + from
    this.posted[from]!++
    if (this.elsewhere !== undefined) {
      const frame = new Float64Array(entries.length + 1)
      frame[0] = id
      frame.set(entries, 1)
      if (this.elsewhere(to, new Uint8Array(frame.buffer))) return id
    }
    this.held.set(id, entries)
    return id
  }

  /** The entries posted under `id` (and forget them); undefined if there are none here. */
  take(id: number): Float64Array | undefined {
    const e = this.held.get(id)
    if (e !== undefined) this.held.delete(id)
    return e
  }

  /** A manifest another shard posted for an actor of this one (a frame from `post`'s elsewhere). */
  receive(frame: Uint8Array): void {
    if (frame.byteLength % 8 !== 0 || frame.byteLength < 8 * (1 + ENTRY) || (frame.byteLength / 8 - 1) % ENTRY !== 0) throw new RangeError(`a manifest frame of ${frame.byteLength} bytes`)
    // The frame is a view into the side channel: copy it out (aligned) before keeping it.
    const all = new Float64Array(frame.slice().buffer)
    this.held.set(all[0]!, all.subarray(1))
  }

  /** Manifests held and not yet taken (for tests). */
  get size(): number {
    return this.held.size
  }
}
