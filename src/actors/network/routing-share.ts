import type { SkyWorld } from "../world.js"

/** Up to this many ground users, the trees of their serving satellites are built at each routing epoch. */
export const EAGER_TREE_USERS = 256

/**
 * Below this many satellites the shards do not share: on paper-19x5 (95) sharing made 2 workers ~5%
 * slower (one more barrier per epoch for a search of a few microseconds); from starlink-shell1 (1,584)
 * to mega-10k it made them 7-11% faster (medians of 4 interleaved runs).
 */
export const SHARED_FROM_SATELLITES = 1000

/**
 * What the shards of a run compute once between them at an epoch instead of each computing all of it
 * (see TopologyActor.enterEpochOf), in memory every shard sees:
 * - each satellite's distance to a shard cut (`toCut`), written by the satellite's own shard, which only
 *   has to search its own satellites for it;
 * - the users' routing trees of a routing epoch: slot i holds the i-th root's tree (next hop and link per
 *   satellite), written by shard i % shards.
 * Both are functions of the link state and the partition only, so who computes them changes nothing but
 * the time it takes. Shards write, pass a barrier, then read (runtime/loop.ts).
 *
 * Layout: toCut Float64 x satellites, then tree slots of 2 x Int32 x satellites each.
 */
export class RoutingShare {
  /**
   * Bytes for a run on `shards` shards: 0 (nothing shared) for one shard, or for fewer than
   * SHARED_FROM_SATELLITES satellites, where an epoch's work costs less than the barrier sharing adds.
   */
  static bytesFor = (world: SkyWorld, shards: number): number =>
    shards > 1 && world.satellites >= SHARED_FROM_SATELLITES ? 8 * world.satellites + (world.users.length <= EAGER_TREE_USERS ? world.users.length * world.satellites * 8 : 0) : 0

  /** Shard `shard`'s view, or none where bytesFor gave 0. */
  static of = (buffer: SharedArrayBuffer, world: SkyWorld, shard: number, shards: number): RoutingShare | undefined =>
    buffer.byteLength > 0 ? new RoutingShare(buffer, world.satellites, shard, shards) : undefined

  readonly toCut: Float64Array
  /** How many trees fit. */
  readonly slots: number

  private constructor(readonly buffer: SharedArrayBuffer, private readonly satellites: number, readonly shard: number, readonly shards: number) {
    this.toCut = new Float64Array(buffer, 0, satellites)
    this.slots = Math.floor((buffer.byteLength - 8 * satellites) / (8 * satellites))
  }

  /** Copy a shortest-path pass's tree into slot `slot`; returns the slot's views. */
  writeTree(slot: number, sp: { readonly prev: ArrayLike<number>; readonly prevLink: ArrayLike<number> }): { next: Int32Array; link: Int32Array } {
    const tree = this.tree(slot)
    tree.next.set(sp.prev)
    tree.link.set(sp.prevLink)
    return tree
  }

  tree(slot: number): { next: Int32Array; link: Int32Array } {
    const S = this.satellites
    const at = 8 * S + slot * 8 * S
    return { next: new Int32Array(this.buffer, at, S), link: new Int32Array(this.buffer, at + 4 * S, S) }
  }
}
