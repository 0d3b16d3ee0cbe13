/**
 * Per-shard counters and latency histograms (hdr-histogram-js, microseconds, 3 significant digits), and
 * how shards' figures merge into a run's. Histograms cross threads as compressed base64, hdr's own format.
 */
import * as hdr from "hdr-histogram-js"
import type { World } from "./world.js"

/**
 * The engine's own drop reasons. A run's reasons are the world network's, then these, then the world
 * admission model's (World.dropReasons): DropReasons maps them to indices.
 */
export const engineDropReasons = ["ttl", "actorStopped", "invalid", "lost"] as const

export class DropReasons {
  readonly names: ReadonlyArray<string>
  /** Index of each engine reason, and of the admission model's first reason. */
  readonly ttl: number
  readonly actorStopped: number
  readonly invalid: number
  readonly lost: number
  readonly refused: number
  constructor(world: Pick<World, "dropReasons">) {
    const n = world.dropReasons.network.length
    this.names = [...world.dropReasons.network, ...engineDropReasons, ...world.dropReasons.admission]
    this.ttl = n
    this.actorStopped = n + 1
    this.invalid = n + 2
    this.lost = n + 3
    this.refused = n + 4
  }
}

export const makeHistogram = () =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false })

export type Hdr = ReturnType<typeof makeHistogram>

export class ShardMetrics {
  constructor(tags: number, drops: number, histograms: ReadonlyArray<string>) {
    this.deliveredByTag = new Float64Array(tags)
    this.dropped = new Float64Array(drops)
    for (const h of histograms) this.histograms.set(h, makeHistogram())
  }
  /** Messages handed to the topology actor by a sender (timers excluded). */
  sent = 0
  /** Messages delivered to their destination actor. */
  delivered = 0
  /** Intermediate hops (a satellite relaying a message). */
  forwarded = 0
  timersSet = 0
  timersFired = 0
  readonly deliveredByTag: Float64Array
  readonly dropped: Float64Array
  /** The world's latency histograms by name (ActorContext.record). */
  readonly histograms = new Map<string, Hdr>()
  windows = 0
  readonly supervision: Array<SupervisionEvent> = []
  supervisionCount = 0
  invalidFields: Record<string, number> = {}
  /** Records delivered after their time (EngineConfig.unsynchronised only). */
  lateArrivals = 0
  /** Named counters actors add to (ActorContext.count). */
  readonly counters = new Map<string, number>()
  /** Named counters over virtual time (ActorContext.countOverTime): "name" -> bucket start (s) -> sum. */
  readonly series = new Map<string, Map<number, number>>()
}

/** Width of a time-series bucket, virtual seconds. */
export const SERIES_BUCKET_SECONDS = 10

export interface SupervisionEvent {
  readonly actor: number
  readonly time: number
  readonly action: "restart" | "stop"
  readonly reason: string
}

/** What a shard reports at the end of a run (structured-clone friendly). */
export interface ShardReport {
  readonly shard: number
  readonly sent: number
  readonly delivered: number
  readonly forwarded: number
  readonly timersSet: number
  readonly timersFired: number
  readonly deliveredByTag: Record<string, number>
  readonly dropped: Record<string, number>
  readonly inFlight: number
  readonly windows: number
  readonly wallSeconds: number
  /** Time spent waiting at window barriers, and running windows (the rest is bookkeeping). */
  readonly syncSeconds: number
  readonly workSeconds: number
  /** The world's histograms, encoded (encodeHistogram). */
  readonly histograms: Record<string, string>
  readonly supervision: ReadonlyArray<SupervisionEvent>
  readonly supervisionCount: number
  readonly invalidFields: Record<string, number>
  readonly lateArrivals: number
  readonly counters: Record<string, number>
  /** Trace-hash lanes of the actors this shard owns: [actor, lo, hi] triples. */
  readonly actorHashes: Uint32Array
  /** Items held and evicted over owned actors' footprints (Behaviour.footprint). */
  readonly storedItems: number
  readonly evictions: number
  /** Owned actors holding any bytes: [actor, bytes] pairs. */
  readonly occupancy: ReadonlyArray<readonly [number, number]>
  readonly series: Record<string, Record<string, number>>
  /** Deepest mailbox of the admission model, and the event queue's high-water mark in records (its memory / 96 B). */
  readonly peakMailbox: number
  readonly peakQueueRecords: number
}

export const tagCounts = (a: Float64Array, tagNames: ReadonlyArray<string | undefined>): Record<string, number> => {
  const out: Record<string, number> = {}
  a.forEach((v, k) => {
    if (v > 0) out[tagNames[k] ?? `tag${k}`] = v
  })
  return out
}

export const dropCounts = (a: Float64Array, names: ReadonlyArray<string>): Record<string, number> =>
  Object.fromEntries(names.map((n, k) => [n, a[k]!]))

export const encodeHistogram = (h: Hdr): string => hdr.encodeIntoCompressedBase64(h)

export const mergeHistograms = (encoded: ReadonlyArray<string>): Hdr => {
  const total = makeHistogram()
  for (const e of encoded) total.add(hdr.decodeFromCompressedBase64(e, 32, false))
  return total
}

export interface LatencySummary {
  readonly count: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  readonly meanMs: number
  /** The distribution: latency (ms) at percentiles 1, 2, ..., 99, 99.9 (empty without samples). */
  readonly cdf: ReadonlyArray<{ readonly percentile: number; readonly ms: number }>
}

const CDF_PERCENTILES = [...Array.from({ length: 99 }, (_, i) => i + 1), 99.9]

export const latencySummary = (h: Hdr): LatencySummary => ({
  count: h.totalCount,
  p50Ms: h.getValueAtPercentile(50) / 1e3,
  p90Ms: h.getValueAtPercentile(90) / 1e3,
  p99Ms: h.getValueAtPercentile(99) / 1e3,
  maxMs: h.maxValue / 1e3,
  meanMs: h.totalCount > 0 ? h.mean / 1e3 : 0,
  cdf: h.totalCount > 0 ? CDF_PERCENTILES.map((percentile) => ({ percentile, ms: h.getValueAtPercentile(percentile) / 1e3 })) : []
})

/** Shards' time series summed per (series, bucket). */
export const mergeSeries = (rs: ReadonlyArray<Record<string, Record<string, number>>>): Record<string, Record<string, number>> => {
  const out: Record<string, Record<string, number>> = {}
  for (const r of rs) for (const [name, buckets] of Object.entries(r)) out[name] = sumRecords([out[name] ?? {}, buckets])
  return out
}

export const sumRecords = (rs: ReadonlyArray<Record<string, number>>): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const r of rs) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v
  return out
}
