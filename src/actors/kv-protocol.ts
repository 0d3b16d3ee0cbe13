import { chunkCount, chunkSize } from "../cache/chunking.js"
import { migrate } from "../cache/placement.js"
import type { ActorContext } from "./actor.js"
import { Tag } from "./messages.js"
import { CONTROL_BYTES } from "./satellite.js"

/**
 * The ground side of the cache protocol, shared by the trace-replay client and the inference actor:
 * where a block's S shares live, how big each share is, and how the blocks a ground actor wrote follow
 * it as the constellation moves (placement-aware strategies re-centre on the writer's serving satellite).
 */

/** Bytes of share k of a block: its chunks c with c mod S = k. */
export const shareSizes = (blockBytes: number, chunkBytes: number, servers: number): Array<number> => {
  const chunks = chunkCount(blockBytes, chunkBytes)
  return Array.from({ length: servers }, (_, k) => {
    let n = 0
    for (let c = k; c < chunks; c += servers) n += chunkSize(blockBytes, chunkBytes, c)
    return n
  })
}

/** Satellites of a block's S shares (share k on the k-th) under a placement-unaware (hashed) strategy. */
export type HashedServer = (key: number) => ReadonlyArray<number>

/**
 * The S satellites holding a block written by ground user `writer`: the strategy's placement around the
 * writer's serving satellite now, or the key's hashed satellites; [] if the writer has no satellite.
 */
export const serversOf = (ctx: ActorContext, servers: number, key: number, writer: number, hashed?: HashedServer): ReadonlyArray<number> => {
  if (hashed) return hashed(key)
  const centre = ctx.servingOf(writer)
  return centre < 0 ? [] : ctx.placement(centre, servers)
}

export interface WrittenBlocks {
  centre: number
  /** Block key -> the satellites of its shares (kept current through migrations). */
  readonly written: Map<number, Array<number>>
}

/**
 * If `user`'s serving satellite changed, order every block it wrote to move: the servers that left the
 * placement hand their share to the ones that entered it (minimal moves, see cache/placement.migrate).
 */
export const followHandover = (state: WrittenBlocks, ctx: ActorContext, user: number, servers: number): void => {
  const centre = ctx.servingOf(user)
  if (centre < 0 || centre === state.centre) return
  for (const [key, current] of state.written) {
    const m = migrate(current, ctx.placement(centre, servers))
    for (const mv of m.moves) ctx.send(mv.from, Tag.MigrateOrder, CONTROL_BYTES, key, mv.to, 0, mv.server)
    state.written.set(key, [...m.assignment])
  }
  state.centre = centre
}

/**
 * Once every block's writer is known (-1: never written): the leading blocks that can be fetched now,
 * i.e. written and placed on S satellites (a writer with no satellite overhead cannot be located, so the
 * prefix ends there), and a BlockGet to each of their S satellites (aux = j * S + k, p1 = request id).
 * Returns the targets and the prefix length; nothing is sent when the prefix is empty.
 */
export const askPrefixShares = (
  ctx: ActorContext, servers: number, keys: ReadonlyArray<number>, writers: Int32Array, request: number,
  targetOf: (j: number) => ReadonlyArray<number>
): { targets: ReadonlyArray<ReadonlyArray<number>>; prefix: number } => {
  let m = 0
  while (m < keys.length && writers[m]! >= 0) m++
  const targets = Array.from({ length: m }, (_, j) => targetOf(j))
  const unplaced = targets.findIndex((t) => t.length < servers)
  const prefix = unplaced < 0 ? m : unplaced
  for (let j = 0; j < prefix; j++) targets[j]!.forEach((sat, k) => ctx.send(sat, Tag.BlockGet, CONTROL_BYTES, keys[j]!, request, 0, j * servers + k))
  return { targets, prefix }
}
