/**
 * The one way a shard is made, whatever hosts it (in-process, a piscina worker, live): its world's part
 * for it, the engine over it, started. Hosts differ only in how they drive windows (loop.ts, live.ts).
 */
import type { Mailboxes } from "./mailbox.js"
import { type EngineObservers, ShardEngine } from "./shard.js"
import type { Network, World } from "./world.js"

export interface ShardPlacement {
  readonly index: number
  readonly shards: number
  readonly owner: Int32Array
  readonly mailboxes: Mailboxes
  /** World.sharedBytes(shards) bytes of shared memory, the same buffer for every shard of the run. */
  readonly shared: SharedArrayBuffer
}

export const buildShard = <N extends Network>(world: World<N>, p: ShardPlacement, observers: EngineObservers = {}): ShardEngine<N> => {
  const part = world.makeShard({ index: p.index, shards: p.shards, owner: p.owner, shared: p.shared })
  const engine = new ShardEngine(world, p.index, p.owner, p.mailboxes, part, { observers })
  engine.start()
  return engine
}

/** Where the pool finds a world: a module exporting `makeWorldFrom(config)`, and the config to build it from. */
export interface WorldSource<C = unknown> {
  /** URL of the world's module (import.meta.resolve or new URL(..., import.meta.url).href). */
  readonly module: string
  readonly config: C
}
