import { setImmediate as yieldToEventLoop } from "node:timers/promises"
import { setTimeout as sleep } from "node:timers/promises"
import type { ShardEngine } from "./shard.js"

/**
 * Conservative synchronisation of shards, window by window. Before window w every shard has published,
 * in slot parity w % 2, the earliest time it could next act (its queue head, or the earliest arrival it
 * sent another shard); after the barrier all read the same slots, so all agree on T = min, and the window
 * is [T, min(T + lookahead, epoch end, sim end)). The lookahead is the smallest delay any message can have
 * this epoch, so nothing sent inside a window can land inside it on another shard.
 *
 * Shared layout (Float64Array): next times [parity * shards + k], then a stop flag per parity written by
 * shard 0 only (so every shard sees the same decision).
 */
export const sharedSlots = (shards: number): number => 2 * shards + 2

export interface LoopOptions {
  readonly shards: number
  readonly simEnd: number
  /** 0 = as fast as possible; f = pace 1 simulated second to 1/f wall seconds. */
  readonly realtimeFactor: number
  /** Checked by shard 0 only. */
  readonly shouldStop?: () => boolean
  /** How often (wall ms) to let the thread's event loop run, so control-plane calls get answered. */
  readonly yieldEveryMs?: number
  readonly onWindow?: (T: number) => void
  /** Fault injection: this shard throws once virtual time reaches `at`. */
  readonly crash?: { readonly shard: number; readonly at: number }
}

export class InjectedShardCrash extends Error {
  readonly _tag = "InjectedShardCrash"
}

/**
 * Drive the given shards (all of a run in one thread, or one per worker) until the run ends; `sync` is
 * the barrier between windows (a no-op when one thread holds every shard). Engines must be started.
 */
export const driveShards = async (engines: ReadonlyArray<ShardEngine>, shared: Float64Array, sync: () => void, o: LoopOptions): Promise<{ wallSeconds: number; windows: number; syncSeconds: number; workSeconds: number }> => {
  const N = o.shards
  for (const e of engines) {
    shared[e.index] = e.queue.peekTime()
    if (e.index === 0) shared[2 * N] = 0
  }
  sync()
  // The run itself is timed from here: start-up (actor state, first link state) is not in it.
  const wallStart = performance.now()
  let lastYield = wallStart
  let syncMs = 0
  let workMs = 0
  let w = 0
  for (;;) {
    const parity = w & 1
    const nextParity = parity ^ 1
    let T = Number.POSITIVE_INFINITY
    for (let k = 0; k < N; k++) T = Math.min(T, shared[parity * N + k]!)
    for (const e of engines) e.ingest(parity, T)
    if (T >= o.simEnd || shared[2 * N + parity] === 1) break
    const topo = engines[0]!.topology
    for (const e of engines) e.topology.enterEpochOf(T)
    const end = Math.min(T + topo.lookahead, topo.epochEnd, o.simEnd)
    if (o.realtimeFactor > 0) {
      const due = wallStart + (T / o.realtimeFactor) * 1e3
      const wait = due - performance.now()
      if (wait > 1) await sleep(wait)
    }
    for (const e of engines) {
      if (o.crash && e.index === o.crash.shard && T >= o.crash.at) throw new InjectedShardCrash(`injected crash of shard ${e.index} at t = ${T}`)
      const w0 = performance.now()
      e.runWindow(end, nextParity)
      workMs += performance.now() - w0
      shared[nextParity * N + e.index] = Math.min(e.queue.peekTime(), e.minSent)
      if (e.index === 0) shared[2 * N + nextParity] = o.shouldStop?.() ? 1 : 0
    }
    o.onWindow?.(end)
    const before = performance.now()
    sync()
    syncMs += performance.now() - before
    w++
    const now = performance.now()
    if (o.yieldEveryMs !== undefined && now - lastYield > o.yieldEveryMs) {
      await yieldToEventLoop()
      lastYield = performance.now()
    }
  }
  return { wallSeconds: (performance.now() - wallStart) / 1e3, windows: w, syncSeconds: syncMs / 1e3, workSeconds: workMs / 1e3 }
}
