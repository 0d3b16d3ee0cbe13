/**
 * A replay client: one conversation of a request trace, at one place on the ground. For each request:
 * 1. ask each block's directory satellite (its key's home) who wrote it;
 * 2. once the answers settle the prefix (every block up to the first unwritten one has answered; the
 *    rest are not waited for), fetch the leading blocks that were written: one share from each of the
 *    S satellites that the placement puts around the writer's serving satellite now (or, for the
 *    baseline, the key's hashed satellites); a block is a hit only if all S shares come back, and the
 *    hit prefix stops at the first block that is not;
 * 3. write every block after the hit prefix: its shares to the S satellites around this client's
 *    serving satellite, and the directory entry.
 * Every epoch it checks whether its serving satellite changed; if so it migrates the blocks it wrote:
 * servers that left the placement hand their share to the satellites that entered it.
 * Every request ends in one outcome, counted with its reason: served (some blocks hit), missed (none:
 * not cached, no satellite overhead, or answers lost past the deadline), or rejected (a satellite's
 * mailbox was full, or this client already had maxInFlight requests waiting).
 *
 * A request's lookup (directory, then shares, under one deadline) is an Effect program in virtual time
 * (ActorContext.run): it awaits the directory's answers and then the shares' (Deferreds the handlers
 * complete when the last answer arrives), under Effect.timeoutOption; a refused lookup interrupts it.
 */
import { Deferred, Duration, Effect, type Fiber, Option } from "effect"
import { tracedBlockKey } from "../cache/keys.js"
import { match } from "../runtime/protocol.js"
import { askPrefixShares, followHandover, type HashedServer, serversOf as placedServers, shareSizes, type WrittenBlocks } from "./kv-protocol.js"
import { ENTRY } from "./manifests.js"
import { Sky, skySpecs, Tag } from "./protocol.js"
import type { SkyBehaviour, SkyContext } from "./sky-context.js"
import { CONTROL_BYTES } from "./satellite.js"

export interface ClientOptions {
  readonly firstUserId: number
  readonly requests: ReadonlyArray<ReadonlyArray<{ readonly time: number; readonly hashIds: ReadonlyArray<number>; readonly inputTokens: number }>>
  /**
   * Time to first token of every request, whatever its outcome: its lookup (directory and shares, in
   * virtual time), then the prefill of the prompt's tokens not served from the cache on the run's device.
   */
  readonly ttft: { readonly blockTokens: number; readonly prefillSeconds: (from: number, to: number) => number }
  readonly servers: number
  readonly blockBytes: number
  readonly chunkBytes: number
  readonly epochSeconds: number
  readonly directoryOf: (key: number) => number
  /** Baseline placement: the satellite of share k of a block, wherever the writer is. */
  readonly hashedServer?: HashedServer
  /**
   * Anchored placement (our strategy): a block stays on the satellites it was written to; the directory
   * records the write-time centre satellite instead of the writer, readers look around that centre,
   * and nothing migrates when the writer's serving satellite changes.
   */
  readonly anchored?: boolean
  /**
   * Anchored: a block of another writer (its anchor found through the directory) fetched from further
   * than this many hops is placed again around this client's serving satellite, a copy the directory
   * hands to readers nearer it (CentredStrategy.replicateBeyondHops). Absent: no copies.
   */
  readonly replicateBeyondHops?: number
  readonly namespace: { readonly modelId: string; readonly tenantSalt: string }
  /** Requests in flight at once; one more is rejected at the source (default: unbounded). */
  readonly maxInFlight?: number
}

interface Pending {
  readonly start: number
  readonly inputTokens: number
  readonly keys: ReadonlyArray<number>
  readonly writers: Int32Array
  readonly shareHit: Uint8Array
  /** Blocks before this one answered written (locator >= 0): the prefix is known once it reaches one answered unwritten, or the end. */
  dirScan: number
  fetchLeft: number
  prefix: number
  /** Completed by the directory answer that settles the prefix (prefixKnown), and by the last share's. */
  readonly located: Deferred.Deferred<void>
  readonly fetched: Deferred.Deferred<void>
  /** The lookup's program (interrupted when a satellite refuses the lookup). */
  lookup?: Fiber.Fiber<unknown, unknown>
}

/** A request's new blocks' candidate anchors (key -> candidates) and their loads as they come back (LoadReply). */
interface Choosing {
  readonly candidates: Map<number, ReadonlyArray<number>>
  readonly loads: Map<number, number>
}

export interface ClientState extends WrittenBlocks {
  next: number
  readonly pending: Map<number, Pending>
  /**
   * Anchored placement: where blocks it wrote or found live (key -> anchor). An anchor does not move, so
   * a block it has seen needs no directory round trip; one found gone there is written again.
   */
  readonly anchors: Map<number, number>
  /** Anchored: keys whose anchor came from the directory (other writers' blocks), which may be copied near this client. */
  readonly found: Set<number>
  /** Requests whose new blocks will choose among candidate anchors, by request id. */
  readonly choosing: Map<number, Choosing>
  /**
   * -1 while an epoch tick is due; else the time the next one would have had, had the client not gone to
   * sleep with nothing written (see Tick).
   */
  sleepingTick: number
}

/** The client's timers (Tick.timer): the next request is due; an epoch passed. */
const Timer = { request: 0, epoch: 1 } as const
/** A request still waiting after this long (virtual s) lost a message: it ends with what came back. */
const REQUEST_TIMEOUT_SECONDS = 30

export const client = (o: ClientOptions): SkyBehaviour<ClientState> => {
  const S = o.servers
  const shareBytes = shareSizes(o.blockBytes, o.chunkBytes, S)
  // The directory's locator: the writer (placement follows it), or for anchored blocks the write-time centre.
  const serversOf = (ctx: SkyContext, key: number, locator: number) =>
    o.anchored ? ctx.placement(locator, S) : placedServers(ctx, S, key, locator, o.hashedServer)
  /**
   * Whether the directory's answers so far settle the request's prefix: every block up to one answered
   * unwritten (or to the end) has answered. Later answers cannot lengthen it, so the lookup goes on to
   * the shares without them (a long prompt's first turn asks ~140 directories across the constellation
   * and hits one block: it used to wait for the farthest).
   */
  const prefixKnown = (p: Pending) => {
    while (p.dirScan < p.writers.length && p.writers[p.dirScan]! >= 0) p.dirScan++
    return p.dirScan === p.writers.length || p.writers[p.dirScan] === -1
  }
  /**
   * Whether anchor `at` is too far from satellite `near` to read from again rather than place a copy near
   * it. With no satellite overhead (near < 0) every anchor is: its lookup asks the directory.
   */
  const far = (ctx: SkyContext, near: number, at: number) =>
    o.replicateBeyondHops !== undefined && (near < 0 || ctx.hops(near, at) > o.replicateBeyondHops)
  /**
   * Place a copy of each hit block of another writer that came from far (see `far`) around this
   * client's serving satellite, and tell the block's directory (DirPut `replica`); the client reads it
   * there from now on.
   */
  const replicateFar = (state: ClientState, ctx: SkyContext, p: Pending, hit: number, near: number) => {
    for (let j = 0; j < hit && near >= 0; j++) {
      const key = p.keys[j]!
      const at = state.anchors.get(key)
      if (at === undefined || !state.found.has(key) || !far(ctx, near, at)) continue
      const servers = ctx.placement(near, S)
      if (servers.length < S) return
      place(ctx, key, servers, near, true)
      ctx.count("replicaBytes", o.blockBytes)
      state.anchors.set(key, near)
    }
  }
  /** Block `key`'s directory entry (`locator`; `replica`: a copy beside the block's own) and its S shares on `servers`. */
  const place = (ctx: SkyContext, key: number, servers: ReadonlyArray<number>, locator: number, replica: boolean) => {
    Sky.DirPut.send(ctx, o.directoryOf(key), CONTROL_BYTES, { key, replica, locator })
    servers.forEach((s, k) => Sky.BlockPut.send(ctx, s, shareBytes[k]!, { key, acked: false, share: k }))
  }
  /** Leading blocks of a request whose S shares all came back. */
  const leadingHits = (p: Pending) => {
    let hit = 0
    while (hit < p.prefix && p.shareHit.subarray(hit * S, (hit + 1) * S).every((x) => x === 1)) hit++
    return hit
  }
  /**
   * Count a request's end: its blocks, those served from the cache, its outcome, and its time to first
   * token against the same prompt without a cache. Sums are integer microseconds (exact in any order).
   */
  const tally = (ctx: SkyContext, p: Pending, hit: number, outcome: "served" | "missed" | "rejected") => {
    const blocks = p.keys.length
    ctx.count("requests")
    ctx.count("blocks", blocks)
    ctx.count("hitBlocks", hit)
    ctx.countOverTime("blocks", blocks)
    ctx.countOverTime("hitBlocks", hit)
    ctx.count(`outcome.${outcome}`)
    // A fully cached prompt still prefills its last token (the model needs its logits).
    const cached = Math.min(hit * o.ttft.blockTokens, Math.max(0, p.inputTokens - 1))
    const ttft = ctx.now - p.start + o.ttft.prefillSeconds(cached, p.inputTokens)
    const cold = o.ttft.prefillSeconds(0, p.inputTokens)
    ctx.record("ttft", ttft)
    ctx.record("coldTtft", cold)
    ctx.count("ttftMicros", Math.round(ttft * 1e6))
    ctx.count("coldTtftMicros", Math.round(cold * 1e6))
  }
  /** A request that will not be served from the cache: every block is a miss (the model prefills it all). */
  const reject = (state: ClientState, ctx: SkyContext, id: number, p: Pending, reason: "satelliteMailbox" | "clientBacklog") => {
    tally(ctx, p, 0, "rejected")
    ctx.count(`rejectedBy.${reason}`)
    state.pending.delete(id)
    state.choosing.delete(id)
  }
  const finish = (state: ClientState, ctx: SkyContext, id: number, p: Pending, hit: number, store = true) => {
    const user = ctx.self - o.firstUserId
    if (hit > 0) ctx.record("retrieval", ctx.now - p.start)
    tally(ctx, p, hit, hit > 0 ? "served" : "missed")
    state.pending.delete(id)
    const choice = state.choosing.get(id)
    state.choosing.delete(id)
    if (!store) return
    const centre = ctx.servingOf(user)
    if (hit > 0 && o.replicateBeyondHops !== undefined) replicateFar(state, ctx, p, hit, centre)
    if (hit === p.keys.length) return
    const keys = p.keys.slice(hit)
    if (!o.anchored || centre < 0) return write(state, ctx, keys)
    // A block already placed (written or found before) is written again where it was; a new one around
    // the least loaded of its candidates that have answered by now (asked when the request started). One
    // that has not counts as the most loaded: waiting for it would land the block later than any other
    // strategy lands its own, and a reader coming soon after would miss it (docs/decisions.md).
    const load = (a: number) => choice?.loads.get(a) ?? Number.POSITIVE_INFINITY
    write(state, ctx, keys, keys.map((key) =>
      state.anchors.get(key) ?? (choice?.candidates.get(key) ?? ctx.anchorsOf(centre, key)).reduce((best, a) => (load(a) < load(best) ? a : best))))
  }
  /**
   * Anchored strategies with several candidate anchors: ask each candidate of the request's blocks not
   * placed yet for its box's write load, at the request's start, so that most answers are in by the time
   * its lookup ends and its new blocks are written (finish).
   */
  const askLoads = (state: ClientState, ctx: SkyContext, id: number, keys: ReadonlyArray<number>, centre: number) => {
    const candidates = new Map<number, ReadonlyArray<number>>()
    for (const key of keys) {
      const c = state.anchors.has(key) ? [] : ctx.anchorsOf(centre, key)
      if (c.length > 1) candidates.set(key, c)
    }
    if (candidates.size === 0) return
    const asked = [...new Set([...candidates.values()].flat())]
    state.choosing.set(id, { candidates, loads: new Map() })
    for (const a of asked) Sky.LoadGet.send(ctx, a, CONTROL_BYTES, { requestId: id })
  }
  /**
   * Write blocks `keys` (a request's blocks after its hit prefix): their shares and directory entries.
   * Anchored: around `anchors` (one per block; none: the writer has no satellite overhead, nothing is
   * placed); otherwise around the writer's serving satellite (the same servers for every block it writes
   * now), or where a keyed strategy hashes each.
   */
  const write = (state: ClientState, ctx: SkyContext, keys: ReadonlyArray<number>, anchors?: ReadonlyArray<number>) => {
    const user = ctx.self - o.firstUserId
    let around: ReadonlyArray<number> | undefined
    keys.forEach((key, j) => {
      const servers = anchors ? ctx.placement(anchors[j]!, S) : o.anchored ? [] : o.hashedServer ? serversOf(ctx, key, user) : (around ??= serversOf(ctx, key, user))
      if (servers.length < S) return ctx.count("unplaced")
      place(ctx, key, servers, anchors ? anchors[j]! : user, false)
      ctx.count("putBytes", o.blockBytes)
      // One array for the blocks placed alike (never changed in place: followHandover).
      if (!o.hashedServer && !o.anchored) state.written.set(key, servers)
      if (anchors) state.anchors.set(key, anchors[j]!)
      state.found.delete(key)
    })
    if (state.sleepingTick >= 0 && state.written.size > 0) wake(state, ctx)
  }
  /**
   * Resume the epoch ticks on the times of the one-epoch chain (the same additions, so the same times).
   * A tick due exactly now counts as past: a write landing on a tick's time is not expected of
   * continuous arrival times.
   */
  const wake = (state: ClientState, ctx: SkyContext) => {
    let t = state.sleepingTick
    while (t <= ctx.now) t += o.epochSeconds
    state.sleepingTick = -1
    Sky.Tick.after(ctx, t - ctx.now, { timer: Timer.epoch, id: 0 })
  }
  /**
   * Request `id`'s lookup: ask every block's directory, await the answers that settle the prefix
   * (prefixKnown); ask the shares of the leading written blocks, await them; end with the leading hits.
   * At the deadline it ends with what came back.
   */
  const lookup = (state: ClientState, ctx: SkyContext, id: number, p: Pending) => {
    const located = Effect.gen(function* () {
      const near = ctx.servingOf(ctx.self - o.firstUserId)
      p.keys.forEach((key, j) => {
        const known = state.anchors.get(key)
        // Another writer's block remembered too far away: the directory may know a copy nearer.
        if (known === undefined || (state.found.has(key) && far(ctx, near, known))) {
          return Sky.DirGet.send(ctx, o.directoryOf(key), CONTROL_BYTES, { key, requestId: id, near, block: j })
        }
        p.writers[j] = known
      })
      if (!prefixKnown(p)) yield* Deferred.await(p.located)
      p.prefix = askPrefixShares(ctx, S, p.keys, p.writers, id, (j) => serversOf(ctx, p.keys[j]!, p.writers[j]!)).prefix
      if (p.prefix === 0) return 0
      p.fetchLeft = p.prefix * S
      yield* Deferred.await(p.fetched)
      return leadingHits(p)
    })
    return Effect.gen(function* () {
      p.lookup = yield* Effect.fiber
      const hit = yield* located.pipe(Effect.timeoutOption(Duration.seconds(REQUEST_TIMEOUT_SECONDS)))
      if (Option.isSome(hit)) return finish(state, ctx, id, p, hit.value)
      ctx.count("timedOut")
      finish(state, ctx, id, p, p.fetchLeft > 0 ? leadingHits(p) : 0)
    })
  }
  const handle = match<typeof skySpecs, ClientState, SkyContext>(skySpecs, {
    Tick: (state, m, ctx) => {
      const user = ctx.self - o.firstUserId
      if (m.timer === Timer.epoch) {
        followHandover(state, ctx, user, S)
        // With nothing written, every tick until the next write finds nothing to do (most of a whole
        // trace's ~13M ticks: conversations whose blocks were all evicted): sleep, and let that write
        // resume the ticks at the times they would have had (wake). From the second epoch on, so that
        // wake's t - now is exact (t <= 2 now).
        if (state.written.size === 0 && ctx.now >= o.epochSeconds) state.sleepingTick = ctx.now + o.epochSeconds
        else Sky.Tick.after(ctx, o.epochSeconds, { timer: Timer.epoch, id: 0 })
        return
      }
      const mine = o.requests[user]!
      const id = state.next++
      const req = mine[id]!
      if (id + 1 < mine.length) Sky.Tick.after(ctx, Math.max(0, mine[id + 1]!.time - ctx.now), { timer: Timer.request, id: 0 })
      const keys = req.hashIds.map((h) => tracedBlockKey(h, o.namespace))
      ctx.count("issued")
      const p: Pending = {
        start: ctx.now, inputTokens: req.inputTokens, keys, writers: new Int32Array(keys.length).fill(-2), shareHit: new Uint8Array(keys.length * S), dirScan: 0, fetchLeft: 0, prefix: 0,
        located: Deferred.makeUnsafe(), fetched: Deferred.makeUnsafe()
      }
      // Backpressure at the source: a client with too many requests waiting refuses the next one.
      if (state.pending.size >= (o.maxInFlight ?? Number.POSITIVE_INFINITY)) return reject(state, ctx, id, p, "clientBacklog")
      state.pending.set(id, p)
      if (keys.length === 0) return finish(state, ctx, id, p, 0)
      // No satellite above the user's mask: nothing can be asked or stored; every block is a miss.
      if (ctx.servingOf(user) < 0) {
        ctx.count("uncovered")
        return finish(state, ctx, id, p, 0, false)
      }
      ctx.run(lookup(state, ctx, id, p))
      // After the lookup's first asks, so that none waits behind them on the uplink.
      if (o.anchored) askLoads(state, ctx, id, keys, ctx.servingOf(user))
    },
    DirReply: (state, m) => {
      const p = state.pending.get(m.requestId)
      if (!p) return
      p.writers[m.block] = m.locator
      if (o.anchored && m.locator >= 0) {
        state.anchors.set(m.key, m.locator)
        state.found.add(m.key)
      }
      if (prefixKnown(p)) Deferred.doneUnsafe(p.located, Effect.void)
    },
    Busy: (state, m, ctx) => {
      // A satellite refused a message (mailbox full). A refused lookup ends the request as rejected;
      // a refused put or migration leaves that share unwritten (the block misses later).
      if (m.rejected !== Tag.DirGet && m.rejected !== Tag.BlockGet) return ctx.count("writesRejected")
      const p = state.pending.get(m.requestId)
      if (!p) return
      p.lookup?.interruptUnsafe()
      return reject(state, ctx, m.requestId, p, "satelliteMailbox")
    },
    // A share of a block this client wrote is gone (evicted): the block is a miss from now on, and its
    // remaining shares are not worth moving; forgetting it keeps migration work to what actually moves.
    ShareGone: (state, m, ctx) => {
      const rows = ctx.takeManifest(m.manifest)
      for (let k = 0; rows !== undefined && k < rows.length; k += ENTRY) if (state.written.delete(rows[k]!)) ctx.count("blocksForgotten")
    },
    LoadReply: (state, m) => void state.choosing.get(m.requestId)?.loads.set(m.origin, m.load),
    BlockReply: (state, m) => {
      const p = state.pending.get(m.requestId)
      if (!p) return
      p.shareHit[m.ask] = m.hit ? 1 : 0
      if (--p.fetchLeft === 0) Deferred.doneUnsafe(p.fetched, Effect.void)
    }
  })
  return {
    kind: "client",
    supervision: "restart",
    // ShareGone only updates what the client keeps placed.
    silentTags: [Tag.ShareGone],
    init: () => ({ next: 0, centre: -1, pending: new Map(), written: new Map(), anchors: new Map(), found: new Set(), choosing: new Map(), sleepingTick: -1 }),
    start: (self, _state, ctx) => {
      const mine = o.requests[self - o.firstUserId]!
      if (mine.length > 0) Sky.Tick.after(ctx, mine[0]!.time, { timer: Timer.request, id: 0 })
      if (!o.hashedServer && !o.anchored && mine.length > 0) Sky.Tick.after(ctx, mine[0]!.time + o.epochSeconds / 2, { timer: Timer.epoch, id: 0 })
    },
    handle
  }
}

