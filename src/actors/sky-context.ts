/**
 * What SkyMemory's behaviours see beyond the engine's ActorContext: the constellation around them, as
 * their shard's topology actor knows it this epoch, and the run's placement strategy. Added to every
 * context by the world (ShardWorld.extendContext).
 */
import type { ActorContext, Behaviour } from "../runtime/behaviour.js"

export interface SkyServices {
  /** ISL neighbour of this satellite in +Grid slot 0..3 (prev slot, next slot, prev plane, next plane), -1 if none. */
  neighbour(slot: number): number
  /** Serving satellite of ground user `user` (0-based) now, -1 if none is above the mask. */
  servingOf(user: number): number
  /** ISL hops between satellites a and b on their shell's grid, estimated (topology gridHops: round the seam only where the run's grid closes it; Infinity across shells). */
  hops(a: number, b: number): number
  /** The run's placement: the satellites of S servers around `centre` (distinct). */
  placement(centre: number, servers: number): ReadonlyArray<number>
  /** Where an anchored strategy may write block `key` of a writer served by `serving` (CentredStrategy.anchors). */
  anchorsOf(serving: number, key: number): ReadonlyArray<number>
  /** Post a manifest (manifests.ts: rows of ENTRY numbers) for actor `to`; returns the id its message carries. */
  postManifest(to: number, rows: Float64Array): number
  /** The manifest a delivered message's id names (taken: a second take finds nothing). */
  takeManifest(id: number): Float64Array | undefined
}

export type SkyContext = ActorContext & SkyServices

export type SkyBehaviour<S> = Behaviour<S, SkyContext>
