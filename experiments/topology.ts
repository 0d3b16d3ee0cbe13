/**
 * The constellation at one instant: size, shells, period, ISLs up and their lengths, and (with --ground)
 * what a ground user sees; with --tle, what the catalog held and what was inferred from it; with
 * --windows S, the link windows over the next S seconds (when each ISL is up: src/topology/windows.ts).
 * `npx tsx experiments/topology.ts --preset starlink-shell1 --at 60 --ground 48.85,2.35 --json`
 * `npx tsx experiments/topology.ts --tle starlink.tle --at 2026-11-30T12:00:00Z --ground 48.85,2.35 --json`
 */
import { islRulesOf } from "../src/actors/network/topology-actor.js"
import { Catalog, type Constellation, ephemerisOf, LinkKind, linkWindows, makeSnapshot, orbitalPeriodSeconds, propagationSeconds, type Snapshot, subSatellitePoints, visibleSatellites } from "../src/topology/index.js"
import { CliError, flag, parseCli, runMain } from "./lib/cli.js"
import { catalogConfigOf, catalogFlags, constellationFlags, constellationOf, describeCatalog } from "./lib/constellation-flags.js"
import { fmt, printResult } from "./lib/output.js"
import { writeChart } from "./lib/plot.js"
import { writeIndex } from "./lib/report-index.js"
import { openRunDirectory } from "./lib/results.js"
import { quantile } from "./lib/stats.js"
import { worldMap } from "./lib/world-map.js"

const spec = {
  name: "topology",
  summary: "the constellation's geometry, links and ground visibility at one instant",
  flags: {
    ...constellationFlags,
    ...catalogFlags,
    at: flag.optionalString("the instant: seconds since the preset's epoch (default 0); with --tle, seconds after the catalog's newest epoch or an ISO 8601 instant (default: the newest epoch)", "S|ISO"),
    ground: flag.latLon("a ground user at LAT,LON (deg) to report visibility for"),
    maskDeg: flag.number("minimum elevation for visibility, deg", 25, { min: 0, max: 90 }),
    windows: flag.optionalNumber("link windows over the next S seconds: per kind of ISL, the links that go down, their outages and the share of link time up", { min: 1, placeholder: "S" })
  }
}

export interface TopologySummary {
  readonly preset: string
  /** Seconds since the preset's epoch, or the catalog's instant (ISO 8601). */
  readonly at: number | string
  readonly satellites: number
  readonly planes: number
  readonly shells: ReadonlyArray<{ readonly name: string; readonly inclinationDeg: number; readonly altitudeKm: number; readonly planes: number; readonly satellites: number }>
  readonly catalog?: Omit<Catalog.CatalogSummary, "shells" | "invalid"> & { readonly invalid: number }
  readonly periodSeconds: number
  readonly islsUp: number
  readonly islsTotal: number
  readonly islLengthKm: { readonly min: number; readonly mean: number; readonly max: number }
  readonly ground?: { readonly latDeg: number; readonly lonDeg: number; readonly visible: number; readonly serving: number; readonly elevationDeg: number; readonly oneWayMs: number }
  /** With --windows: the link windows over [at, at + seconds], per kind of ISL. */
  readonly linkWindows?: { readonly seconds: number; readonly kinds: ReadonlyArray<LinkWindowsOfKind> }
}

export interface LinkWindowsOfKind {
  readonly kind: string
  readonly links: number
  readonly alwaysUp: number
  readonly neverUp: number
  /** Links going down inside the span (a window that ends before the span does). */
  readonly outages: number
  /** Outages that also end inside the span: their median length (null if none). */
  readonly medianOutageSeconds: number | null
  /** Link time up over link time in the span. */
  readonly upShare: number
}

const kindNames: Record<number, string> = { [LinkKind.intraPlane]: "intra-plane", [LinkKind.interPlane]: "inter-plane", [LinkKind.crossShell]: "cross-shell" }

/** What linkWindows says of each kind of link over [t, t + seconds]. */
export const windowsByKind = (snap: Snapshot, t: number, seconds: number): Array<LinkWindowsOfKind> => {
  const windows = linkWindows(snap, t, t + seconds)
  const g = snap.graph
  return Object.entries(kindNames).flatMap(([kind, name]) => {
    let links = 0, alwaysUp = 0, neverUp = 0, outages = 0, up = 0
    const closed: Array<number> = []
    for (let l = 0; l < g.linkCount; l++) {
      if (g.linkKind[l] !== Number(kind)) continue
      const w = windows[l]!
      links++
      if (w.length === 0) neverUp++
      else if (w.length === 1 && w[0]![0] === t && w[0]![1] === t + seconds) alwaysUp++
      for (let k = 0; k < w.length; k++) {
        up += w[k]![1] - w[k]![0]
        if (w[k]![1] < t + seconds) outages++
        if (k > 0) closed.push(w[k]![0] - w[k - 1]![1])
      }
    }
    const median = closed.length === 0 ? null : quantile(Float64Array.from(closed).sort(), 0.5)
    return links === 0 ? [] : [{ kind: name, links, alwaysUp, neverUp, outages, medianOutageSeconds: median, upShare: up / (links * seconds) }]
  })
}

export type TopologyOptions = Parameters<typeof constellationOf>[0] & {
  tle: string | undefined; lenient: boolean; crossShellLinks: boolean
  at: string | undefined; ground: { latDeg: number; lonDeg: number } | undefined; maskDeg: number; windows?: number | undefined
}

/** The constellation and the snapshot time: a preset at --at seconds, or a catalog whose t = 0 is --at. */
const instant = (opts: TopologyOptions): { name: string; constellation: Constellation.Constellation; t: number; at: number | string; catalog?: Catalog.CatalogSummary } => {
  const k = catalogConfigOf({ ...opts, at: undefined })
  if (k.path !== "") {
    const { constellation, summary } = Catalog.loadCatalog(k.path, { at: opts.at, lenient: k.lenient })
    return { name: k.path, constellation, t: 0, at: summary.at, catalog: summary }
  }
  const t = opts.at === undefined ? 0 : Number(opts.at)
  if (opts.at !== undefined && (opts.at.trim() === "" || !Number.isFinite(t))) throw new CliError({ flag: "--at", message: `expected seconds since the epoch, got "${opts.at}" (an ISO instant needs --tle)` })
  return { ...constellationOf(opts), t, at: t }
}

const catalogCounts = ({ shells: _, invalid, ...rest }: Catalog.CatalogSummary) => ({ ...rest, invalid: invalid.length })

export const summarize = (opts: TopologyOptions): TopologySummary => {
  const { name, constellation: c, t, at, catalog } = instant(opts)
  const snap = makeSnapshot(c, { rules: islRulesOf({ catalog: catalogConfigOf({ ...opts, at: undefined }) }) }).update(t)
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
    at,
    satellites: c.size,
    planes: c.planeCount,
    shells: c.shells.map((s, k) => ({ name: s.name, inclinationDeg: s.inclinationDeg, altitudeKm: s.altitudeKm, planes: s.planes, satellites: c.shellStart[k + 1]! - c.shellStart[k]! })),
    ...(catalog ? { catalog: catalogCounts(catalog) } : {}),
    periodSeconds: orbitalPeriodSeconds(c.shells[0]!.altitudeKm),
    islsUp: snap.linksUp,
    islsTotal: snap.graph.linkCount,
    islLengthKm: { min: snap.linksUp ? min : 0, mean: snap.linksUp ? sum / snap.linksUp : 0, max },
    ...(opts.windows !== undefined ? { linkWindows: { seconds: opts.windows, kinds: windowsByKind(snap, t, opts.windows) } } : {})
  }
  if (!opts.ground) return summary
  const v = visibleSatellites(opts.ground, snap.positions, c.size, snap.ephemeris.earthRotationAngleAt(t), opts.maskDeg)
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

export const describeSummary = (s: TopologySummary, catalog?: Catalog.CatalogSummary): string => {
  const lines = [
    ...(catalog ? [describeCatalog(catalog)] : []),
    `constellation ${s.preset} at ${typeof s.at === "number" ? `t = ${s.at} s` : s.at}`,
    `  satellites      ${s.satellites} in ${s.planes} planes (${s.shells.length} shell${s.shells.length > 1 ? "s" : ""})`,
    `  orbital period  ${fmt(s.periodSeconds, 1)} s`,
    `  ISLs up         ${s.islsUp} of ${s.islsTotal}`,
    `  ISL length km   min ${fmt(s.islLengthKm.min, 1)}  mean ${fmt(s.islLengthKm.mean, 1)}  max ${fmt(s.islLengthKm.max, 1)}`
  ]
  for (const k of s.linkWindows?.kinds ?? []) {
    lines.push(`  ${k.kind} ISLs over ${s.linkWindows!.seconds} s: ${k.alwaysUp} of ${k.links} always up, ${k.neverUp} never; ${k.outages} outages${k.medianOutageSeconds === null ? "" : ` (median ${fmt(k.medianOutageSeconds, 1)} s)`}; up ${fmt(100 * k.upShare, 1)}% of link time`)
  }
  if (s.ground) {
    const g = s.ground
    lines.push(
      `  ground ${g.latDeg},${g.lonDeg}: ${g.visible} visible; serving ${g.serving < 0 ? "none" : `#${g.serving} at ${fmt(g.elevationDeg, 1)} deg, one-way ${fmt(g.oneWayMs, 3)} ms`}`
    )
  }
  return lines.join("\n")
}

/** The constellation on a world map at time t: satellites (coloured by shell), ISLs up and down, the user and its serving satellite. */
export const constellationMap = (opts: TopologyOptions, s: TopologySummary) => {
  const { name, constellation: c, t } = instant(opts)
  const snap = makeSnapshot(c, { rules: islRulesOf({ catalog: catalogConfigOf({ ...opts, at: undefined }) }) }).update(t)
  const ll = subSatellitePoints(snap.positions, c.size, ephemerisOf(c).earthRotationAngleAt(t))
  const links = []
  for (let l = 0; l < snap.graph.linkCount; l++) {
    const a = snap.graph.linkA[l]!, b = snap.graph.linkB[l]!
    // A link drawn across the antimeridian would streak over the whole map: left out of the picture only.
    if (Math.abs(ll[2 * a + 1]! - ll[2 * b + 1]!) > 180) continue
    links.push({ lat: ll[2 * a]!, lon: ll[2 * a + 1]!, lat2: ll[2 * b]!, lon2: ll[2 * b + 1]!, state: snap.up[l] ? "up" : "down" })
  }
  const sats = Array.from({ length: c.size }, (_, i) => ({ lat: ll[2 * i]!, lon: ll[2 * i + 1]!, role: i === s.ground?.serving ? "serving" : "satellite", shell: c.shells[c.shellOf[i]!]!.name }))
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
        size: { condition: { test: "datum.role === 'serving'", value: 120 }, value: c.size > 2000 ? 7 : 12 },
        // One colour per shell (a catalog's inferred shells; a preset's own), the serving satellite in black.
        fill: { condition: { test: "datum.role === 'serving'", value: "#000000" }, field: "shell", type: "nominal", scale: { scheme: "dark2" }, title: "shell" }
      }
    }
  ]
  if (s.ground) {
    layers.push({
      data: { values: [{ lat: s.ground.latDeg, lon: s.ground.lonDeg }] }, mark: { type: "point", shape: "triangle-up", filled: true, size: 160, color: "#54a24b" },
      encoding: { latitude: { field: "lat", type: "quantitative" }, longitude: { field: "lon", type: "quantitative" } }
    })
  }
  return worldMap(`${name} at ${typeof s.at === "number" ? `t = ${s.at} s` : s.at}: ${s.islsUp} of ${s.islsTotal} ISLs up${s.ground ? " (green: user, black: its serving satellite)" : ""}`, layers)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runMain(async () => {
    const o = parseCli(spec)
    const s = summarize(o)
    const catalog = o.tle === undefined ? undefined : Catalog.loadCatalog(o.tle, { at: o.at, lenient: o.lenient }).summary
    const dir = openRunDirectory("topology", { ...o, json: undefined, quiet: undefined, help: undefined })
    dir.writeJson("results.json", JSON.parse(JSON.stringify(s)))
    await writeChart(dir.writeText, "constellation-map", constellationMap(o, s))
    dir.writeSummary({ preset: s.preset, at: s.at, satellites: s.satellites, "ISLs up": s.islsUp, "ISLs": s.islsTotal, "mean ISL km": s.islLengthKm.mean })
    writeIndex()
    // JSON cannot carry NaN; a user with no satellite above the mask gets nulls.
    printResult(o.json, JSON.parse(JSON.stringify(s)), () => `${describeSummary(s, catalog)}\nwritten to ${dir.path}`)
  })
}
