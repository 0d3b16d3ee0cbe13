import * as hdr from "hdr-histogram-js"
import { MAX_TAG, tagNames } from "../actors/messages.js"

/**
 * Per-shard counters and latency histograms (hdr-histogram-js, microseconds, 3 significant digits), and
 * how shards' figures merge into a run's. Histograms cross threads as compressed base64, hdr's own format.
 */
export const DropReason = {
  linkDown: 0,
  unreachable: 1,
  noSatellite: 2,
  ttl: 3,
  actorStopped: 4,
  invalid: 5,
  /** Injected message loss (fault injection). */
  lost: 6,
  /** Refused at a satellite whose mailbox was full; the sender was told (Tag.Busy), so it is not silent. */
  mailboxFull: 7
} as const
export const dropReasonNames = Object.keys(DropReason) as ReadonlyArray<keyof typeof DropReason>

export const makeHistogram = () =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false })

export type Hdr = ReturnType<typeof makeHistogram>

export class ShardMetrics {
  /** Messages handed to the topology actor by a sender (timers excluded). */
  sent = 0
  /** Messages delivered to their destination actor. */
  delivered = 0
  /** Intermediate hops (a satellite relaying a message). */
  forwarded = 0
  timersSet = 0
  timersFired = 0
  readonly deliveredByTag = new Float64Array(MAX_TAG + 1)
  readonly dropped = new Float64Array(dropReasonNames.length)
  readonly retrieval = makeHistogram()
  readonly put = makeHistogram()
  getHits = 0
  getMisses = 0
  windows = 0
  readonly supervision: Array<SupervisionEvent> = []
  supervisionCount = 0
  invalidFields: Record<string, number> = {}
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
  readonly getHits: number
  readonly getMisses: number
  readonly windows: number
  readonly wallSeconds: number
  /** Time spent waiting at window barriers, and running windows (the rest is bookkeeping). */
  readonly syncSeconds: number
  readonly workSeconds: number
  readonly retrievalHistogram: string
  readonly putHistogram: string
  readonly supervision: ReadonlyArray<SupervisionEvent>
  readonly supervisionCount: number
  readonly invalidFields: Record<string, number>
  readonly counters: Record<string, number>
  /** Trace-hash lanes of the actors this shard owns: [actor, lo, hi] triples. */
  readonly actorHashes: Uint32Array
  readonly storedChunks: number
  readonly evictions: number
  /** Owned satellites with anything stored: [satellite, bytes] pairs. */
  readonly occupancy: ReadonlyArray<readonly [number, number]>
  readonly series: Record<string, Record<string, number>>
  /** Deepest satellite mailbox, and the event queue's high-water mark in records (its memory / 96 B). */
  readonly peakMailbox: number
  readonly peakQueueRecords: number
}

export const tagCounts = (a: Float64Array): Record<string, number> => {
  const out: Record<string, number> = {}
  a.forEach((v, k) => {
    if (v > 0) out[tagNames[k] ?? `tag${k}`] = v
  })
  return out
}

export const dropCounts = (a: Float64Array): Record<string, number> =>
  Object.fromEntries(dropReasonNames.map((n, k) => [n, a[k]!]))

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
