/**
 * Fetching the shares of a lookup's leading blocks, each share from one of its copies: the part of the
 * inference actor's protocol that decides what to ask whom. Copy g of share k of block j lives on
 * `targets[j][g * S + k]`. Every share is asked of its first copy; an answer is checked (`verify`) before
 * it counts. A missing copy sends the ask to the next copy; a corrupted one is asked once more (corruption
 * in flight reads clean the second time) and then counts as lost; a good copy found after lost ones is
 * written back over them (read repair, through `repair`). A share with no copy left fails, and the usable
 * prefix ends at its block. Use one ShareFetch per lookup; the actor feeds it replies and deadlines.
 */
import type { PayloadWire, ShareChunks, SharePayload } from "../cache/payload-wire.js"
import { wireSlot } from "../cache/payload-wire.js"
import type { View } from "../runtime/protocol.js"
import { Sky, type SkySpecs } from "./protocol.js"
import type { SkyContext } from "./sky-context.js"
import { CONTROL_BYTES } from "./satellite.js"

/** Chunks of a share (share.share of `servers`, block `key`) that fail their integrity check; 0 = good. */
export type ShareCheck = (key: number, share: SharePayload, servers: number) => number

export interface ShareFetchOptions {
  readonly servers: number
  /** 1 .. MAX_COPIES (the owner checks it once, where it is configured). */
  readonly copies: number
  readonly wire: PayloadWire
  /** The check every share that arrives must pass; none = shares are taken as they come. */
  readonly verify?: ShareCheck
  /** Write a good share back to a satellite whose copy was lost. */
  readonly repair: (ctx: SkyContext, sat: number, key: number, share: SharePayload) => void
}

/** Copies per share are at most 2^COPY_SHIFT (an ask record packs the share index and the copy). */
const COPY_SHIFT = 3
export const MAX_COPIES = 1 << COPY_SHIFT

/** Where one share stands. */
const WAITING = 0, GOT = 1, FAILED = 2

export class ShareFetch {
  /** Per block, per share: the good bytes that came back (dense arrays: a missing share must be seen). */
  readonly shares: Array<Array<ShareChunks | undefined>>
  /** Per share (j * S + k): the satellite that served it (-1: none, e.g. an empty share never asked). */
  readonly from: Int32Array
  /** Shares that came back and failed their check (block index, the share as it arrived): never served. */
  readonly discarded: Array<{ readonly block: number; readonly share: SharePayload }> = []
  /** Chunks of the discarded shares that failed their check (in all, and per block). */
  badChunks = 0
  private readonly badByBlock: Array<number> = []
  /** Leading blocks still worth fetching (shrinks when a share fails). */
  prefix: number
  private readonly status: Uint8Array
  /** The copy asked last, whether it came back corrupted once, and the copies found lost (bit g). */
  private readonly copy: Uint8Array
  private readonly corruptOnce: Uint8Array
  private readonly lostCopies: Uint8Array
  /** Every BlockGet sent (its ask is the index here): share index << COPY_SHIFT | copy. */
  private readonly asks: Array<number> = []
  /** Shares of blocks before `prefix` still waiting. */
  private waiting: number

  constructor(
    private readonly o: ShareFetchOptions,
    private readonly request: number,
    private readonly keys: ReadonlyArray<number>,
    private readonly targets: ReadonlyArray<ReadonlyArray<number>>,
    prefix: number,
    shape: {
      /** Shares of block j that hold chunks (the leading ones; a sparse value's others are empty, never asked). */
      readonly held?: (j: number) => number
      /**
       * Blocks are separate values, not a prefix: a failed share fails its own block only, and each block
       * is reported in `settledBlocks` once it has settled (every share back, or one failed).
       */
      readonly independent?: boolean
    } = {}
  ) {
    const S = o.servers
    this.prefix = prefix
    this.waiting = prefix * S
    this.shares = Array.from({ length: prefix }, () => Array.from<ShareChunks | undefined>({ length: S }))
    this.from = new Int32Array(prefix * S).fill(-1)
    this.status = new Uint8Array(prefix * S)
    this.copy = new Uint8Array(prefix * S)
    this.corruptOnce = new Uint8Array(prefix * S)
    this.lostCopies = new Uint8Array(prefix * S)
    this.independent = shape.independent ?? false
    this.blockLeft = new Int32Array(prefix).fill(S)
    for (let j = 0; j < prefix; j++) {
      for (let k = shape.held?.(j) ?? S; k < S; k++) {
        this.shares[j]![k] = []
        this.status[j * S + k] = GOT
        this.waiting--
        this.blockLeft[j]!--
      }
    }
  }

  private readonly independent: boolean
  /** Per block: shares still waiting (independent blocks settle one by one). */
  private readonly blockLeft: Int32Array
  /** Independent blocks settled since the owner last looked (it drains the array). */
  readonly settledBlocks: Array<number> = []

  /**
   * Independent block j settles as failed now: it cannot be fetched (no placement), one of its shares
   * failed, or the lookup ended with it still waiting.
   */
  failBlock(j: number): void {
    const S = this.o.servers
    for (let k = 0; k < S; k++) {
      if (this.status[j * S + k] !== WAITING) continue
      this.status[j * S + k] = FAILED
      this.waiting--
    }
    this.blockLeft[j] = 0
    this.settledBlocks.push(j)
  }

  /** Block j still has shares waiting. */
  waitingIn(j: number): boolean {
    return this.blockLeft[j]! > 0
  }

  /** Chunks of block j's shares that came back and failed their check. */
  badChunksIn(j: number): number {
    return this.badByBlock[j] ?? 0
  }

  /** Block j's every share came back good. */
  complete(j: number): boolean {
    return this.shares[j]!.every((c) => c !== undefined)
  }

  /** Nothing is left to wait for. */
  get settled(): boolean {
    return this.waiting === 0
  }

  /** Ask the first copy of every share. */
  start(ctx: SkyContext): void {
    for (let slot = 0; slot < this.prefix * this.o.servers; slot++) if (this.status[slot] === WAITING) this.ask(ctx, slot, 0)
  }

  /** Leading blocks whose every share came back good. */
  leadingComplete(): number {
    let hit = 0
    while (hit < this.prefix && this.complete(hit)) hit++
    return hit
  }

  /** A deadline passed: ask every share still waiting again, of its next copy (the same one if there is one). */
  retry(ctx: SkyContext): void {
    for (let slot = 0; slot < this.prefix * this.o.servers; slot++) {
      if (this.status[slot] !== WAITING) continue
      this.ask(ctx, slot, (this.copy[slot]! + 1) % this.o.copies)
      ctx.count("shareRetries")
    }
  }

  /** A BlockReply for this fetch (its ask: the index of the BlockGet it answers). */
  onReply(ctx: SkyContext, msg: View<SkySpecs["BlockReply"]>): void {
    const S = this.o.servers
    const record = this.asks[msg.ask]!
    const slot = record >>> COPY_SHIFT, copy = record & (MAX_COPIES - 1)
    const j = Math.floor(slot / S)
    const payload = this.o.wire.take(wireSlot.reply(ctx.self, this.request, msg.ask), msg.hops, ctx.self)
    // Settled already, or an answer from a copy asked before the last one (a late reply after a retry).
    if (this.status[slot] !== WAITING || j >= this.prefix) return
    const stale = copy !== this.copy[slot]
    if (msg.hit && payload) {
      const bad = this.o.verify?.(this.keys[j]!, payload, S) ?? 0
      if (bad === 0) {
        // The share a satellite holds is normally the one asked for; after a migration of blocks this
        // actor did not write, the placement's order can differ: a different share fills its own place.
        const into = j * S + payload.share
        if (into === slot) return this.accept(ctx, slot, payload, msg.origin)
        if (this.status[into] === WAITING) this.accept(ctx, into, payload, msg.origin)
        if (stale) return
        return this.nextCopy(ctx, slot, copy)
      }
      this.badChunks += bad
      this.badByBlock[j] = (this.badByBlock[j] ?? 0) + bad
      this.discarded.push({ block: j, share: payload })
      ctx.count("corruptChunksDetected", bad)
      if (stale) return
      // Corrupted in flight, a second read is clean; corrupted at rest, the copy is lost.
      if (!this.corruptOnce[slot]) {
        this.corruptOnce[slot] = 1
        ctx.count("shareRetries")
        return this.ask(ctx, slot, copy)
      }
      this.corruptOnce[slot] = 0
    } else if (stale) return
    this.lostCopies[slot]! |= 1 << copy
    this.nextCopy(ctx, slot, copy)
  }

  private ask(ctx: SkyContext, slot: number, copy: number): void {
    const S = this.o.servers
    const j = Math.floor(slot / S)
    this.copy[slot] = copy
    Sky.BlockGet.send(ctx, this.targets[j]![copy * S + (slot % S)]!, CONTROL_BYTES, { key: this.keys[j]!, requestId: this.request, ask: this.asks.length })
    this.asks.push((slot << COPY_SHIFT) | copy)
  }

  /** Copy `copy` of share `slot` did not serve: ask the next copy, or the share has failed. */
  private nextCopy(ctx: SkyContext, slot: number, copy: number): void {
    if (copy + 1 < this.o.copies) return this.ask(ctx, slot, copy + 1)
    this.settle(slot, FAILED)
  }

  /** A good copy of share `slot` arrived: keep it, and write it back where earlier copies were lost. */
  private accept(ctx: SkyContext, slot: number, share: SharePayload, from: number): void {
    const S = this.o.servers
    const j = Math.floor(slot / S)
    this.shares[j]![share.share] = share.chunks
    this.from[slot] = from
    for (let g = 0; g < this.o.copies; g++) {
      if ((this.lostCopies[slot]! & (1 << g)) === 0) continue
      this.o.repair(ctx, this.targets[j]![g * S + share.share]!, this.keys[j]!, share)
      ctx.count("readRepairs")
    }
    this.settle(slot, GOT)
  }

  /** Share `slot` is settled: a failed one ends the usable prefix at its block. */
  private settle(slot: number, status: number): void {
    const S = this.o.servers
    const j = Math.floor(slot / S)
    this.status[slot] = status
    if (this.independent) {
      this.waiting--
      if (status === FAILED) return this.failBlock(j)
      if (--this.blockLeft[j]! === 0) this.settledBlocks.push(j)
      return
    }
    if (j < this.prefix) this.waiting--
    if (status === FAILED && j < this.prefix) {
      // Blocks from j on cannot be served: stop waiting for them (this share is FAILED already).
      for (let i = j * S; i < this.prefix * S; i++) if (this.status[i] === WAITING) this.waiting--
      this.prefix = j
    }
  }
}
