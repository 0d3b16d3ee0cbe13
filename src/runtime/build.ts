/**
 * The one way a shard is made, whatever hosts it (in-process, a piscina worker, live): its world's part
 * for it, the engine over it, started. Hosts differ only in how they drive windows (loop.ts, live.ts).
 */
import type { Mailboxes } from "./mailbox.js"
import { type EngineObservers, ShardEngine } from "./shard.js"
import type { SideChannel } from "./side-channel.js"
import type { Network, SideLink, World } from "./world.js"

export interface ShardPlacement {
  readonly index: number
  readonly shards: number
  readonly owner: Int32Array
  readonly mailboxes: Mailboxes
  /** World.sharedBytes(shards) bytes of shared memory, the same buffer for every shard of the run. */
  readonly shared: SharedArrayBuffer
  /** Bytes beside records, for a world with sideChannelBytes > 0 and more than one shard. */
  readonly side?: SideChannel
}

export const buildShard = <N extends Network>(world: World<N>, p: ShardPlacement, observers: EngineObservers = {}): ShardEngine<N> => {
  let engine: ShardEngine<N> | undefined
  const side: SideLink = {
    send: (to, frame) => {
      if (!p.side) throw new Error(`shard ${p.index} sent a side frame but its host gave it no side channel (World.sideChannelBytes)`)
      p.side.write(p.index, to, engine!.outParity, frame)
    }
  }
  const part = world.makeShard({ index: p.index, shards: p.shards, owner: p.owner, shared: p.shared, side })
  engine = new ShardEngine(world, p.index, p.owner, p.mailboxes, part, { observers, ...(p.side ? { side: p.side } : {}) })
  engine.start()
  return engine
}

/** Where the pool finds a world: a module exporting `makeWorldFrom(config)`, and the config to build it from. */
export interface WorldSource<C = unknown> {
  /** URL of the world's module (import.meta.resolve or new URL(..., import.meta.url).href). */
  readonly module: string
  readonly config: C
}
