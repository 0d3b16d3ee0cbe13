/**
 * A SkyMemory run's report: the engine's figures (runtime/report.ts) under the constellation's name,
 * with the cache's own: the standard workload's get hit rate and the retrieval and put latencies.
 */
import type { LatencySummary } from "../runtime/metrics.js"
import type { EngineReport } from "../runtime/report.js"
import { constellationName, type RunConfig } from "./config.js"

export type RunReport = {
  readonly preset: string
  readonly seed: number
  readonly satellites: number
  readonly users: number
} & EngineReport & {
  /** Standard workload: share of gets answered from a store. */
  readonly getHitRate: number
  readonly retrieval: LatencySummary
  readonly put: LatencySummary
}

export const skyReport = (w: { readonly config: RunConfig; readonly satellites: number; readonly users: ReadonlyArray<unknown> }, r: EngineReport): RunReport => {
  const hits = r.counters["getHits"] ?? 0
  const misses = r.counters["getMisses"] ?? 0
  return {
    preset: constellationName(w.config),
    seed: w.config.seed,
    satellites: w.satellites,
    users: w.users.length,
    ...r,
    getHitRate: hits + misses > 0 ? hits / (hits + misses) : 0,
    retrieval: r.latency["retrieval"]!,
    put: r.latency["put"]!
  }
}
