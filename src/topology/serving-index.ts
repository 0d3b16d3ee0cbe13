/**
 * The serving satellite of many stations at one instant, fast: satellites binned by direction (inertial
 * latitude and longitude cells), and each station's answer searched among the cells a satellite above
 * its mask can be in. The answer is servingSatellite's exactly (same comparison, ties to the lower
 * index), in tens of candidates instead of every satellite: a trace replay asks it for every ground user
 * every epoch, which scanning 1,584 satellites each time made ~12% of a run.
 *
 * The bound: a satellite at radius r seen at elevation >= e from a station at radius r0 is within the
 * central angle acos((r0 / r) cos e) - e of the station's direction; the largest r of the instant gives
 * a bound for all. A mask at or below the horizon has no useful bound: then every satellite is checked.
 */
import { DEG } from "./constants.js"
import { type GroundStation, stationInertial } from "./ground.js"

const CELL_DEG = 3
const ROWS = 180 / CELL_DEG
const COLS = 360 / CELL_DEG
/** Added to the bound: cell edges, rounding. */
const MARGIN_DEG = 1

export class ServingIndex {
  private readonly start: Int32Array
  private readonly members: Int32Array
  private readonly maxRadius: number
  private readonly sinMask: number

  constructor(private readonly positions: Float64Array, private readonly size: number, private readonly maskDeg: number) {
    this.sinMask = Math.sin(maskDeg * DEG)
    const cell = new Int32Array(size)
    const count = new Int32Array(ROWS * COLS + 1)
    let maxR = 0
    for (let i = 0; i < size; i++) {
      const x = positions[3 * i]!, y = positions[3 * i + 1]!, z = positions[3 * i + 2]!
      const r = Math.sqrt(x * x + y * y + z * z)
      if (r > maxR) maxR = r
      cell[i] = cellOf(Math.asin(z / r) / DEG, Math.atan2(y, x) / DEG)
      count[cell[i]! + 1]!++
    }
    for (let c = 0; c < ROWS * COLS; c++) count[c + 1]! += count[c]!
    this.start = count
    this.maxRadius = maxR
    const fill = count.slice(0, ROWS * COLS)
    this.members = new Int32Array(size)
    for (let i = 0; i < size; i++) this.members[fill[cell[i]!]!++] = i
  }

  /**
   * The visible satellite highest over `g` at Earth rotation angle `theta`; -1 if none is above the mask.
   * `from`, `to`: only satellites from..to-1 (one shell).
   */
  servingOf(g: GroundStation, theta: number, from = 0, to = this.size): number {
    const o = stationInertial(g, theta)
    const ro = Math.hypot(o[0], o[1], o[2])
    let best = -1
    let bestSin = -2
    const p = this.positions
    const sinMask = this.sinMask
    const ox = o[0], oy = o[1], oz = o[2]
    const cosE = Math.cos(this.maskDeg * DEG)
    if (this.maskDeg <= 0 || ro >= this.maxRadius) {
      for (let i = Math.max(0, from); i < Math.min(to, this.size); i++) {
        const sinEl = sinElevation(p, i, ox, oy, oz, ro)
        if (sinEl >= sinMask && (sinEl > bestSin || (sinEl === bestSin && i < best))) {
          bestSin = sinEl
          best = i
        }
      }
      return best
    }
    const bound = (Math.acos(Math.min(1, (ro / this.maxRadius) * cosE)) / DEG) - this.maskDeg + MARGIN_DEG
    const lat = Math.asin(oz / ro) / DEG
    const lon = Math.atan2(oy, ox) / DEG
    const lo = lat - bound, hi = lat + bound
    const rowLo = Math.max(0, Math.floor((lo + 90) / CELL_DEG)), rowHi = Math.min(ROWS - 1, Math.floor((hi + 90) / CELL_DEG))
    // Longitude half-width of the cap at its widest latitude; the whole circle if the cap reaches a pole.
    const widest = Math.max(Math.abs(lo), Math.abs(hi))
    const s = widest >= 90 ? 2 : Math.sin(bound * DEG) / Math.cos(widest * DEG)
    const allCols = s >= 1
    const half = allCols ? 180 : Math.asin(s) / DEG + CELL_DEG
    const colSpan = allCols ? COLS : Math.min(COLS, Math.ceil((2 * half) / CELL_DEG) + 1)
    const colStart = allCols ? 0 : Math.floor((lon - half + 180) / CELL_DEG)
    const start = this.start
    const members = this.members
    for (let row = rowLo; row <= rowHi; row++) {
      for (let k = 0; k < colSpan; k++) {
        const col = (((colStart + k) % COLS) + COLS) % COLS
        const c = row * COLS + col
        for (let m = start[c]!; m < start[c + 1]!; m++) {
          const i = members[m]!
          if (i < from || i >= to) continue
          const sinEl = sinElevation(p, i, ox, oy, oz, ro)
          if (sinEl >= sinMask && (sinEl > bestSin || (sinEl === bestSin && i < best))) {
            bestSin = sinEl
            best = i
          }
        }
      }
    }
    return best
  }
}

/** Sine of satellite i's elevation seen from station direction (ox, oy, oz) at radius ro; -2 below the horizon. */
const sinElevation = (p: Float64Array, i: number, ox: number, oy: number, oz: number, ro: number): number => {
  const dx = p[3 * i]! - ox, dy = p[3 * i + 1]! - oy, dz = p[3 * i + 2]! - oz
  const up = dx * ox + dy * oy + dz * oz
  return up <= 0 ? -2 : up / (Math.sqrt(dx * dx + dy * dy + dz * dz) * ro)
}

const cellOf = (latDeg: number, lonDeg: number): number => {
  const row = Math.min(ROWS - 1, Math.max(0, Math.floor((latDeg + 90) / CELL_DEG)))
  const col = Math.min(COLS - 1, Math.max(0, Math.floor((lonDeg + 180) / CELL_DEG)))
  return row * COLS + col
}
