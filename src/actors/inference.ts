import { type PayloadWire, type ShareChunks, type SharePayload, wireSlot } from "../cache/payload-wire.js"
import { type ActorContext, type Behaviour, cachedStep, type Envelope } from "./actor.js"
import { fetchablePrefix, followHandover, type HashedServer, serversOf, type WrittenBlocks } from "./kv-protocol.js"
import { Tag } from "./messages.js"
import { CONTROL_BYTES } from "./satellite.js"

/**
 * The inference actor's network side: a ground actor that looks up and fetches a prompt prefix's blocks
 * from the constellation and stores new ones, with their real bytes (through the PayloadWire). The
 * model itself runs outside the engine (in a worker pool, in wall time); the driver hands this actor
 * jobs through its port and wakes it, and the engine runs the protocol in virtual time:
 * - lookup: ask each block's directory satellite who wrote it (blocks it wrote itself it knows); fetch every share of the leading blocks
 *   that were written, from the S satellites the placement puts around the writer's serving satellite
 *   now; the cached prefix is the leading blocks whose S shares all came back.
 * - store: the directory entry and the S shares of each block, around this actor's serving satellite;
 *   with redundancy r, r copies of each share on r x S distinct satellites (copy g of share k on the
 *   placement's satellite g * S + k: the nearest S hold the first copy).
 * Each share that comes back is checked (CRC, HMAC) before it counts. A share that is missing, corrupted
 * or unanswered is asked of its next copy; a copy found where an earlier one was missing or corrupted is
 * written back there (read repair: how a crashed satellite's shares are re-placed once it is back).
 * Like the replay client, it moves the blocks it wrote when its serving satellite changes.
 */
export interface LookupResult {
  readonly kind: "lookup"
  /** Leading blocks whose every share came back, with their shares' bytes (share order). */
  readonly blocks: ReadonlyArray<ReadonlyArray<ShareChunks>>
  /** Distinct satellites that answered a share of a returned block. */
  readonly satellites: ReadonlyArray<number>
  readonly startedAt: number
  readonly finishedAt: number
  /** The lookup ended at its deadline: some answer never came (a lost message, a satellite down). */
  readonly timedOut: boolean
  /** Shares that came back but failed their check (block index, the share as it arrived): never served. */
  readonly discarded: ReadonlyArray<{ readonly block: number; readonly share: SharePayload }>
  /** Chunks of the discarded shares that failed their check. */
  readonly badChunks: number
}

export interface StoreResult {
  readonly kind: "store"
  readonly satellites: ReadonlyArray<number>
  readonly at: number
}

export type InferenceJob =
  | { readonly kind: "lookup"; readonly keys: ReadonlyArray<number>; readonly done: (r: LookupResult) => void }
  | {
    readonly kind: "store"
    readonly keys: ReadonlyArray<number>
    /** Per block, per share: the share's chunks. */
    readonly shares: ReadonlyArray<ReadonlyArray<ShareChunks>>
    readonly done: (r: StoreResult) => void
  }

/** Jobs from the driver to inference actors (in-process). */
export class InferencePort {
  private readonly queues = new Map<number, Array<InferenceJob>>()
  submit(actor: number, job: InferenceJob): void {
    const q = this.queues.get(actor) ?? []
    q.push(job)
    this.queues.set(actor, q)
  }
  take(actor: number): InferenceJob | undefined {
    return this.queues.get(actor)?.shift()
  }
}

export interface InferenceOptions {
  readonly satellites: number
  readonly servers: number
  readonly epochSeconds: number
  readonly directoryOf: (key: number) => number
  readonly hashedServer?: HashedServer
  readonly port: InferencePort
  readonly wire: PayloadWire
  /**
   * Where a lookup looks: "regional" (default; the paper's ground setting) asks the placement around this
   * actor's own serving satellite for every block, one round trip to nearby satellites; "directory" asks
   * each block's directory satellite who wrote it first, which finds blocks written by ground actors
   * elsewhere at the price of a round trip across the constellation.
   */
  readonly lookup?: "regional" | "directory"
  /** Anchored placement (our strategy): blocks stay where they were written; no migration on handover. */
  readonly anchored?: boolean
  /** A lookup still waiting for answers after this long (virtual s) asks again; see FETCH_RETRIES. */
  readonly timeoutSeconds?: number
  /** Copies of each share (default 1), on distinct satellites. */
  readonly redundancy?: number
  /** Chunks of a share that fail their integrity check (0 = good); none = shares are taken as they come. */
  readonly verify?: (key: number, share: SharePayload, servers: number) => number
}

/** Where one share of a lookup stands. */
const WAITING = 0, GOT = 1, FAILED = 2

interface Lookup {
  readonly job: Extract<InferenceJob, { kind: "lookup" }>
  readonly start: number
  readonly writers: Int32Array
  readonly shares: Array<Array<ShareChunks | undefined>>
  readonly from: Int32Array
  /** Per share (j * S + k): WAITING, GOT or FAILED; the copy asked last; whether that copy came back corrupted once. */
  readonly status: Uint8Array
  readonly copy: Uint8Array
  readonly corruptOnce: Uint8Array
  /** Per share: bit g set when copy g answered "not here" or came back corrupted twice (read-repair targets). */
  readonly lostCopies: Uint8Array
  /** Every BlockGet sent (aux = its index): share index * COPY_BITS + copy. */
  readonly asks: Array<number>
  readonly discarded: Array<{ block: number; share: SharePayload }>
  badChunks: number
  targets: ReadonlyArray<ReadonlyArray<number>>
  retries: number
  dirLeft: number
  /** Shares of blocks before `prefix` still WAITING. */
  waiting: number
  prefix: number
}

/** Copies per share are at most 2^COPY_SHIFT (an ask record packs the share index and the copy). */
const COPY_SHIFT = 3
export const MAX_REDUNDANCY = 1 << COPY_SHIFT

export interface InferenceState extends WrittenBlocks {
  next: number
  readonly lookups: Map<number, Lookup>
  /** Shares put but not acknowledged: "key:share" -> where, what, and how many sends so far. */
  readonly unacked: Map<string, { readonly sat: number; readonly key: number; readonly payload: SharePayload; sends: number; due: number }>
}

/** Rounds of asking again for unanswered shares before a lookup gives up on them. */
const FETCH_RETRIES = 2

/** A put not acknowledged after this long (virtual s; a few round trips to the box) is sent again. */
const PUT_TIMEOUT_SECONDS = 0.5

/** Sends of a share before it is given up (the block then misses until it is written again). */
const PUT_ATTEMPTS = 3

/** Timer tags (aux of a Tick): a job is waiting; an epoch passed; 2 + id: lookup id's timeout. */
export const WAKE_JOB = 0
const WAKE_EPOCH = 1
const WAKE_PUTS = -1
const WAKE_TIMEOUT = 2

export const inference = (o: InferenceOptions): Behaviour<InferenceState> => {
  const S = o.servers
  const R = o.redundancy ?? 1
  if (!(Number.isInteger(R) && R >= 1 && R <= MAX_REDUNDANCY)) throw new RangeError(`redundancy must be an integer in [1, ${MAX_REDUNDANCY}], got ${R}`)
  /** Satellites of every copy of a block's shares (R x S, copy-major). */
  const placed = (ctx: ActorContext, key: number, writer: number) => serversOf(ctx, R * S, key, writer, o.hashedServer)
  /** Leading blocks of a lookup whose every share came back. */
  const leadingComplete = (l: Lookup) => {
    let hit = 0
    while (hit < l.prefix && l.shares[hit]!.every((c) => c !== undefined)) hit++
    return hit
  }
  const finishLookup = (state: InferenceState, ctx: ActorContext, id: number, l: Lookup, hit: number, timedOut = false) => {
    state.lookups.delete(id)
    const satellites = new Set<number>()
    for (let j = 0; j < hit; j++) for (let k = 0; k < S; k++) satellites.add(l.from[j * S + k]!)
    ctx.count("inferenceLookups")
    ctx.count("inferenceHitBlocks", hit)
    l.job.done({
      kind: "lookup",
      blocks: l.shares.slice(0, hit).map((b) => b.map((c) => c!)),
      satellites: [...satellites].sort((a, b) => a - b),
      startedAt: l.start,
      finishedAt: ctx.now,
      timedOut,
      discarded: l.discarded,
      badChunks: l.badChunks
    })
  }
  /** Put a share on a satellite; acked = the satellite acknowledges (and this actor retransmits until it does). */
  const sendShare = (ctx: ActorContext, sat: number, key: number, payload: SharePayload, acked = true) => {
    o.wire.stage(wireSlot.put(key, payload.share, sat), payload)
    ctx.send(sat, Tag.BlockPut, payload.chunks.reduce((n, c) => n + c.length, 0), key, acked ? 1 : 0, 0, payload.share)
  }
  /** Ask copy `copy` of share `slot` (= j * S + k) of lookup `id`. */
  const ask = (ctx: ActorContext, id: number, l: Lookup, slot: number, copy: number) => {
    const j = Math.floor(slot / S)
    l.copy[slot] = copy
    ctx.send(l.targets[j]![copy * S + (slot % S)]!, Tag.BlockGet, CONTROL_BYTES, l.job.keys[j]!, id, 0, l.asks.length)
    l.asks.push((slot << COPY_SHIFT) | copy)
  }
  /** Share `slot` is settled (GOT or FAILED): a failed one ends the usable prefix at its block. */
  const settle = (state: InferenceState, ctx: ActorContext, id: number, l: Lookup, slot: number, status: number) => {
    const j = Math.floor(slot / S)
    l.status[slot] = status
    if (j < l.prefix) l.waiting--
    if (status === FAILED && j < l.prefix) {
      // Blocks from j on cannot be served: stop waiting for them.
      for (let i = (j + 1) * S; i < l.prefix * S; i++) if (l.status[i] === WAITING) l.waiting--
      for (let i = j * S; i < (j + 1) * S; i++) if (i !== slot && l.status[i] === WAITING) l.waiting--
      l.prefix = j
    }
    if (l.waiting === 0) finishLookup(state, ctx, id, l, leadingComplete(l))
  }
  /** Copy `copy` of share `slot` did not serve: ask the next copy, or the share has failed. */
  const nextCopy = (state: InferenceState, ctx: ActorContext, id: number, l: Lookup, slot: number, copy: number) => {
    if (copy + 1 < R) return ask(ctx, id, l, slot, copy + 1)
    settle(state, ctx, id, l, slot, FAILED)
  }
  /** A good copy of share `slot` arrived: keep it, and write it back where earlier copies were lost. */
  const accept = (state: InferenceState, ctx: ActorContext, id: number, l: Lookup, slot: number, share: SharePayload, from: number) => {
    const j = Math.floor(slot / S)
    l.shares[j]![share.share] = share.chunks
    l.from[slot] = from
    for (let g = 0; g < R; g++) {
      if ((l.lostCopies[slot]! & (1 << g)) === 0) continue
      sendShare(ctx, l.targets[j]![g * S + share.share]!, l.job.keys[j]!, share, false)
      ctx.count("readRepairs")
    }
    settle(state, ctx, id, l, slot, GOT)
  }
  const startJob = (state: InferenceState, ctx: ActorContext, user: number, job: InferenceJob) => {
    if (job.kind === "store") {
      const used = new Set<number>()
      job.keys.forEach((key, j) => {
        const servers = placed(ctx, key, user)
        if (servers.length < R * S) return ctx.count("unplaced")
        ctx.send(o.directoryOf(key), Tag.DirPut, CONTROL_BYTES, key, 0, 0, user)
        servers.forEach((sat, p) => {
          const payload = { share: p % S, chunks: job.shares[j]![p % S]! }
          if (state.unacked.size === 0) ctx.after(PUT_TIMEOUT_SECONDS, Tag.Tick, WAKE_PUTS)
          state.unacked.set(`${key}:${sat}`, { sat, key, payload, sends: 1, due: ctx.now + PUT_TIMEOUT_SECONDS })
          sendShare(ctx, sat, key, payload)
          used.add(sat)
        })
        if (!o.hashedServer) state.written.set(key, [...servers])
      })
      job.done({ kind: "store", satellites: [...used].sort((a, b) => a - b), at: ctx.now })
      return
    }
    const id = state.next++
    const n = job.keys.length
    // Out of reach of the constellation (a coverage gap): nothing can be asked, everything is a miss.
    if (ctx.servingOf(user) < 0) {
      ctx.count("lookupsWithoutSatellite")
      job.done({ kind: "lookup", blocks: [], satellites: [], startedAt: ctx.now, finishedAt: ctx.now, timedOut: false, discarded: [], badChunks: 0 })
      return
    }
    ctx.after(o.timeoutSeconds ?? 2, Tag.Tick, WAKE_TIMEOUT + id)
    const l: Lookup = {
      // Dense arrays of undefined, not holes: every() skips holes, and a missing share must fail it.
      job, start: ctx.now, writers: new Int32Array(n).fill(-2), shares: Array.from({ length: n }, () => Array.from<ShareChunks | undefined>({ length: S })),
      from: new Int32Array(n * S), status: new Uint8Array(n * S), copy: new Uint8Array(n * S), corruptOnce: new Uint8Array(n * S), lostCopies: new Uint8Array(n * S),
      asks: [], discarded: [], badChunks: 0, targets: [], retries: 0, dirLeft: n, waiting: 0, prefix: 0
    }
    state.lookups.set(id, l)
    // Blocks this actor wrote itself need no directory round trip: it knows where they are.
    job.keys.forEach((key, j) => {
      if (o.lookup !== "directory" || state.written.has(key)) {
        l.writers[j] = user
        l.dirLeft--
      } else ctx.send(o.directoryOf(key), Tag.DirGet, CONTROL_BYTES, key, id, 0, j)
    })
    if (l.dirLeft === 0) fetchShares(state, ctx, id, l)
  }
  /** Every block's writer is known: ask the first copy of every share of the leading written blocks. */
  const fetchShares = (state: InferenceState, ctx: ActorContext, id: number, l: Lookup) => {
    const keys = l.job.keys
    // Blocks this actor wrote: where it last sent them (current through its migrations, so a lookup in
    // the moment between a handover and the migration it triggers still finds them); others: the placement.
    const found = fetchablePrefix(R * S, l.writers, (j) => state.written.get(keys[j]!) ?? placed(ctx, keys[j]!, l.writers[j]!))
    l.prefix = found.prefix
    l.targets = found.targets
    l.waiting = l.prefix * S
    if (l.prefix === 0) return finishLookup(state, ctx, id, l, 0)
    for (let slot = 0; slot < l.prefix * S; slot++) ask(ctx, id, l, slot, 0)
  }
  /** A copy answered: good (keep it), missing or corrupted (ask another copy, or the same once more). */
  const onShare = (state: InferenceState, ctx: ActorContext, msg: Envelope, l: Lookup) => {
    const id = msg.p1
    const record = l.asks[msg.aux]!
    const slot = record >>> COPY_SHIFT, copy = record & ((1 << COPY_SHIFT) - 1)
    const j = Math.floor(slot / S)
    const payload = o.wire.take(wireSlot.reply(ctx.self, id, msg.aux), msg.hops)
    // Settled already, or an answer from a copy asked before the last one (a late reply after a retry).
    if (l.status[slot] !== WAITING || j >= l.prefix) return
    const stale = copy !== l.copy[slot]
    if (msg.p2 === 1 && payload) {
      const bad = o.verify?.(l.job.keys[j]!, payload, S) ?? 0
      // The share this satellite holds is normally the one asked for; after a migration of blocks this
      // actor did not write, the placement's order can differ: a different share fills its own place.
      const into = j * S + payload.share
      if (bad === 0) {
        if (into === slot) return accept(state, ctx, id, l, slot, payload, msg.origin)
        if (l.status[into] === WAITING) accept(state, ctx, id, l, into, payload, msg.origin)
        if (!state.lookups.has(id) || stale) return
        return nextCopy(state, ctx, id, l, slot, copy)
      }
      l.badChunks += bad
      l.discarded.push({ block: j, share: payload })
      ctx.count("corruptChunksDetected", bad)
      if (stale) return
      // Corrupted in flight, a second read is clean; corrupted at rest, the copy is lost.
      if (!l.corruptOnce[slot]) {
        l.corruptOnce[slot] = 1
        ctx.count("shareRetries")
        return ask(ctx, id, l, slot, copy)
      }
      l.corruptOnce[slot] = 0
      l.lostCopies[slot]! |= 1 << copy
      return nextCopy(state, ctx, id, l, slot, copy)
    }
    if (stale) return
    l.lostCopies[slot]! |= 1 << copy
    nextCopy(state, ctx, id, l, slot, copy)
  }
  const handle = (state: InferenceState, msg: Envelope, ctx: ActorContext): void => {
    const user = ctx.self - o.satellites
    switch (msg.tag) {
      case Tag.Tick: {
        if (msg.aux === WAKE_EPOCH) {
          followHandover(state, ctx, user, S, R)
          ctx.after(o.epochSeconds, Tag.Tick, WAKE_EPOCH)
          return
        }
        if (msg.aux === WAKE_PUTS) {
          // Shares whose acknowledgement did not come in time: send again, up to PUT_ATTEMPTS in all.
          for (const [slot, u] of state.unacked) {
            if (u.due > ctx.now) continue
            if (u.sends >= PUT_ATTEMPTS) {
              state.unacked.delete(slot)
              ctx.count("putsAbandoned")
              continue
            }
            u.sends++
            u.due = ctx.now + PUT_TIMEOUT_SECONDS
            ctx.count("putRetries")
            sendShare(ctx, u.sat, u.key, u.payload)
          }
          let due = Number.POSITIVE_INFINITY
          for (const u of state.unacked.values()) due = Math.min(due, u.due)
          if (due < Number.POSITIVE_INFINITY) ctx.after(due - ctx.now, Tag.Tick, WAKE_PUTS)
          return
        }
        if (msg.aux >= WAKE_TIMEOUT) {
          const id = msg.aux - WAKE_TIMEOUT
          const l = state.lookups.get(id)
          if (!l) return
          // Answers were lost (a dropped message, a satellite down). Ask again for exactly the shares
          // still waiting, of their next copy (the same one when there is one copy), with a new deadline,
          // up to FETCH_RETRIES times; then what came back counts, the rest are misses.
          if (l.retries < FETCH_RETRIES) {
            l.retries++
            for (let slot = 0; slot < l.prefix * S; slot++) {
              if (l.status[slot] !== WAITING) continue
              ask(ctx, id, l, slot, (l.copy[slot]! + 1) % R)
              ctx.count("shareRetries")
            }
            ctx.after(o.timeoutSeconds ?? 2, Tag.Tick, WAKE_TIMEOUT + id)
            return
          }
          ctx.count("lookupTimeouts")
          return finishLookup(state, ctx, id, l, leadingComplete(l), true)
        }
        for (let job = o.port.take(ctx.self); job; job = o.port.take(ctx.self)) startJob(state, ctx, user, job)
        return
      }
      case Tag.CachePutAck:
        state.unacked.delete(`${msg.p0}:${msg.origin}`)
        return
      case Tag.DirReply: {
        const l = state.lookups.get(msg.p1)
        if (!l) return
        l.writers[msg.aux] = msg.p2
        if (--l.dirLeft > 0) return
        return fetchShares(state, ctx, msg.p1, l)
      }
      case Tag.BlockReply: {
        const l = state.lookups.get(msg.p1)
        if (!l) {
          o.wire.take(wireSlot.reply(ctx.self, msg.p1, msg.aux))
          return
        }
        return onShare(state, ctx, msg, l)
      }
    }
  }
  return {
    kind: "inference",
    supervision: "restart",
    init: () => ({ next: 0, centre: -1, lookups: new Map(), written: new Map(), unacked: new Map() }),
    start: (_self, _state, ctx) => {
      if (!o.hashedServer && !o.anchored) ctx.after(o.epochSeconds / 2, Tag.Tick, WAKE_EPOCH)
    },
    receive: cachedStep(handle),
    handle
  }
}
