/**
 * Conservative synchronisation of shards, window by window. Before window w every shard has published,
 * in slot parity w % 2, the earliest time it could next act (its queue head, or the earliest arrival it
 * sent another shard) and its earliest output time (the earliest anything it holds could reach another
 * shard, from each event's actor's distance to a shard cut: ShardEngine.earliestOutput); after the
 * barrier all read the same slots, so all agree on T = min of the first and the window is
 * [T, min(min of the second, epoch end, sim end)): nothing any shard does can land inside it on another.
 * The first window of an epoch (distances change with the link state) uses the epoch's lookahead, the
 * smallest delay any message can have: [T, T + lookahead).
 *
 * An unsynchronised loop (a measurement: EngineConfig.unsynchronised) takes each epoch as one window.
 *
 * Shared layout (Float64Array): next times [parity * shards + k], output times [2 * shards + parity *
 * shards + k] (-Infinity: not known, use the lookahead), then a control word per parity written
 * by shard 0 only, so every shard sees the same decision: 0 go on, 1 stop, 2 let the event loop run first
 * (all shards yield at the same window: one shard yielding alone would stall the others at the barrier).
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises"
import { setTimeout as sleep } from "node:timers/promises"
import type { ShardEngine } from "./shard.js"
import type { EngineConfig } from "./world.js"

const GO = 0, STOP = 1, YIELD = 2
export const sharedSlots = (shards: number): number => 4 * shards + 2

export interface LoopOptions {
  readonly shards: number
  /** 0 = as fast as possible; f = pace 1 simulated second to 1/f wall seconds. */
  readonly realtimeFactor: number
  /** Checked by shard 0 only. */
  readonly shouldStop?: () => boolean
  /** How often (wall ms) to let the thread's event loop run, so control-plane calls get answered. */
  readonly yieldEveryMs?: number
  readonly onWindow?: (T: number) => void
  /** Fault injection: this shard throws once virtual time reaches `at`. */
  readonly crash?: { readonly shard: number; readonly at: number }
  /** Windows span whole epochs and late records are delivered late (EngineConfig.unsynchronised). */
  readonly unsynchronised?: boolean
}

/** What a batch run's loop takes from its config: the end, the pacing, the measurement mode and an injected shard crash. */
export const loopOptionsOf = (config: EngineConfig) => ({
  simEnd: config.simSeconds,
  realtimeFactor: config.realtimeFactor,
  unsynchronised: config.unsynchronised === true,
  ...(config.crashShard >= 0 ? { crash: { shard: config.crashShard, at: config.crashShardAt } } : {})
})

export class InjectedShardCrash extends Error {
  readonly _tag = "InjectedShardCrash"
}

/** What a loop has done so far (wall time from its first window). */
export interface LoopStats {
  readonly wallSeconds: number
  readonly windows: number
  readonly syncSeconds: number
  readonly workSeconds: number
}

/**
 * Windows for the given shards (all of a run in one thread, or one per worker), resumable: `runUntil(t)`
 * runs every event before t and returns; a live host calls it again later, after it may have woken
 * actors. `sync` is the barrier between windows (a no-op when one thread holds every shard). Engines
 * must be started.
 */
export class WindowLoop {
  private w = 0
  private started = false
  /** At the last stop: the earliest pending event over all shards (the same in every shard). */
  nextTime = 0
  /**
   * The end of the last window run: every shard has run every event before it, so a record that comes
   * in for an earlier time was sent past the window bound (a broken lookahead) and is refused at ingest,
   * counted as invalid, instead of being run out of order unnoticed.
   */
  private lastEnd = Number.NEGATIVE_INFINITY
  private wallStart = 0
  private lastYield = 0
  private syncMs = 0
  private workMs = 0

  constructor(
    private readonly engines: ReadonlyArray<ShardEngine<any>>,
    private readonly shared: Float64Array,
    private readonly sync: () => void,
    private readonly o: LoopOptions
  ) {}

  /**
   * Publish each shard's next time in the parity about to be read: at the start, and on resuming (a host
   * may have woken actors since; what other shards sent was ingested before the last stop). The parity
   * is the one not read at the stop, so a shard still reading there is not overwritten.
   */
  private publish(): void {
    const N = this.o.shards
    const shared = this.shared
    if (this.started) this.w++
    const parity = this.w & 1
    for (const e of this.engines) {
      shared[parity * N + e.index] = e.queue.peekTime()
      shared[2 * N + parity * N + e.index] = Number.NEGATIVE_INFINITY
      if (e.index === 0) shared[4 * N + parity] = GO
    }
    this.sync()
    if (!this.started) {
      // The run itself is timed from here: start-up (actor state, first link state) is not in it.
      this.wallStart = this.lastYield = performance.now()
      this.started = true
    }
  }

  /** Run every event before `until` (or until shard 0 stops the run); true if it was stopped. */
  async runUntil(until: number): Promise<boolean> {
    this.publish()
    const { engines, shared, o, sync } = this
    const N = o.shards
    const unsynchronised = o.unsynchronised === true
    // The loop's own counters in locals while it runs (a window is a few microseconds on small runs).
    let w = this.w, syncMs = this.syncMs, workMs = this.workMs, lastYield = this.lastYield, lastEnd = this.lastEnd
    const stop = (T: number, stopped: boolean) => {
      this.w = w
      this.lastEnd = lastEnd
      this.syncMs = syncMs
      this.workMs = workMs
      this.lastYield = lastYield
      this.nextTime = T
      return stopped
    }
    for (;;) {
      const parity = w & 1
      const nextParity = parity ^ 1
      let T = Number.POSITIVE_INFINITY
      for (let k = 0; k < N; k++) T = Math.min(T, shared[parity * N + k]!)
      for (const e of engines) e.ingest(parity, Math.max(T, lastEnd), unsynchronised)
      const control = shared[4 * N + parity]
      if (control === STOP) return stop(T, true)
      if (T >= until) return stop(T, false)
      if (control === YIELD) {
        await yieldToEventLoop()
        lastYield = performance.now()
      }
      const net = engines[0]!.network
      // Output times were computed with this epoch's distances: they bound a window only within it.
      const sameEpoch = T < net.epochEnd
      for (const e of engines) e.network.enterEpochOf(T)
      // The epoch's distances to the cut and routing trees, split between the shards: each did its part
      // above; one more barrier and each takes the others'. All shards enter an epoch at the same window.
      if (engines[0]!.network.awaitsShared) {
        sync()
        for (const e of engines) e.network.adoptShared()
      }
      let output = Number.POSITIVE_INFINITY
      for (let k = 0; k < N; k++) output = Math.min(output, shared[2 * N + parity * N + k]!)
      const bound = unsynchronised ? Number.POSITIVE_INFINITY : sameEpoch && output > Number.NEGATIVE_INFINITY ? output : T + net.lookahead
      const end = Math.min(bound, net.epochEnd, until)
      if (o.realtimeFactor > 0) {
        const due = this.wallStart + (T / o.realtimeFactor) * 1e3
        const wait = due - performance.now()
        if (wait > 1) await sleep(wait)
      }
      for (const e of engines) {
        if (o.crash && e.index === o.crash.shard && T >= o.crash.at) throw new InjectedShardCrash(`injected crash of shard ${e.index} at t = ${T}`)
        const w0 = performance.now()
        e.runWindow(end, nextParity)
        workMs += performance.now() - w0
        // Unsynchronised, what a shard sent others lands no earlier than this window's end (ingest moves
        // it there): the next window must not start in the past, nor go back an epoch.
        shared[nextParity * N + e.index] = Math.min(e.queue.peekTime(), unsynchronised ? Math.max(e.minSent, end) : e.minSent)
        // Distances to the cut hold for this epoch only: after its last window, the next one falls back.
        shared[2 * N + nextParity * N + e.index] = N > 1 && !unsynchronised && end < net.epochEnd ? e.earliestOutput() : Number.NEGATIVE_INFINITY
        if (e.index === 0) {
          const yieldNow = o.yieldEveryMs !== undefined && performance.now() - lastYield > o.yieldEveryMs
          shared[4 * N + nextParity] = o.shouldStop?.() ? STOP : yieldNow ? YIELD : GO
        }
      }
      lastEnd = end
      o.onWindow?.(end)
      const before = performance.now()
      sync()
      syncMs += performance.now() - before
      w++
    }
  }

  get stats(): LoopStats {
    return { wallSeconds: (performance.now() - this.wallStart) / 1e3, windows: this.w, syncSeconds: this.syncMs / 1e3, workSeconds: this.workMs / 1e3 }
  }
}

/** Drive the given shards until the run ends (`simEnd`, or shard 0 stops it). */
export const driveShards = async (engines: ReadonlyArray<ShardEngine<any>>, shared: Float64Array, sync: () => void, o: LoopOptions & { readonly simEnd: number }): Promise<LoopStats> => {
  const loop = new WindowLoop(engines, shared, sync, o)
  await loop.runUntil(o.simEnd)
  return loop.stats
}
