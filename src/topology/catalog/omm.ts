/**
 * OMM (CCSDS Orbit Mean-elements Message) in the two flat forms the public catalogs publish: a JSON
 * array of objects and CSV with a header row, both keyed by the OMM field names (OBJECT_NAME, EPOCH,
 * MEAN_MOTION, ...). Parsed by jsonc-parser (which keeps every object's offset, so a bad record is named
 * by its line) and csv-parse; each record is checked like a TLE set, then handed to satellite.js.
 */
import { parse as parseCsvSync } from "csv-parse/sync"
import { getNodeValue, type ParseError, parseTree, printParseErrorCode } from "jsonc-parser"
import { json2satrec, type OMMJsonObject } from "satellite.js"
import { type CatalogRecord, elementProblem, epochMsOf, type InvalidRecord } from "./record.js"

type Parsed = { records: Array<CatalogRecord>; invalid: Array<InvalidRecord> }

/** A field as a finite number (CSV gives strings; JSON numbers, sometimes strings). */
const numberField = (o: Record<string, unknown>, key: string, required: boolean): number | string => {
  const v = o[key]
  if (v === undefined || v === "") return required ? `missing ${key}` : 0
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN
  return Number.isFinite(n) ? n : `${key} "${String(v).slice(0, 24)}" is not a number`
}

const REQUIRED = ["NORAD_CAT_ID", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE", "ARG_OF_PERICENTER", "MEAN_ANOMALY"] as const
const OPTIONAL = ["BSTAR", "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT", "ELEMENT_SET_NO", "REV_AT_EPOCH"] as const

/** One OMM object, checked; a reason string if it fails. */
const ommRecord = (o: unknown): Omit<CatalogRecord, "file" | "line"> | string => {
  if (typeof o !== "object" || o === null || Array.isArray(o)) return "expected an object of OMM fields"
  const r = o as Record<string, unknown>
  const values: Record<string, number> = {}
  for (const key of [...REQUIRED, ...OPTIONAL]) {
    const v = numberField(r, key, (REQUIRED as ReadonlyArray<string>).includes(key))
    if (typeof v === "string") return v
    values[key] = v
  }
  const epochText = typeof r.EPOCH === "string" ? r.EPOCH.trim() : ""
  // OMM epochs are UTC without a zone designator; one with a zone other than Z is refused, not guessed.
  const epochMs = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?$/.test(epochText) ? Date.parse(epochText.endsWith("Z") ? epochText : `${epochText}Z`) : Number.NaN
  if (!Number.isFinite(epochMs)) return `EPOCH "${epochText.slice(0, 32)}" is not an ISO 8601 UTC instant`
  const problem = elementProblem({
    noradId: values.NORAD_CAT_ID!, inclinationDeg: values.INCLINATION!, raanDeg: values.RA_OF_ASC_NODE!, eccentricity: values.ECCENTRICITY!,
    argPerigeeDeg: values.ARG_OF_PERICENTER!, meanAnomalyDeg: values.MEAN_ANOMALY!, meanMotionRevDay: values.MEAN_MOTION!
  })
  if (problem) return problem
  const name = typeof r.OBJECT_NAME === "string" && r.OBJECT_NAME.trim() !== "" ? r.OBJECT_NAME.trim() : String(values.NORAD_CAT_ID)
  const satrec = json2satrec({
    OBJECT_NAME: name, OBJECT_ID: typeof r.OBJECT_ID === "string" ? r.OBJECT_ID : "", EPOCH: epochText.replace(/Z$/, ""),
    MEAN_MOTION: values.MEAN_MOTION!, ECCENTRICITY: values.ECCENTRICITY!, INCLINATION: values.INCLINATION!, RA_OF_ASC_NODE: values.RA_OF_ASC_NODE!,
    ARG_OF_PERICENTER: values.ARG_OF_PERICENTER!, MEAN_ANOMALY: values.MEAN_ANOMALY!, NORAD_CAT_ID: values.NORAD_CAT_ID!, ELEMENT_SET_NO: values.ELEMENT_SET_NO!,
    REV_AT_EPOCH: values.REV_AT_EPOCH!, BSTAR: values.BSTAR!, MEAN_MOTION_DOT: values.MEAN_MOTION_DOT!, MEAN_MOTION_DDOT: values.MEAN_MOTION_DDOT!
  } as OMMJsonObject)
  if (satrec.error !== 0) return `SGP4 rejected the elements (satellite.js error ${satrec.error})`
  return {
    name, noradId: values.NORAD_CAT_ID!, epochMs: epochMsOf(satrec), meanMotionRevDay: values.MEAN_MOTION!,
    meanMotionDot: values.MEAN_MOTION_DOT!, eccentricity: values.ECCENTRICITY!, inclinationDeg: values.INCLINATION!, satrec
  }
}

/** 1-based line of a character offset. */
const lineAt = (text: string, offset: number, from = { offset: 0, line: 1 }): number => {
  let line = from.line
  for (let i = from.offset; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++
  return line
}

/** A whole-file failure: the file cannot be read as this format at all. */
export class OmmSyntaxError extends Error {
  constructor(readonly line: number, message: string) {
    super(message)
  }
}

export const parseOmmJson = (text: string, file: string): Parsed => {
  const errors: Array<ParseError> = []
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false })
  if (errors.length > 0) throw new OmmSyntaxError(lineAt(text, errors[0]!.offset), `not valid JSON (${printParseErrorCode(errors[0]!.error)})`)
  if (root === undefined) throw new OmmSyntaxError(1, "empty JSON")
  const items = root.type === "array" ? (root.children ?? []) : [root]
  const records: Array<CatalogRecord> = []
  const invalid: Array<InvalidRecord> = []
  // Offsets grow along the array: count newlines incrementally instead of from the start every time.
  let cursor = { offset: 0, line: 1 }
  for (const node of items) {
    const line = lineAt(text, node.offset, cursor)
    cursor = { offset: node.offset, line }
    const r = ommRecord(getNodeValue(node))
    if (typeof r === "string") invalid.push({ file, line, reason: r })
    else records.push({ ...r, file, line })
  }
  return { records, invalid }
}

export const parseOmmCsv = (text: string, file: string): Parsed => {
  let rows: Array<{ record: Record<string, string>; info: { lines: number } }>
  try {
    rows = parseCsvSync(text, { columns: true, skip_empty_lines: true, trim: true, info: true, bom: true })
  } catch (e) {
    const err = e as { lines?: number; message?: string }
    throw new OmmSyntaxError(err.lines ?? 1, `not valid CSV (${(err.message ?? String(e)).split("\n")[0]})`)
  }
  const records: Array<CatalogRecord> = []
  const invalid: Array<InvalidRecord> = []
  for (const { record, info } of rows) {
    const r = ommRecord(record)
    if (typeof r === "string") invalid.push({ file, line: info.lines, reason: r })
    else records.push({ ...r, file, line: info.lines })
  }
  return { records, invalid }
}
