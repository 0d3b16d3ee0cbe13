/**
 * Three-line TLE files as the public catalogs publish them: a name line, then the two element lines
 * (a "0 " prefix on the name, Space-Track's 3LE, is dropped; a set without a name line is accepted and
 * named by its NORAD id). Each set is checked before satellite.js parses it: line numbers, length,
 * the modulo-10 checksum of each line, the same catalogue number on both lines, field ranges.
 *
 * `formatTle` writes element lines (column layout of the format's definition, checksum included); the
 * synthetic catalogs of tests and benchmarks use it. Written here because no maintained npm package
 * writes TLEs, and it is the format's fixed columns and nothing more.
 */
import { twoline2satrec } from "satellite.js"
import { type CatalogRecord, elementProblem, epochMsOf, type InvalidRecord, type MeanElements } from "./record.js"

/** Modulo-10 checksum of columns 1-68: digits count their value, a minus sign counts 1. */
export const tleChecksum = (line: string): number => {
  let sum = 0
  for (let i = 0; i < 68 && i < line.length; i++) {
    const ch = line.charCodeAt(i)
    if (ch >= 48 && ch <= 57) sum += ch - 48
    else if (ch === 45) sum += 1
  }
  return sum % 10
}

/** The catalogue number in columns 3-7: digits, or Alpha-5 (a letter for the ten-thousands, I and O skipped). */
const catalogNumber = (field: string): number => {
  const f = field.trim()
  if (/^\d{1,5}$/.test(f)) return Number(f)
  const m = /^([A-HJ-NP-Z])(\d{4})$/.exec(f)
  if (!m) return Number.NaN
  const letter = m[1]!.charCodeAt(0) - 65
  const value = 10 + letter - (letter > 8 ? 1 : 0) - (letter > 14 ? 1 : 0)
  return value * 10_000 + Number(m[2])
}

const checkLine = (line: string, n: 1 | 2): string | undefined => {
  if (!line.startsWith(`${n} `)) return `line ${n} of the set must start with "${n} "`
  if (line.length < 69) return `line ${n} has ${line.length} characters, expected 69`
  const stated = line.charCodeAt(68) - 48
  if (!(stated >= 0 && stated <= 9)) return `line ${n} has no checksum digit in column 69`
  const computed = tleChecksum(line)
  if (stated !== computed) return `line ${n} checksum ${stated} does not match the computed ${computed}`
  return undefined
}

const parseSet = (name: string | undefined, l1: string, l2: string): CatalogRecord | string => {
  const problem = checkLine(l1, 1) ?? checkLine(l2, 2)
  if (problem) return problem
  const id1 = catalogNumber(l1.slice(2, 7))
  const id2 = catalogNumber(l2.slice(2, 7))
  if (!Number.isFinite(id1)) return `catalogue number "${l1.slice(2, 7)}" is not a number`
  if (id1 !== id2) return `catalogue numbers differ between line 1 (${id1}) and line 2 (${id2})`
  const num = (s: string) => (/^\s*[-+]?(\d+\.?\d*|\.\d+)\s*$/.test(s) ? Number(s) : Number.NaN)
  const elements = {
    noradId: id1,
    inclinationDeg: num(l2.slice(8, 16)),
    raanDeg: num(l2.slice(17, 25)),
    eccentricity: /^\d{7}$/.test(l2.slice(26, 33)) ? Number(`0.${l2.slice(26, 33)}`) : Number.NaN,
    argPerigeeDeg: num(l2.slice(34, 42)),
    meanAnomalyDeg: num(l2.slice(43, 51)),
    meanMotionRevDay: num(l2.slice(52, 63))
  }
  const range = elementProblem(elements)
  if (range) return range
  const epochDays = num(l1.slice(20, 32))
  if (!/^\d\d$/.test(l1.slice(18, 20)) || !(epochDays >= 1 && epochDays < 367)) return `epoch "${l1.slice(18, 32)}" is not YYDDD.DDDDDDDD`
  const meanMotionDot = num(l1.slice(33, 43))
  if (!Number.isFinite(meanMotionDot)) return `mean motion derivative "${l1.slice(33, 43)}" is not a number`
  const satrec = twoline2satrec(l1, l2)
  if (satrec.error !== 0) return `SGP4 rejected the elements (satellite.js error ${satrec.error})`
  return {
    name: name ?? String(id1), noradId: id1, epochMs: epochMsOf(satrec), meanMotionRevDay: elements.meanMotionRevDay, meanMotionDot,
    eccentricity: elements.eccentricity, inclinationDeg: elements.inclinationDeg, satrec, file: "", line: 0
  }
}

/** Every set of a TLE file, checked; invalid sets come back apart with their line and reason. */
export const parseTle = (text: string, file: string): { records: Array<CatalogRecord>; invalid: Array<InvalidRecord> } => {
  const lines = text.split(/\r?\n/)
  const records: Array<CatalogRecord> = []
  const invalid: Array<InvalidRecord> = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i]!.trimEnd()
    if (line.trim() === "") {
      i++
      continue
    }
    const first = i + 1
    let name: string | undefined
    if (!line.startsWith("1 ")) {
      name = line.replace(/^0 /, "").trim()
      i++
    }
    const l1 = (lines[i] ?? "").trimEnd()
    const l2 = (lines[i + 1] ?? "").trimEnd()
    if (!l1.startsWith("1 ") || !l2.startsWith("2 ")) {
      // Resynchronise on the next line that could start a set, so one bad set costs only itself.
      invalid.push({ file, line: first, reason: name !== undefined && !l1.startsWith("1 ") ? `"${name.slice(0, 24)}" is followed by no element line 1` : "expected element lines 1 and 2" })
      i = name === undefined ? i + 1 : i
      continue
    }
    const parsed = parseSet(name, l1, l2)
    if (typeof parsed === "string") invalid.push({ file, line: first, reason: parsed })
    else records.push({ ...parsed, file, line: first })
    i += 2
  }
  return { records, invalid }
}

export interface TleElements extends MeanElements {
  readonly name: string
  readonly epochMs: number
  /** First derivative of mean motion / 2, rev/day^2. */
  readonly meanMotionDot?: number
  /** Drag term, 1/earth radii. */
  readonly bstar?: number
}

/** "-12345-4" style field: mantissa digits with an implied leading decimal point, then the exponent. */
const expField = (x: number): string => {
  if (x === 0) return " 00000+0"
  const exp = Math.floor(Math.log10(Math.abs(x))) + 1
  let mant = Math.round((Math.abs(x) / 10 ** exp) * 1e5)
  let e = exp
  if (mant >= 100_000) {
    mant = 10_000
    e++
  }
  return `${x < 0 ? "-" : " "}${String(mant).padStart(5, "0")}${e < 0 ? "-" : "+"}${Math.abs(e)}`
}

const withChecksum = (body: string): string => `${body}${tleChecksum(body)}`

/** A name line and the two element lines of one satellite. */
export const formatTle = (e: TleElements): [string, string, string] => {
  const d = new Date(e.epochMs)
  const year = d.getUTCFullYear()
  const day = (e.epochMs - Date.UTC(year, 0, 1)) / 86_400_000 + 1
  const id = String(e.noradId).padStart(5, "0")
  const ndot = e.meanMotionDot ?? 0
  const ndotText = `${ndot < 0 ? "-" : " "}${Math.abs(ndot).toFixed(8).slice(1)}`
  const l1 = `1 ${id}U 20001A   ${String(year % 100).padStart(2, "0")}${day.toFixed(8).padStart(12, "0")} ${ndotText}  00000+0 ${expField(e.bstar ?? 0)} 0  999`
  // Angles in [0, 360): 359.99996 would print as 360.0000, out of the field's range.
  const deg = (x: number) => {
    const r = Math.round((((x % 360) + 360) % 360) * 1e4) / 1e4
    return (r >= 360 ? 0 : r).toFixed(4).padStart(8, " ")
  }
  const ecc = Math.round(e.eccentricity * 1e7).toString().padStart(7, "0")
  const l2 = `2 ${id} ${deg(e.inclinationDeg)} ${deg(e.raanDeg)} ${ecc} ${deg(e.argPerigeeDeg)} ${deg(e.meanAnomalyDeg)} ${e.meanMotionRevDay.toFixed(8).padStart(11, " ")}    1`
  return [e.name, withChecksum(l1), withChecksum(l2)]
}
