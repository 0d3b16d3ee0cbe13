/**
 * The piscina task of one shard: long-lived (one per worker for the whole run). It builds its world from
 * the world's module and config (WorldSource) and its shard (build.ts),
 * answers the control plane over comlink (ready, start, stats, stop), runs windows in lockstep with the
 * other shards through the shared-memory barrier, and returns its report. If it fails it aborts the
 * barrier, so the other shards stop instead of waiting forever.
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises"
import type { MessagePort } from "node:worker_threads"
import * as Comlink from "comlink"
import { nodeEndpoint } from "./comlink-node.js"
import { Barrier, BARRIER_INTS } from "./barrier.js"
import { buildShard, type WorldSource } from "./build.js"
import { driveShards, loopOptionsOf, sharedSlots } from "./loop.js"
import { mailboxBytes, Mailboxes } from "./mailbox.js"
import { SideChannel } from "./side-channel.js"
import type { ShardReport } from "./metrics.js"
import type { ShardEngine } from "./shard.js"
import type { EngineReport } from "./report.js"
import type { World } from "./world.js"

/** A world module, as the worker imports it: it decodes the config it is given (it crossed a thread). */
export interface WorldModule {
  makeWorldFrom(config: unknown): World
  /** How the world reports a whole run (run-task.ts); absent: the engine's report as it is. */
  reportOf?(world: World, report: EngineReport): unknown
}

/** Build the world of a WorldSource in this thread. */
export const loadWorld = async (source: WorldSource): Promise<World> => {
  const mod = (await import(source.module)) as Partial<WorldModule>
  if (typeof mod.makeWorldFrom !== "function") throw new TypeError(`world module ${source.module} exports no makeWorldFrom(config)`)
  return mod.makeWorldFrom(source.config)
}
export interface ShardTask {
  readonly world: WorldSource
  readonly shard: number
  readonly shards: number
  /** Barrier ints, then shared Float64 slots (see loop.ts). */
  readonly control: SharedArrayBuffer
  readonly mailboxes: SharedArrayBuffer
  /** The world's shared memory (World.sharedBytes). */
  readonly shared: SharedArrayBuffer
  /** The side channel's buffer and capacity (World.sideChannelBytes), if the world has one. */
  readonly side?: { readonly buffer: SharedArrayBuffer; readonly capacity: number }
  readonly port: MessagePort
}

/** A run's shared memory for `shards` worker shards: control words, mailboxes, the world's split work, its side channel. */
export const runBuffers = (world: World, shards: number): Pick<ShardTask, "control" | "mailboxes" | "shared" | "side"> => {
  const side = SideChannel.forRun(world.sideChannelBytes, shards)
  return {
    control: new SharedArrayBuffer(controlLayout(shards).bytes),
    mailboxes: new SharedArrayBuffer(mailboxBytes(shards, world.config.mailboxCapacity)),
    shared: new SharedArrayBuffer(world.sharedBytes(shards)),
    ...(side ? { side: { buffer: side.buffer, capacity: side.capacity } } : {})
  }
}

/** The task's shard: its world built in this thread, over the run's shared buffers. */
export const buildTaskShard = async (task: ShardTask): Promise<{ world: World; engine: ShardEngine }> => {
  const world = await loadWorld(task.world)
  const mailboxes = new Mailboxes(task.mailboxes, task.shards, world.config.mailboxCapacity)
  const side = task.side ? new SideChannel(task.side.buffer, task.shards, task.side.capacity) : undefined
  const engine = buildShard(world, { index: task.shard, shards: task.shards, owner: world.ownership(task.shards), mailboxes, shared: task.shared, ...(side ? { side } : {}) })
  return { world, engine }
}

export interface ShardControl {
  ready(): boolean
  start(): void
  stats(): { shard: number; virtualTime: number; delivered: number; windows: number }
  stop(): void
}

export const controlLayout = (shards: number) => ({
  barrier: (buf: SharedArrayBuffer) => new Int32Array(buf, 0, BARRIER_INTS),
  shared: (buf: SharedArrayBuffer) => new Float64Array(buf, 16, sharedSlots(shards)),
  bytes: 16 + 8 * sharedSlots(shards)
})

export default async function runShardTask(task: ShardTask): Promise<ShardReport> {
  const layout = controlLayout(task.shards)
  const barrier = new Barrier(layout.barrier(task.control), task.shards)
  let virtualTime = 0
  let stopRequested = false
  let release!: () => void
  const started = new Promise<void>((r) => (release = r))
  let engine: ShardEngine | undefined
  const control: ShardControl = {
    ready: () => engine !== undefined,
    start: () => release(),
    stats: () => ({ shard: task.shard, virtualTime, delivered: engine?.metrics.delivered ?? 0, windows: engine?.metrics.windows ?? 0 }),
    stop: () => {
      stopRequested = true
    }
  }
  Comlink.expose(control, nodeEndpoint(task.port))
  try {
    const built = await buildTaskShard(task)
    const cfg = built.world.config
    engine = built.engine
    await started
    // Let comlink post the reply to start() before the run takes the thread: a run short enough to end
    // without yielding would otherwise close the port first, and the main thread would wait forever.
    await yieldToEventLoop()
    const loop = await driveShards([engine], layout.shared(task.control), () => barrier.arrive(), {
      shards: task.shards,
      ...loopOptionsOf(cfg),
      shouldStop: () => stopRequested,
      yieldEveryMs: 25,
      onWindow: (t) => {
        virtualTime = t
      }
    })
    return engine.report(loop)
  } catch (e) {
    barrier.abort(task.shard)
    throw e
  } finally {
    task.port.close()
  }
}
