/**
 * The constellation at one instant: size, period, ISLs up and their lengths, and (with --ground) what a
 * ground user sees. `npx tsx experiments/topology.ts --preset starlink-shell1 --at 60 --ground 48.85,2.35 --json`
 */
import { kepler, makeSnapshot, orbitalPeriodSeconds, propagationSeconds, visibleSatellites } from "../src/topology/index.js"
import { flag, parseCli, runMain } from "./lib/cli.js"
import { constellationFlags, constellationOf } from "./lib/constellation-flags.js"
import { fmt, printResult } from "./lib/output.js"

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

if (import.meta.url === `file://${process.argv[1]}`) {
  runMain(() => {
    const o = parseCli(spec)
    const s = summarize(o)
    // JSON cannot carry NaN; a user with no satellite above the mask gets nulls.
    printResult(o.json, JSON.parse(JSON.stringify(s)), () => describeSummary(s))
  })
}
