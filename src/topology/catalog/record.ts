/**
 * One satellite of a catalog: its mean elements (SGP4's, as published) and the satrec that propagates
 * them, plus where it came from, so every later message can name the file and line.
 */
import type { SatRec } from "satellite.js"

export type CatalogFormat = "tle" | "omm-json" | "omm-csv"

export interface CatalogRecord {
  readonly name: string
  readonly noradId: number
  /** Epoch of the element set, ms since 1970 (UTC). */
  readonly epochMs: number
  /** Mean motion, revolutions per day. */
  readonly meanMotionRevDay: number
  /** First derivative of mean motion / 2, rev/day^2 (the TLE field): negative while a satellite climbs. */
  readonly meanMotionDot: number
  readonly eccentricity: number
  readonly inclinationDeg: number
  readonly satrec: SatRec
  /** File and 1-based line of the record's first line. */
  readonly file: string
  readonly line: number
}

/** A record that failed its checks: skipped and counted under --lenient, an error otherwise. */
export interface InvalidRecord {
  readonly file: string
  readonly line: number
  readonly reason: string
}

/** Julian date of the Unix epoch: satrec epochs are Julian dates. */
const JD_UNIX = 2440587.5

export const epochMsOf = (satrec: SatRec): number => (satrec.jdsatepoch - JD_UNIX) * 86_400_000

/** A record's identity and mean elements as published (both formats carry them). */
export interface MeanElements {
  readonly noradId: number
  readonly inclinationDeg: number
  readonly raanDeg: number
  readonly eccentricity: number
  readonly argPerigeeDeg: number
  readonly meanAnomalyDeg: number
  readonly meanMotionRevDay: number
}

/** Range checks shared by both formats; the reason for the first field out of range, or undefined. */
export const elementProblem = (e: MeanElements): string | undefined => {
  if (!(Number.isInteger(e.noradId) && e.noradId >= 1 && e.noradId <= 339_999)) return `NORAD id ${e.noradId}: expected an integer in [1, 339999]`
  if (!(e.inclinationDeg >= 0 && e.inclinationDeg <= 180)) return `inclination ${e.inclinationDeg}: expected [0, 180] deg`
  if (!(e.raanDeg >= 0 && e.raanDeg < 360)) return `right ascension of the ascending node ${e.raanDeg}: expected [0, 360) deg`
  if (!(e.eccentricity >= 0 && e.eccentricity < 1)) return `eccentricity ${e.eccentricity}: expected [0, 1)`
  if (!(e.argPerigeeDeg >= 0 && e.argPerigeeDeg < 360)) return `argument of perigee ${e.argPerigeeDeg}: expected [0, 360) deg`
  if (!(e.meanAnomalyDeg >= 0 && e.meanAnomalyDeg < 360)) return `mean anomaly ${e.meanAnomalyDeg}: expected [0, 360) deg`
  // 0.5 rev/day is beyond geostationary; 18 is below any orbit that survives a day.
  if (!(e.meanMotionRevDay > 0.5 && e.meanMotionRevDay < 18)) return `mean motion ${e.meanMotionRevDay}: expected (0.5, 18) rev/day`
  return undefined
}
