import { RoutingShare } from "../actors/routing-share.js"
import type { RunConfig } from "./config.js"
import { driveShards, sharedSlots } from "./loop.js"
import { Mailboxes } from "./mailbox.js"
import { mergeReports, type RunReport } from "./report.js"
import { type EngineObservers, ShardEngine } from "./shard.js"
import { makeWorld, ownership, shardBounds } from "./world.js"

/**
 * Run every shard in this thread, window by window, with the same protocol the workers use. For tests
 * (hundreds of runs without thread start-up) and as the reference the worker runs must match bit for bit.
 */
export const runInProcess = async (config: RunConfig, shards = 1, observers: EngineObservers = {}): Promise<RunReport> => {
  const world = makeWorld(config)
  const owner = ownership(world, shardBounds(world, shards))
  const mail = Mailboxes.allocate(shards, config.mailboxCapacity)
  const routing = new SharedArrayBuffer(RoutingShare.bytesFor(world, shards))
  const engines = Array.from({ length: shards }, (_, k) => new ShardEngine(world, k, owner, mail, { observers, routing: RoutingShare.of(routing, world, k, shards) }))
  for (const e of engines) e.start()
  const startSeconds = performance.now() / 1e3
  const shared = new Float64Array(sharedSlots(shards))
  const loop = await driveShards(engines, shared, () => {}, {
    shards, simEnd: config.simSeconds, realtimeFactor: config.realtimeFactor,
    ...(config.crashShard >= 0 ? { crash: { shard: config.crashShard, at: config.crashShardAt } } : {})
  })
  return mergeReports(world, engines.map((e) => e.report(loop)), startSeconds, 0)
}
