/**
 * The ground side of the cache protocol, shared by the trace-replay client and the inference actor:
 * where a block's S shares live, how big each share is, and how the blocks a ground actor wrote follow
 * it as the constellation moves (placement-aware strategies re-centre on the writer's serving satellite).
 */
import { chunkCount, chunkSize } from "../cache/chunking.js"
import { migrate, type Migration } from "../cache/placement.js"
import { ENTRY, MAX_TRAIN_SHARES } from "./manifests.js"
import type { SkyContext } from "./sky-context.js"
import { Sky } from "./protocol.js"
import { CONTROL_BYTES } from "./satellite.js"
import { allUp, type UpView } from "./health.js"


/** Bytes of share k of a block: its chunks c with c mod S = k. */
export const shareSizes = (blockBytes: number, chunkBytes: number, servers: number): Array<number> => {
  const chunks = chunkCount(blockBytes, chunkBytes)
  return Array.from({ length: servers }, (_, k) => {
    let n = 0
    for (let c = k; c < chunks; c += servers) n += chunkSize(blockBytes, chunkBytes, c)
    return n
  })
}

/** Satellites of a block's `count` shares (share k on the k-th) under a placement-unaware (hashed) strategy. */
export type HashedServer = (key: number, count: number) => ReadonlyArray<number>

/**
 * The S satellites holding a block written by ground user `writer`: the strategy's placement around the
 * writer's serving satellite now (satellites up in the asker's view `up`, see livePlacement), or the
 * key's hashed satellites; [] if the writer has no satellite.
 */
export const serversOf = (ctx: SkyContext, servers: number, key: number, writer: number, hashed?: HashedServer, up: UpView = allUp): ReadonlyArray<number> => {
  if (hashed) return hashed(key, servers)
  const centre = ctx.servingOf(writer)
  return centre < 0 ? [] : livePlacement(ctx, centre, servers, up)
}

export interface WrittenBlocks {
  centre: number
  /** Block key -> the satellites of its shares (kept current through migrations). */
  readonly written: Map<number, ReadonlyArray<number>>
}

/**
 * The placement's first `count` satellites around `centre` that are up in the view `isUp` (health.ts),
 * taking the next ones the strategy would use in place of satellites that are down; fewer if the shell
 * runs out.
 */
export const livePlacement = (ctx: SkyContext, centre: number, count: number, isUp: UpView = allUp): ReadonlyArray<number> => {
  let all = ctx.placement(centre, count)
  let up = all.filter(isUp)
  for (let extra = count - up.length; up.length < count && extra <= count; extra *= 2) {
    try {
      all = ctx.placement(centre, count + extra)
    } catch (e) {
      if (e instanceof RangeError) break // the strategy's box no longer fits the shell
      throw e
    }
    up = all.filter(isUp)
  }
  return up.slice(0, count)
}

/** A writer with heartbeats: which satellites have answered lately, and how to ask the others. */
export interface Probe {
  answered(satellite: number): boolean
  ping(satellites: ReadonlyArray<number>): void
}

/**
 * Keep the blocks `user` wrote where the placement wants them: when its serving satellite changed,
 * servers that left the placement hand their share to the satellites that entered it (minimal moves,
 * see cache/placement.migrate); and whether or not it changed, a share held by a satellite that is
 * down in the writer's view `isUp` (its heartbeats, health.ts) is re-placed on one that is up, copied from another copy of the same share (`copies` > 1; position p
 * holds share p mod `servers`). With one copy a lost share stays lost (counted): the block misses and
 * is written again by its next reader.
 */
export const followHandover = (
  state: WrittenBlocks, ctx: SkyContext, user: number, servers: number, copies = 1, isUp: UpView = allUp, probe?: Probe,
  /**
   * Shares of a block that hold chunks (the leading ones; all if absent); the others are empty and
   * never moved. No default function: a replay client calls this every epoch it has blocks.
   */
  heldOf?: (key: number) => number,
  /**
   * Shares one order may name: many (a replay client's moves go as trains), or 1 (the inference actor's
   * shares have bytes and are acknowledged one by one; its orders go out block by block as visited).
   */
  sharesPerOrder = MAX_TRAIN_SHARES
): void => {
  // Nothing placed: nothing to keep near (the centre is looked up again once there is).
  if (state.written.size === 0) return void (state.centre = -1)
  const centre = ctx.servingOf(user)
  if (centre < 0) return
  const moved = centre !== state.centre
  // Nothing moved and every satellite is taken to be up: no block needs a look (a replay client's epoch, mostly).
  if (!moved && isUp === allUp) return
  const n = servers * copies
  let target: ReadonlyArray<number> | undefined
  // One order per (old server, new server) for all the blocks that move between them: copies in one
  // batch sent before the moves, since a surviving copy may itself be about to move, and its order must
  // arrive after (orders from one writer to one server arrive in the order sent).
  const copyOrders = new Orders(sharesPerOrder)
  const moveOrders = new Orders(sharesPerOrder)
  const plans = new Map<string, Migration>()
  for (const [key, current] of state.written) {
    if (!moved && current.every(isUp)) continue
    // The placement and its checks, once per handover (the first block that needs a look).
    if (target === undefined) {
      target = livePlacement(ctx, centre, n, isUp)
      // Not enough live satellites around: leave everything where it is, and try again next epoch.
      if (target.length < n) return
      // Shares only go to satellites that have answered a heartbeat: ask the others, move next epoch.
      const unheard = probe ? target.filter((s) => !probe.answered(s)) : []
      if (unheard.length > 0) return probe!.ping(unheard)
    }
    // Blocks placed alike move alike (most of a writer's blocks share one placement): plan each once.
    const placedAt = current.join()
    let m = plans.get(placedAt)
    if (m === undefined) plans.set(placedAt, (m = migrate(current, target)))
    const held = heldOf === undefined ? servers : heldOf(key)
    for (const mv of m.moves) {
      if (isUp(mv.from) || mv.server % servers >= held) continue
      const source = current.findIndex((s, q) => q % servers === mv.server % servers && q !== mv.server && isUp(s))
      if (source < 0) {
        ctx.count("sharesLost")
        continue
      }
      copyOrders.add(ctx, current[source]!, mv.to, key, mv.server, true)
      ctx.count("sharesReplaced")
    }
    for (const mv of m.moves) if (isUp(mv.from) && mv.server % servers < held) moveOrders.add(ctx, mv.from, mv.to, key, mv.server, false)
    state.written.set(key, m.assignment)
  }
  copyOrders.send(ctx)
  moveOrders.send(ctx)
  state.centre = centre
}

/**
 * A handover's migration orders, one per (old server, new server) with up to `perOrder` shares:
 * manifest rows [key, share, keep, 0]. With one share an order, each is sent as it is added.
 */
class Orders {
  private readonly rows = new Map<number, Array<number>>()

  constructor(private readonly perOrder: number) {}

  add(ctx: SkyContext, from: number, to: number, key: number, share: number, keep: boolean): void {
    if (this.perOrder === 1) return this.order(ctx, from, to, [key, share, keep ? 1 : 0, 0])
    // Satellite ids are below 2^21: the pair fits a float64 key exactly.
    const pair = from * 2 ** 21 + to
    let r = this.rows.get(pair)
    if (r === undefined) this.rows.set(pair, (r = []))
    r.push(key, share, keep ? 1 : 0, 0)
  }

  send(ctx: SkyContext): void {
    for (const [pair, rows] of this.rows) {
      const from = Math.floor(pair / 2 ** 21)
      const to = pair - from * 2 ** 21
      for (let k = 0; k < rows.length; k += ENTRY * this.perOrder) this.order(ctx, from, to, rows.slice(k, k + ENTRY * this.perOrder))
    }
  }

  private order(ctx: SkyContext, from: number, to: number, rows: ReadonlyArray<number>): void {
    Sky.MigrateOrder.send(ctx, from, CONTROL_BYTES * (rows.length / ENTRY), { manifest: ctx.postManifest(from, Float64Array.from(rows)), target: to })
  }
}

/** The leading blocks whose satellites (`targets`, one list a block) number at least `servers`. */
export const placedPrefix = (servers: number, targets: ReadonlyArray<ReadonlyArray<number>>): number => {
  const unplaced = targets.findIndex((t) => t.length < servers)
  return unplaced < 0 ? targets.length : unplaced
}

/**
 * Once every block's writer is known (-1: never written): the leading blocks that can be fetched now,
 * i.e. written and placed on at least S satellites (a writer with no satellite overhead cannot be
 * located, so the prefix ends there), with each block's satellites (`targetOf`, in placement order).
 */
const fetchablePrefix = (
  servers: number, writers: Int32Array, targetOf: (j: number) => ReadonlyArray<number>
): { targets: ReadonlyArray<ReadonlyArray<number>>; prefix: number } => {
  let m = 0
  while (m < writers.length && writers[m]! >= 0) m++
  const targets = Array.from({ length: m }, (_, j) => targetOf(j))
  return { targets, prefix: placedPrefix(servers, targets) }
}

/**
 * The fetchable prefix (see fetchablePrefix) and a BlockGet to each of its blocks' S satellites
 * (ask = j * S + k). Nothing is sent when the prefix is empty.
 */
export const askPrefixShares = (
  ctx: SkyContext, servers: number, keys: ReadonlyArray<number>, writers: Int32Array, request: number,
  targetOf: (j: number) => ReadonlyArray<number>
): { targets: ReadonlyArray<ReadonlyArray<number>>; prefix: number } => {
  const found = fetchablePrefix(servers, writers, targetOf)
  for (let j = 0; j < found.prefix; j++) found.targets[j]!.forEach((sat, k) => Sky.BlockGet.send(ctx, sat, CONTROL_BYTES, { key: keys[j]!, requestId: request, ask: j * servers + k }))
  return found
}
