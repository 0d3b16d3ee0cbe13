/**
 * The constellation at one instant: size, period, ISLs up and their lengths, and (with --ground) what a
 * ground user sees. `npx tsx experiments/topology.ts --preset starlink-shell1 --at 60 --ground 48.85,2.35 --json`
 */
import { kepler, makeSnapshot, orbitalPeriodSeconds, propagationSeconds, subSatellitePoints, visibleSatellites } from "../src/topology/index.js"
import { flag, parseCli, runMain } from "./lib/cli.js"
import { constellationFlags, constellationOf } from "./lib/constellation-flags.js"
import { fmt, printResult } from "./lib/output.js"
import { writeChart } from "./lib/plot.js"
import { writeIndex } from "./lib/report-index.js"
import { openRunDirectory } from "./lib/results.js"
import { worldMap } from "./lib/world-map.js"

const spec = {
  name: "topology",
  summary: "the constellation's geometry, links and ground visibility at one instant",
  flags: {
    ...constellationFlags,
    at: flag.number("time since epoch, seconds", 0, { placeholder: "SECONDS" }),
    ground: flag.latLon("a ground user at LAT,LON (deg) to report visibility for"),
    maskDeg: flag.number("minimum elevation for visibility, deg", 25, { min: 0, max: 90 })
  }
}

export interface TopologySummary {
  readonly preset: string
  readonly at: number
  readonly satellites: number
  readonly planes: number
  readonly shells: number
  readonly periodSeconds: number
  readonly islsUp: number
  readonly islsTotal: number
  readonly islLengthKm: { readonly min: number; readonly mean: number; readonly max: number }
  readonly ground?: { readonly latDeg: number; readonly lonDeg: number; readonly visible: number; readonly serving: number; readonly elevationDeg: number; readonly oneWayMs: number }
}

export const summarize = (opts: Parameters<typeof constellationOf>[0] & { at: number; ground: { latDeg: number; lonDeg: number } | undefined; maskDeg: number }): TopologySummary => {
  const { name, constellation: c } = constellationOf(opts)
  const snap = makeSnapshot(c).update(opts.at)
  let min = Number.POSITIVE_INFINITY, max = 0, sum = 0
  for (let l = 0; l < snap.graph.linkCount; l++) {
    if (!snap.up[l]) continue
    const d = snap.lengthKm[l]!
    min = Math.min(min, d)
    max = Math.max(max, d)
    sum += d
  }
  const summary: TopologySummary = {
    preset: name,
    at: opts.at,
    satellites: c.size,
    planes: c.planeCount,
    shells: c.shells.length,
    periodSeconds: orbitalPeriodSeconds(c.shells[0]!.altitudeKm),
    islsUp: snap.linksUp,
    islsTotal: snap.graph.linkCount,
    islLengthKm: { min: snap.linksUp ? min : 0, mean: snap.linksUp ? sum / snap.linksUp : 0, max }
  }
  if (!opts.ground) return summary
  const v = visibleSatellites(opts.ground, snap.positions, c.size, kepler(c).earthRotationAngleAt(opts.at), opts.maskDeg)
  return {
    ...summary,
    ground: {
      ...opts.ground,
      visible: v.satellites.length,
      serving: v.serving,
      elevationDeg: v.elevationsDeg[0] ?? Number.NaN,
      oneWayMs: v.serving >= 0 ? propagationSeconds(v.rangesKm[0]!) * 1e3 : Number.NaN
    }
  }
}

export const describeSummary = (s: TopologySummary): string => {
  const lines = [
    `constellation ${s.preset} at t = ${s.at} s`,
    `  satellites      ${s.satellites} in ${s.planes} planes (${s.shells} shell${s.shells > 1 ? "s" : ""})`,
    `  orbital period  ${fmt(s.periodSeconds, 1)} s`,
    `  ISLs up         ${s.islsUp} of ${s.islsTotal}`,
    `  ISL length km   min ${fmt(s.islLengthKm.min, 1)}  mean ${fmt(s.islLengthKm.mean, 1)}  max ${fmt(s.islLengthKm.max, 1)}`
  ]
  if (s.ground) {
    const g = s.ground
    lines.push(
      `  ground ${g.latDeg},${g.lonDeg}: ${g.visible} visible; serving ${g.serving < 0 ? "none" : `#${g.serving} at ${fmt(g.elevationDeg, 1)} deg, one-way ${fmt(g.oneWayMs, 3)} ms`}`
    )
  }
  return lines.join("\n")
}

/** The constellation on a world map at time t: satellites, ISLs up (blue) and down (red), the user and its serving satellite. */
export const constellationMap = (opts: Parameters<typeof summarize>[0], s: TopologySummary) => {
  const { name, constellation: c } = constellationOf(opts)
  const snap = makeSnapshot(c).update(opts.at)
  const ll = subSatellitePoints(snap.positions, c.size, kepler(c).earthRotationAngleAt(opts.at))
  const links = []
  for (let l = 0; l < snap.graph.linkCount; l++) {
    const a = snap.graph.linkA[l]!, b = snap.graph.linkB[l]!
    // A link drawn across the antimeridian would streak over the whole map: left out of the picture only.
    if (Math.abs(ll[2 * a + 1]! - ll[2 * b + 1]!) > 180) continue
    links.push({ lat: ll[2 * a]!, lon: ll[2 * a + 1]!, lat2: ll[2 * b]!, lon2: ll[2 * b + 1]!, state: snap.up[l] ? "up" : "down" })
  }
  const sats = Array.from({ length: c.size }, (_, i) => ({ lat: ll[2 * i]!, lon: ll[2 * i + 1]!, role: i === s.ground?.serving ? "serving" : "satellite" }))
  const layers: Array<object> = [
    {
      data: { values: links }, mark: { type: "rule", strokeWidth: 0.6 },
      encoding: {
        latitude: { field: "lat", type: "quantitative" }, longitude: { field: "lon", type: "quantitative" },
        latitude2: { field: "lat2" }, longitude2: { field: "lon2" },
        color: { field: "state", type: "nominal", scale: { domain: ["up", "down"], range: ["#4c78a8", "#e45756"] }, title: "ISL" }
      }
    },
    {
      data: { values: sats }, mark: { type: "circle" },
      encoding: {
        latitude: { field: "lat", type: "quantitative" }, longitude: { field: "lon", type: "quantitative" },
        size: { condition: { test: "datum.role === 'serving'", value: 120 }, value: c.size > 2000 ? 4 : 12 },
        fill: { condition: { test: "datum.role === 'serving'", value: "#f58518" }, value: "#333" }
      }
    }
  ]
  if (s.ground) {
    layers.push({
      data: { values: [{ lat: s.ground.latDeg, lon: s.ground.lonDeg }] }, mark: { type: "point", shape: "triangle-up", filled: true, size: 160, color: "#54a24b" },
      encoding: { latitude: { field: "lat", type: "quantitative" }, longitude: { field: "lon", type: "quantitative" } }
    })
  }
  return worldMap(`${name} at t = ${opts.at} s: ${s.islsUp} of ${s.islsTotal} ISLs up${s.ground ? " (green: user, orange: its serving satellite)" : ""}`, layers)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runMain(async () => {
    const o = parseCli(spec)
    const s = summarize(o)
    const dir = openRunDirectory("topology", { ...o, json: undefined, quiet: undefined, help: undefined })
    dir.writeJson("results.json", JSON.parse(JSON.stringify(s)))
    await writeChart(dir.writeText, "constellation-map", constellationMap(o, s))
    dir.writeSummary({ preset: s.preset, at: s.at, satellites: s.satellites, "ISLs up": s.islsUp, "ISLs": s.islsTotal, "mean ISL km": s.islLengthKm.mean })
    writeIndex()
    // JSON cannot carry NaN; a user with no satellite above the mask gets nulls.
    printResult(o.json, JSON.parse(JSON.stringify(s)), () => `${describeSummary(s)}\nwritten to ${dir.path}`)
  })
}
