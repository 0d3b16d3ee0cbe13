import { type PayloadWire, type ShareChunks, type SharePayload, wireSlot } from "../cache/payload-wire.js"
import { type ActorContext, type Behaviour, cachedStep, type Envelope } from "./actor.js"
import { askPrefixShares, followHandover, type HashedServer, serversOf, type WrittenBlocks } from "./kv-protocol.js"
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
 * - store: the directory entry and the S shares of each block, around this actor's serving satellite.
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
  /** A lookup still waiting for answers after this long (virtual s) ends with what it has: the rest are misses. */
  readonly timeoutSeconds?: number
}

interface Lookup {
  readonly job: Extract<InferenceJob, { kind: "lookup" }>
  readonly start: number
  readonly writers: Int32Array
  readonly shares: Array<Array<ShareChunks | undefined>>
  readonly from: Int32Array
  /** Share requests (j * S + k) answered, so a late duplicate after a retry counts once. */
  readonly answered: Uint8Array
  targets: ReadonlyArray<ReadonlyArray<number>>
  retries: number
  dirLeft: number
  fetchLeft: number
  prefix: number
}

export interface InferenceState extends WrittenBlocks {
  next: number
  readonly lookups: Map<number, Lookup>
  /** Shares put but not acknowledged: "key:share" -> where, what, and how many sends so far. */
  readonly unacked: Map<string, { readonly sat: number; readonly key: number; readonly payload: SharePayload; sends: number }>
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
      timedOut
    })
  }
  const sendShare = (ctx: ActorContext, sat: number, key: number, payload: SharePayload) => {
    o.wire.stage(wireSlot.put(key, payload.share), payload)
    ctx.send(sat, Tag.BlockPut, payload.chunks.reduce((n, c) => n + c.length, 0), key, 1, 0, payload.share)
  }
  const startJob = (state: InferenceState, ctx: ActorContext, user: number, job: InferenceJob) => {
    if (job.kind === "store") {
      const used = new Set<number>()
      job.keys.forEach((key, j) => {
        const servers = serversOf(ctx, S, key, user, o.hashedServer)
        if (servers.length < S) return ctx.count("unplaced")
        ctx.send(o.directoryOf(key), Tag.DirPut, CONTROL_BYTES, key, 0, 0, user)
        servers.forEach((sat, k) => {
          const payload = { share: k, chunks: job.shares[j]![k]! }
          if (state.unacked.size === 0) ctx.after(PUT_TIMEOUT_SECONDS, Tag.Tick, WAKE_PUTS)
          state.unacked.set(`${key}:${k}`, { sat, key, payload, sends: 1 })
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
      job.done({ kind: "lookup", blocks: [], satellites: [], startedAt: ctx.now, finishedAt: ctx.now, timedOut: false })
      return
    }
    ctx.after(o.timeoutSeconds ?? 2, Tag.Tick, WAKE_TIMEOUT + id)
    const l: Lookup = {
      // Dense arrays of undefined, not holes: every() skips holes, and a missing share must fail it.
      job, start: ctx.now, writers: new Int32Array(n).fill(-2), shares: Array.from({ length: n }, () => Array.from<ShareChunks | undefined>({ length: S })),
      from: new Int32Array(n * S), answered: new Uint8Array(n * S), targets: [], retries: 0, dirLeft: n, fetchLeft: 0, prefix: 0
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
  /** Every block's writer is known: fetch the shares of the leading written blocks. */
  const fetchShares = (state: InferenceState, ctx: ActorContext, id: number, l: Lookup) => {
    const keys = l.job.keys
    // Blocks this actor wrote: where it last sent them (current through its migrations, so a lookup in
    // the moment between a handover and the migration it triggers still finds them); others: the placement.
    const asked = askPrefixShares(ctx, S, keys, l.writers, id, (j) => state.written.get(keys[j]!) ?? serversOf(ctx, S, keys[j]!, l.writers[j]!, o.hashedServer))
    l.prefix = asked.prefix
    l.targets = asked.targets
    if (l.prefix === 0) return finishLookup(state, ctx, id, l, 0)
    l.fetchLeft = l.prefix * S
  }
  const handle = (state: InferenceState, msg: Envelope, ctx: ActorContext): void => {
    const user = ctx.self - o.satellites
    switch (msg.tag) {
      case Tag.Tick: {
        if (msg.aux === WAKE_EPOCH) {
          followHandover(state, ctx, user, S)
          ctx.after(o.epochSeconds, Tag.Tick, WAKE_EPOCH)
          return
        }
        if (msg.aux === WAKE_PUTS) {
          // Shares whose acknowledgement did not come: send again, up to PUT_ATTEMPTS in all.
          for (const [slot, u] of state.unacked) {
            if (u.sends >= PUT_ATTEMPTS) {
              state.unacked.delete(slot)
              ctx.count("putsAbandoned")
              continue
            }
            u.sends++
            ctx.count("putRetries")
            sendShare(ctx, u.sat, u.key, u.payload)
          }
          if (state.unacked.size > 0) ctx.after(PUT_TIMEOUT_SECONDS, Tag.Tick, WAKE_PUTS)
          return
        }
        if (msg.aux >= WAKE_TIMEOUT) {
          const id = msg.aux - WAKE_TIMEOUT
          const l = state.lookups.get(id)
          if (!l) return
          // Answers were lost (a dropped message). Ask again for exactly the shares that did not answer,
          // with a new deadline, up to FETCH_RETRIES times; then what came back counts, the rest are misses.
          if (l.retries < FETCH_RETRIES && l.fetchLeft > 0) {
            l.retries++
            for (let j = 0; j < l.prefix; j++) {
              for (let k = 0; k < S; k++) {
                if (l.answered[j * S + k]) continue
                ctx.send(l.targets[j]![k]!, Tag.BlockGet, CONTROL_BYTES, l.job.keys[j]!, id, 0, j * S + k)
                ctx.count("shareRetries")
              }
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
        state.unacked.delete(`${msg.p0}:${msg.aux}`)
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
        if (!l || l.answered[msg.aux]) return
        l.answered[msg.aux] = 1
        const j = Math.floor(msg.aux / S)
        const payload = o.wire.take(wireSlot.reply(ctx.self, msg.p1, msg.aux), msg.hops)
        // The share this satellite holds (after migrations, not necessarily the one asked for).
        if (msg.p2 === 1 && payload) {
          l.shares[j]![payload.share] = payload.chunks
          l.from[j * S + payload.share] = msg.origin
        }
        if (--l.fetchLeft > 0) return
        return finishLookup(state, ctx, msg.p1, l, leadingComplete(l))
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
