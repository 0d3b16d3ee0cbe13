/**
 * Run every shard in this thread, window by window, with the same protocol the workers use. For tests
 * (hundreds of runs without thread start-up) and as the reference the worker runs must match bit for bit.
 */
import { buildShard } from "./build.js"
import { driveShards, loopOptionsOf, sharedSlots } from "./loop.js"
import { Mailboxes } from "./mailbox.js"
import { SideChannel } from "./side-channel.js"
import { type EngineReport, mergeReports } from "./report.js"
import type { EngineObservers } from "./shard.js"
import type { Network, World } from "./world.js"

export const runInProcess = async <N extends Network>(world: World<N>, shards = 1, observers: EngineObservers = {}): Promise<EngineReport> => {
  const config = world.config
  const owner = world.ownership(shards)
  const mailboxes = Mailboxes.allocate(shards, config.mailboxCapacity)
  const shared = new SharedArrayBuffer(world.sharedBytes(shards))
  const side = SideChannel.forRun(world.sideChannelBytes, shards)
  const engines = Array.from({ length: shards }, (_, index) => buildShard(world, { index, shards, owner, mailboxes, shared, ...(side ? { side } : {}) }, observers))
  const startSeconds = performance.now() / 1e3
  const slots = new Float64Array(sharedSlots(shards))
  const loop = await driveShards(engines, slots, () => {}, { shards, ...loopOptionsOf(config) })
  return mergeReports(world, engines.map((e) => e.report(loop)), startSeconds, 0)
}
