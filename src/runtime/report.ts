/** A run's figures, merged from its shards' reports. A world adds its own on top (src/actors/report.ts). */
import { combine } from "./trace-hash.js"
import { latencySummary, type LatencySummary, mergeHistograms, mergeSeries, type ShardReport, type SupervisionEvent, sumRecords } from "./metrics.js"
import type { World } from "./world.js"

export interface EngineReport {
  readonly workers: number
  readonly simSeconds: number
  readonly startSeconds: number
  readonly wallSeconds: number
  /** Messages delivered to their destination actor (timers and relays not counted). */
  readonly events: number
  readonly eventsPerSecond: number
  readonly speedup: number
  readonly rssMB: number
  /** Share of the shards' run time spent waiting at window barriers. */
  readonly barrierWaitShare: number
  readonly traceHash: string
  readonly sent: number
  readonly delivered: number
  readonly dropped: Record<string, number>
  readonly droppedTotal: number
  readonly inFlight: number
  readonly forwarded: number
  readonly timersFired: number
  readonly deliveredByTag: Record<string, number>
  readonly windows: number
  /** The world's histograms (World.histograms), summarised. */
  readonly latency: Record<string, LatencySummary>
  readonly supervision: ReadonlyArray<SupervisionEvent>
  readonly supervisionCount: number
  readonly invalidFields: Record<string, number>
  /** Records delivered after their time: 0 unless the run was unsynchronised (EngineConfig). */
  readonly lateArrivals: number
  /** Actors' named counters, summed. */
  readonly counters: Record<string, number>
  /** Items held and evicted, over actors' footprints (Behaviour.footprint). */
  readonly storedItems: number
  readonly evictions: number
  /** Bytes held per actor at the end (actors with none are left out). */
  readonly occupancy: ReadonlyArray<readonly [number, number]>
  /** Actors' counters over time: name -> bucket start (virtual s) -> sum. */
  readonly series: Record<string, Record<string, number>>
  /** Deepest mailbox (the world's admission model), and the largest event queue of any shard, in records. */
  readonly peakMailbox: number
  readonly peakQueueRecords: number
}

export const mergeReports = (world: World<any>, reports: ReadonlyArray<ShardReport>, startSeconds: number, workers: number): EngineReport => {
  const lanes = new Uint32Array(2 * world.actorCount)
  for (const r of reports) {
    for (let k = 0; k < r.actorHashes.length; k += 3) {
      const a = r.actorHashes[k]!
      lanes[2 * a] = r.actorHashes[k + 1]!
      lanes[2 * a + 1] = r.actorHashes[k + 2]!
    }
  }
  const sum = (f: (r: ShardReport) => number) => reports.reduce((s, r) => s + f(r), 0)
  const delivered = sum((r) => r.delivered)
  const wallSeconds = Math.max(...reports.map((r) => r.wallSeconds))
  const dropped = sumRecords(reports.map((r) => r.dropped))
  return {
    workers,
    simSeconds: world.config.simSeconds,
    startSeconds,
    wallSeconds,
    events: delivered,
    eventsPerSecond: delivered / wallSeconds,
    speedup: world.config.simSeconds / wallSeconds,
    rssMB: process.memoryUsage().rss / 2 ** 20,
    barrierWaitShare: sum((r) => r.syncSeconds) / Math.max(1e-12, sum((r) => r.wallSeconds)),
    traceHash: combine(lanes),
    sent: sum((r) => r.sent),
    delivered,
    dropped,
    droppedTotal: Object.values(dropped).reduce((a, b) => a + b, 0),
    inFlight: sum((r) => r.inFlight),
    forwarded: sum((r) => r.forwarded),
    timersFired: sum((r) => r.timersFired),
    deliveredByTag: sumRecords(reports.map((r) => r.deliveredByTag)),
    windows: Math.max(...reports.map((r) => r.windows)),
    latency: Object.fromEntries(world.histograms.map((h) => [h, latencySummary(mergeHistograms(reports.map((r) => r.histograms[h]!)))])),
    supervision: reports.flatMap((r) => r.supervision).sort((a, b) => a.time - b.time || a.actor - b.actor),
    supervisionCount: sum((r) => r.supervisionCount),
    invalidFields: sumRecords(reports.map((r) => r.invalidFields)),
    lateArrivals: sum((r) => r.lateArrivals),
    counters: sumRecords(reports.map((r) => r.counters)),
    storedItems: sum((r) => r.storedItems),
    evictions: sum((r) => r.evictions),
    occupancy: reports.flatMap((r) => r.occupancy).sort((a, b) => a[0] - b[0]),
    series: mergeSeries(reports.map((r) => r.series)),
    peakMailbox: Math.max(...reports.map((r) => r.peakMailbox)),
    peakQueueRecords: Math.max(...reports.map((r) => r.peakQueueRecords))
  }
}
