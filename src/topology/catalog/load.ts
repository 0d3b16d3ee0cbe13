/**
 * A catalog file in, a constellation out: the format detected by content (a JSON array or object: OMM
 * JSON; a header row naming OMM fields: OMM CSV; otherwise three-line TLE), every record checked, the
 * structure inferred at the chosen instant, and what was kept and excluded counted. Strict by default: the
 * first bad record is an error naming file and line; `lenient` skips bad records and counts them.
 *
 * Loads are memoised per thread on (path, size, mtime, options): a worker pool builds its world in every
 * worker, and a replay builds one world per configuration.
 */
import { readFileSync, statSync } from "node:fs"
import type { Constellation } from "../constellation.js"
import { TopologyErrors } from "../errors.js"
import { constellationOf } from "./build.js"
import { type ExclusionReason, exclusionReasons, inferStructure, type InferenceOptions } from "./infer.js"
import { OmmSyntaxError, parseOmmCsv, parseOmmJson } from "./omm.js"
import type { CatalogFormat, CatalogRecord, InvalidRecord } from "./record.js"
import { parseTle } from "./tle.js"

export interface CatalogOptions extends Omit<InferenceOptions, "atMs"> {
  /** t = 0: seconds after the catalog's newest epoch (a number), or an ISO 8601 instant; default 0 s. */
  readonly at?: string | number
  readonly lenient?: boolean
}

export interface CatalogShellSummary {
  readonly name: string
  readonly inclinationDeg: number
  readonly altitudeKm: number
  readonly planes: number
  readonly satellites: number
  /** Nominal slots per plane and the fewest and most satellites a plane has. */
  readonly slotsPerPlane: number
  readonly minPerPlane: number
  readonly maxPerPlane: number
  readonly wraps: boolean
}

export interface CatalogSummary {
  readonly file: string
  readonly format: CatalogFormat
  readonly records: number
  readonly operational: number
  readonly excluded: Readonly<Partial<Record<ExclusionReason, number>>>
  /** The instant that is t = 0, and the catalog's newest epoch (ISO 8601). */
  readonly at: string
  readonly newestEpoch: string
  readonly shells: ReadonlyArray<CatalogShellSummary>
  /** Bad records skipped under `lenient` (the first 20). */
  readonly invalid: ReadonlyArray<InvalidRecord>
}

export interface Catalog {
  readonly constellation: Constellation
  readonly summary: CatalogSummary
}

const detectFormat = (text: string): CatalogFormat => {
  const start = text.trimStart()
  if (start.startsWith("[") || start.startsWith("{")) return "omm-json"
  const firstLine = start.split(/\r?\n/, 1)[0] ?? ""
  if (firstLine.includes(",") && /\b(NORAD_CAT_ID|OBJECT_NAME|MEAN_MOTION)\b/.test(firstLine)) return "omm-csv"
  return "tle"
}

/** The t = 0 instant (ms) from --at: ISO text, or seconds after the newest epoch. */
const resolveAt = (at: string | number | undefined, newestEpochMs: number, file: string): number => {
  if (at === undefined || at === "") return newestEpochMs
  if (typeof at === "number" || /^[-+]?\d+(\.\d+)?$/.test(at.trim())) {
    const s = Number(at)
    if (!Number.isFinite(s)) throw TopologyErrors.invalidCatalog(file, 0, `--at ${at}: expected seconds or an ISO 8601 instant`)
    return newestEpochMs + s * 1000
  }
  const ms = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?)?$/.test(at.trim()) ? Date.parse(at.trim()) : Number.NaN
  if (!Number.isFinite(ms)) throw TopologyErrors.invalidCatalog(file, 0, `--at "${at}": expected seconds after the newest epoch or an ISO 8601 instant`)
  return ms
}

const readText = (path: string): string => {
  try {
    return readFileSync(path, "utf8")
  } catch (e) {
    const code = (e as { code?: string }).code
    throw TopologyErrors.invalidCatalog(path, 0, code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory, not a catalog file" : `cannot read (${code ?? String(e)})`)
  }
}

const parse = (text: string, file: string, format: CatalogFormat): { records: Array<CatalogRecord>; invalid: Array<InvalidRecord> } => {
  try {
    return format === "tle" ? parseTle(text, file) : format === "omm-json" ? parseOmmJson(text, file) : parseOmmCsv(text, file)
  } catch (e) {
    if (e instanceof OmmSyntaxError) throw TopologyErrors.invalidCatalog(file, e.line, e.message)
    throw e
  }
}

/** Read, check and infer a catalog file (not memoised: see loadCatalog). */
export const readCatalog = (path: string, options: CatalogOptions = {}): Catalog => {
  const text = readText(path)
  if (text.includes("\u0000")) throw TopologyErrors.invalidCatalog(path, 0, "is binary, not a TLE or OMM catalog")
  const format = detectFormat(text)
  const { records, invalid } = parse(text, path, format)
  if (invalid.length > 0 && !options.lenient) {
    const first = invalid[0]!
    throw TopologyErrors.invalidCatalog(first.file, first.line, `${first.reason} (${invalid.length} bad record${invalid.length > 1 ? "s" : ""} in all; --lenient skips and counts them)`)
  }
  if (records.length === 0) throw TopologyErrors.invalidCatalog(path, 0, `no ${format === "tle" ? "TLE sets" : "OMM records"} in the file`)
  const newest = records.reduce((m, r) => Math.max(m, r.epochMs), Number.NEGATIVE_INFINITY)
  const atMs = resolveAt(options.at, newest, path)
  const inference = inferStructure(records, { ...options, atMs })
  if (inference.shells.length === 0)
    throw TopologyErrors.invalidCatalog(path, 0, `no shell of at least ${options.minShellSatellites ?? 10} operational satellites among ${records.length} records`)
  const constellation = constellationOf(inference, atMs)
  const excluded: Partial<Record<ExclusionReason, number>> = {}
  if (invalid.length > 0) excluded["invalid-record"] = invalid.length
  for (const reason of exclusionReasons) {
    const n = inference.excluded.get(reason)
    if (n) excluded[reason] = n
  }
  return {
    constellation,
    summary: {
      file: path, format, records: records.length + invalid.length, operational: constellation.size, excluded,
      at: new Date(atMs).toISOString(), newestEpoch: new Date(newest).toISOString(),
      shells: inference.shells.map((s, k) => {
        const sizes = s.planes.map((p) => p.satellites.length)
        return {
          name: constellation.shells[k]!.name, inclinationDeg: s.inclinationDeg, altitudeKm: s.altitudeKm, planes: s.planes.length,
          satellites: sizes.reduce((a, b) => a + b, 0), slotsPerPlane: s.slotsPerPlane, minPerPlane: Math.min(...sizes), maxPerPlane: Math.max(...sizes), wraps: s.wraps
        }
      }),
      invalid: invalid.slice(0, 20)
    }
  }
}

const memo = new Map<string, Catalog>()

/** readCatalog, memoised per thread while the file is unchanged. */
export const loadCatalog = (path: string, options: CatalogOptions = {}): Catalog => {
  let stamp = ""
  try {
    const st = statSync(path)
    stamp = `${st.size}:${st.mtimeMs}`
  } catch {
    return readCatalog(path, options) // throws the file's error
  }
  const key = JSON.stringify([path, stamp, options])
  let c = memo.get(key)
  if (c === undefined) {
    c = readCatalog(path, options)
    if (memo.size >= 8) memo.clear()
    memo.set(key, c)
  }
  return c
}
