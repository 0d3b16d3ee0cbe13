/**
 * The inference actor's network side: a ground actor that looks up and fetches a prompt prefix's blocks
 * from the constellation and stores new ones, with their real bytes (through the PayloadWire). The
 * model itself runs outside the engine (in a worker pool, in wall time); the driver hands this actor
 * jobs through its port and wakes it, and the engine runs the protocol in virtual time:
 * - lookup: fetch every share of the prompt's blocks from the S satellites the placement puts around
 *   this actor's own serving satellite now (blocks it wrote itself: where it last sent them), one round
 *   trip to nearby satellites, the paper's ground setting; the cached prefix is the leading blocks whose
 *   S shares all came back.
 * - store: the directory entry and the S shares of each block, around this actor's serving satellite;
 *   with redundancy r, r copies of each share on r x S distinct satellites (copy g of share k on the
 *   placement's satellite g * S + k: the nearest S hold the first copy).
 * Each share that comes back is checked (CRC, HMAC) before it counts. A share that is missing, corrupted
 * or unanswered is asked of its next copy; a copy found where an earlier one was missing or corrupted is
 * written back there (read repair: how a crashed satellite's shares are re-placed once it is back).
 * Like the replay client, it moves the blocks it wrote when its serving satellite changes.
 * In time, each lookup is an Effect program (its deadline and rounds of asking again: Effect.timeout,
 * Effect.retry) and each acknowledged put another (acked-puts.ts); replies are plain handlers that
 * complete what the programs await.
 */
import { Deferred, Duration, Effect, Schedule } from "effect"
import { type PayloadWire, type ShareChunks, type SharePayload, wireSlot } from "../cache/payload-wire.js"
import { AckedPuts, type Put, sendShare } from "./acked-puts.js"
import { MAX_COPIES, type ShareCheck, ShareFetch, type ShareFetchOptions } from "./share-fetch.js"
import { match } from "../runtime/protocol.js"
import { followHandover, type HashedServer, livePlacement, placedPrefix, serversOf, type WrittenBlocks } from "./kv-protocol.js"
import { Sky, skySpecs } from "./protocol.js"
import type { SkyBehaviour, SkyContext } from "./sky-context.js"
import { CONTROL_BYTES } from "./satellite.js"
import { HealthView } from "./health.js"
import { ENTRY } from "./manifests.js"

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

/** One key of an independent lookup, reported as soon as it settles. */
export interface ValueResult {
  readonly kind: "value"
  /** The key's index in the job. */
  readonly index: number
  /** Its shares (share order) if every one came back good; undefined: a miss. */
  readonly shares?: ReadonlyArray<ShareChunks>
  readonly startedAt: number
  readonly finishedAt: number
  /** Chunks of this key's shares that came back and failed their check. */
  readonly badChunks: number
}

export type InferenceJob =
  | { readonly kind: "lookup"; readonly keys: ReadonlyArray<number>; readonly done: (r: LookupResult) => void }
  /** Keys that are separate values (a front end's GETs batched together): `each` once per key as it settles. */
  | { readonly kind: "values"; readonly keys: ReadonlyArray<number>; readonly each: (r: ValueResult) => void }
  | {
    readonly kind: "store"
    readonly keys: ReadonlyArray<number>
    /** Per block, per share: the share's chunks. */
    readonly shares: ReadonlyArray<ReadonlyArray<ShareChunks>>
    /** Done only when every put is acknowledged (or given up), not when sent. */
    readonly acked?: boolean
    /** Shares with no chunks are not put, and lookups of these keys ask only the shares that hold chunks. */
    readonly sparse?: boolean
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
  /** Anchored placement (our strategy): blocks stay where they were written; no migration on handover. */
  readonly anchored?: boolean
  /** A lookup still waiting for answers after this long (virtual s) asks again; see FETCH_RETRIES. */
  readonly timeoutSeconds?: number
  /** Copies of each share (default 1), on distinct satellites. */
  readonly redundancy?: number
  /** The check each share that comes back must pass; none = shares are taken as they come. */
  readonly verify?: ShareCheck
  /**
   * The check for a named value's shares (values jobs), else `verify`. A value written again is sealed
   * under a new write number that only its reader knows (cache/integrity.ts): here the CRCs can be checked,
   * the tags only by the reader.
   */
  readonly verifyValue?: ShareCheck
}

interface Lookup {
  readonly id: number
  readonly job: Extract<InferenceJob, { kind: "lookup" | "values" }>
  readonly start: number
  /** The fetch of the leading placed blocks' shares (none: no block is placed on enough satellites). */
  fetch?: ShareFetch
  /** Completed once nothing is left to wait for (no block to fetch, or every share settled). */
  readonly settled: Deferred.Deferred<void>
}

export const MAX_REDUNDANCY = MAX_COPIES

export interface InferenceState extends WrittenBlocks {
  next: number
  readonly lookups: Map<number, Lookup>
  readonly puts: AckedPuts
  /** Keys stored sparse whose last shares hold no chunk: key -> shares that do (the leading ones). */
  readonly held: Map<number, number>
  /** Which satellites it believes are up: heartbeats to the satellites holding its shares. */
  readonly health: HealthView
}

/** Rounds of asking again for unanswered shares before a lookup gives up on them. */
const FETCH_RETRIES = 2

/** The inference actor's timers (Tick.timer): a job is waiting (the host's wake); an epoch passed. */
export const InferenceTimer = { job: 0, epoch: 1 } as const

export const inference = (o: InferenceOptions): SkyBehaviour<InferenceState> => {
  const S = o.servers
  const R = o.redundancy ?? 1
  if (!(Number.isInteger(R) && R >= 1 && R <= MAX_REDUNDANCY)) throw new RangeError(`redundancy must be an integer in [1, ${MAX_REDUNDANCY}], got ${R}`)
  const fetchOptions: ShareFetchOptions = {
    servers: S, copies: R, wire: o.wire, ...(o.verify ? { verify: o.verify } : {}),
    // Read repair is best effort: not acknowledged, the next reader repairs again if it was lost.
    repair: (ctx, sat, key, share) => sendShare(ctx, o.wire, sat, key, share, false)
  }
  const valueFetchOptions: ShareFetchOptions = o.verifyValue ? { ...fetchOptions, verify: o.verifyValue } : fetchOptions
  /** Satellites of every copy of a block's shares (R x S, copy-major), among those up in its view. */
  const placed = (state: InferenceState, ctx: SkyContext, key: number, writer: number) => serversOf(ctx, R * S, key, writer, o.hashedServer, state.health.at(ctx.now))
  /** Independent keys that settled since the last look: report each. */
  const reportSettled = (ctx: SkyContext, l: Lookup) => {
    const f = l.fetch!
    if (l.job.kind !== "values") return
    for (const j of f.settledBlocks) {
      const hit = f.complete(j)
      const bad = f.badChunksIn(j)
      l.job.each({ kind: "value", index: j, ...(hit ? { shares: f.shares[j]! as ReadonlyArray<ShareChunks> } : {}), startedAt: l.start, finishedAt: ctx.now, badChunks: bad })
    }
    f.settledBlocks.length = 0
  }
  const finishLookup = (state: InferenceState, ctx: SkyContext, l: Lookup, timedOut = false) => {
    state.lookups.delete(l.id)
    const f = l.fetch
    if (l.job.kind === "values") {
      // What has not settled by now never will: misses.
      for (let j = 0; j < l.job.keys.length; j++) if (f!.waitingIn(j)) f!.failBlock(j)
      ctx.count("inferenceLookups", l.job.keys.length)
      return reportSettled(ctx, l)
    }
    const hit = f ? f.leadingComplete() : 0
    const satellites = new Set<number>()
    for (let j = 0; j < hit; j++) for (let k = 0; k < S; k++) if (f!.from[j * S + k]! >= 0) satellites.add(f!.from[j * S + k]!)
    ctx.count("inferenceLookups")
    ctx.count("inferenceHitBlocks", hit)
    l.job.done({
      kind: "lookup",
      blocks: f ? f.shares.slice(0, hit).map((b) => b.map((c) => c!)) : [],
      satellites: [...satellites].sort((a, b) => a - b),
      startedAt: l.start,
      finishedAt: ctx.now,
      timedOut,
      discarded: f?.discarded ?? [],
      badChunks: f?.badChunks ?? 0
    })
  }
  /**
   * Puts that no send got acknowledged: their satellites are down in this actor's view from now on, and
   * each share goes to the placement's next satellite that is up (the actor still has the bytes), watched
   * the same way. Keyed placements have no next satellite: their shares stay lost (counted).
   */
  const rePut = (state: InferenceState, ctx: SkyContext, user: number) => (puts: ReadonlyArray<Put>): void => {
    for (const p of puts) state.health.suspect(p.sat, ctx.now)
    const centre = ctx.servingOf(user)
    const batch = state.puts.batch()
    for (const p of puts) {
      const current = state.written.get(p.key)
      const at = current?.indexOf(p.sat) ?? -1
      // The block moved on (a handover's migration) or was forgotten since: nothing to re-place.
      if (!current || at < 0) continue
      const next = centre < 0 ? undefined : livePlacement(ctx, centre, 2 * R * S, state.health.at(ctx.now)).find((s) => !current.includes(s))
      if (next === undefined) {
        ctx.count("sharesLost")
        continue
      }
      // A new array: placements are shared between blocks that moved alike (followHandover).
      state.written.set(p.key, current.map((s, i) => (i === at ? next : s)))
      ctx.count("sharesReplaced")
      state.puts.put(ctx, batch, { sat: next, key: p.key, payload: p.payload })
    }
    state.puts.watch(ctx, batch, rePut(state, ctx, user))
  }
  const startJob = (state: InferenceState, ctx: SkyContext, user: number, job: InferenceJob) => {
    if (job.kind === "store") {
      const used = new Set<number>()
      const batch = state.puts.batch()
      job.keys.forEach((key, j) => {
        const servers = placed(state, ctx, key, user)
        if (servers.length < R * S) return ctx.count("unplaced")
        Sky.DirPut.send(ctx, o.directoryOf(key), CONTROL_BYTES, { key, replica: false, locator: user })
        // Chunk c is in share c mod S, so the shares that hold chunks are the leading ones.
        const held = job.sparse ? job.shares[j]!.filter((chunks) => chunks.length > 0).length : S
        if (held < S) state.held.set(key, held)
        else state.held.delete(key)
        servers.forEach((sat, p) => {
          if (p % S >= held) return
          state.puts.put(ctx, batch, { sat, key, payload: { share: p % S, chunks: job.shares[j]![p % S]! } })
          used.add(sat)
        })
        if (!o.hashedServer) state.written.set(key, [...servers])
      })
      const report = () => job.done({ kind: "store", satellites: [...used].sort((a, b) => a - b), at: ctx.now })
      // A store job is done when its puts are sent, or (acked) when every one is acknowledged or given up.
      state.puts.watch(ctx, batch, rePut(state, ctx, user), job.acked ? report : undefined)
      if (!job.acked) report()
      return
    }
    const id = state.next++
    const n = job.keys.length
    if (job.kind === "values") {
      const l: Lookup = { id, job, start: ctx.now, settled: Deferred.makeUnsafe() }
      state.lookups.set(id, l)
      // Keys this actor wrote are where it last sent them; others where the placement would put them now.
      const targets = job.keys.map((key) => state.written.get(key) ?? (ctx.servingOf(user) < 0 ? [] : placed(state, ctx, key, user)))
      l.fetch = new ShareFetch(valueFetchOptions, l.id, job.keys, targets, n, { held: (j) => state.held.get(job.keys[j]!) ?? S, independent: true })
      targets.forEach((t, j) => { if (t.length < R * S) l.fetch!.failBlock(j) })
      l.fetch.start(ctx)
      reportSettled(ctx, l)
      if (l.fetch.settled) Deferred.doneUnsafe(l.settled, Effect.void)
      ctx.run(lookup(state, ctx, l))
      return
    }
    // Out of reach of the constellation (a coverage gap): nothing can be asked, everything is a miss.
    if (ctx.servingOf(user) < 0) {
      ctx.count("lookupsWithoutSatellite")
      job.done({ kind: "lookup", blocks: [], satellites: [], startedAt: ctx.now, finishedAt: ctx.now, timedOut: false, discarded: [], badChunks: 0 })
      return
    }
    const l: Lookup = { id, job, start: ctx.now, settled: Deferred.makeUnsafe() }
    state.lookups.set(id, l)
    fetchShares(state, ctx, l, user)
    ctx.run(lookup(state, ctx, l))
  }
  /** Ask the first copy of every share of the leading blocks placed on enough satellites. */
  const fetchShares = (state: InferenceState, ctx: SkyContext, l: Lookup, user: number) => {
    const keys = l.job.keys
    // Blocks this actor wrote: where it last sent them (current through its migrations, so a lookup in
    // the moment between a handover and the migration it triggers still finds them); others: the placement.
    const targets = keys.map((key) => state.written.get(key) ?? placed(state, ctx, key, user))
    const prefix = placedPrefix(R * S, targets)
    if (prefix === 0) return void Deferred.doneUnsafe(l.settled, Effect.void)
    l.fetch = new ShareFetch(fetchOptions, l.id, keys, targets, prefix, { held: (j) => state.held.get(keys[j]!) ?? S })
    l.fetch.start(ctx)
  }
  /**
   * Lookup `l` in time: wait until it settles, at most the timeout; answers were lost (a dropped
   * message, a satellite down) if not, and it asks again for exactly what is still missing (each share
   * still waiting, of its next copy: the same one with one copy), FETCH_RETRIES times; then what came
   * back counts, the rest are misses.
   */
  const lookup = (state: InferenceState, ctx: SkyContext, l: Lookup) => {
    let round = 0
    const wait = Effect.suspend(() => {
      if (round++ > 0) l.fetch?.retry(ctx)
      return Deferred.await(l.settled)
    }).pipe(Effect.timeout(Duration.seconds(o.timeoutSeconds ?? 2)))
    return wait.pipe(
      Effect.retry(Schedule.recurs(FETCH_RETRIES)),
      Effect.match({
        onSuccess: () => finishLookup(state, ctx, l),
        onFailure: () => {
          ctx.count("lookupTimeouts")
          finishLookup(state, ctx, l, true)
        }
      })
    )
  }
  const handle = match<typeof skySpecs, InferenceState, SkyContext>(skySpecs, {
    Tick: (state, m, ctx) => {
      const user = ctx.self - o.satellites
      switch (m.timer) {
        case InferenceTimer.epoch: {
          // Heartbeats to every satellite holding its shares; the moves below act on what they have told
          // so far, and ping the new satellites they wait for (not again those just pinged).
          const holding = new Set([...state.written.values()].flat())
          state.health.ping(ctx, holding)
          const probe = { answered: state.health.answeredAt(ctx.now), ping: (sats: ReadonlyArray<number>) => state.health.ping(ctx, sats.filter((s) => !holding.has(s))) }
          followHandover(state, ctx, user, S, R, state.health.at(ctx.now), probe, (key) => state.held.get(key) ?? S, 1)
          Sky.Tick.after(ctx, o.epochSeconds, { timer: InferenceTimer.epoch, id: 0 })
          return
        }
        default:
          for (let job = o.port.take(ctx.self); job; job = o.port.take(ctx.self)) startJob(state, ctx, user, job)
      }
    },
    BlockPutAck: (state, m) => state.puts.onAck(m.key, m.origin),
    Pong: (state, m, ctx) => state.health.heard(m.origin, ctx.now),
    // A share it ordered moved is gone (evicted or lost with a crashed store): copies re-place it from the
    // health view; counted.
    ShareGone: (_state, m, ctx) => ctx.count("sharesGone", (ctx.takeManifest(m.manifest)?.length ?? 0) / ENTRY),
    BlockReply: (state, m, ctx) => {
      const l = state.lookups.get(m.requestId)
      if (!l?.fetch) {
        // A late answer to a finished lookup: its bytes are not wanted.
        o.wire.take(wireSlot.reply(ctx.self, m.requestId, m.ask), m.hops, ctx.self)
        return
      }
      l.fetch.onReply(ctx, m)
      if (l.job.kind === "values") reportSettled(ctx, l)
      if (l.fetch.settled) Deferred.doneUnsafe(l.settled, Effect.void)
    }
  })
  return {
    kind: "inference",
    supervision: "restart",
    init: () => ({ next: 0, centre: -1, lookups: new Map(), written: new Map(), held: new Map(), puts: new AckedPuts(o.wire), health: new HealthView() }),
    start: (_self, _state, ctx) => {
      if (!o.hashedServer && !o.anchored) Sky.Tick.after(ctx, o.epochSeconds / 2, { timer: InferenceTimer.epoch, id: 0 })
    },
    handle
  }
}
