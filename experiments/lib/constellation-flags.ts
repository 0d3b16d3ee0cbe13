import { constellationOfConfig } from "../../src/actors/world.js"
import { constellationName, type RunConfig } from "../../src/actors/config.js"
import { Catalog, Constellation, preset, presetNames, type Shell, walkerDelta, walkerStar } from "../../src/topology/index.js"
import { CliError, flag } from "./cli.js"

/** The constellation to run on, by preset name (every experiment that runs the runtime takes it). */
export const presetFlag = (def: (typeof presetNames)[number]) => flag.choice("named constellation", presetNames, def)

/**
 * Flags that choose a constellation: a named preset, or one Walker shell by parameters
 * (--planes and --sats-per-plane switch to the custom shell).
 */
export const constellationFlags = {
  preset: presetFlag("paper-19x5"),
  planes: flag.optionalNumber("custom shell: orbital planes (with --sats-per-plane)", { min: 1 }),
  satsPerPlane: flag.optionalNumber("custom shell: satellites per plane", { min: 1 }),
  altitudeKm: flag.number("custom shell: altitude, km", 550, { min: 100, max: 50000 }),
  inclinationDeg: flag.number("custom shell: inclination, deg", 53, { min: 0, max: 180 }),
  phasing: flag.number("custom shell: Walker phasing factor F", 1, { min: 0, integer: true }),
  pattern: flag.choice("custom shell: Walker pattern", ["delta", "star"] as const, "delta")
}

/**
 * A real catalog instead of a preset: every experiment that takes --preset takes these. --at is separate
 * because topology.ts reads it for presets too (`atFlag`).
 */
export const catalogFlags = {
  tle: flag.optionalString("run on a satellite catalog instead of --preset: three-line TLE, OMM JSON or OMM CSV (detected by content); shells, planes and links are inferred", "FILE"),
  lenient: flag.boolean("with --tle: skip and count records that fail their checks (default: refuse the file, naming the line)"),
  crossShellLinks: flag.boolean("with --tle: each satellite may also link to the nearest satellite of another shell in range (off by default)")
}

export const atFlag = flag.optionalString("with --tle: t = 0 is S seconds after the catalog's newest epoch, or an ISO 8601 instant (default: the newest epoch)", "S|ISO")

export interface CatalogChoice {
  readonly tle: string | undefined
  readonly at?: string | undefined
  readonly lenient: boolean
  readonly crossShellLinks: boolean
}

/** The run config's catalog from the flags; a catalog-only flag without --tle is an error naming it. */
export const catalogConfigOf = (o: CatalogChoice): RunConfig["catalog"] => {
  if (o.tle === undefined) {
    const stray = o.at !== undefined ? "--at" : o.lenient ? "--lenient" : o.crossShellLinks ? "--cross-shell-links" : undefined
    if (stray) throw new CliError({ flag: stray, message: "needs --tle FILE (it applies to a catalog)" })
    return { path: "", at: "", lenient: false, crossShellLinks: false }
  }
  return { path: o.tle, at: o.at ?? "", lenient: o.lenient, crossShellLinks: o.crossShellLinks }
}

/**
 * An experiment's constellation flags resolved before anything runs: the run config's catalog, the name
 * results use (the catalog file or the preset), the constellation, and the catalog's summary, printed on
 * stderr unless --quiet or --json. Loading it here, before any worker starts, makes a bad catalog fail at
 * once with one line naming file and line (exit 2).
 */
export const resolveConstellation = (o: CatalogChoice & { readonly preset: string; readonly quiet: boolean; readonly json: boolean }) => {
  const catalog = catalogConfigOf(o)
  const config = { preset: o.preset, shells: [], catalog }
  const constellation = constellationOfConfig(config)
  // The world loaded it just now (loadCatalog is memoised): the summary costs nothing more.
  const summary = catalog.path === "" ? undefined : Catalog.loadCatalog(catalog.path, { at: catalog.at, lenient: catalog.lenient }).summary
  if (summary && !o.quiet && !o.json) process.stderr.write(`${describeCatalog(summary)}\n`)
  return { catalog, where: constellationName(config), constellation, summary }
}

/** One line per inferred shell, and what was excluded: what a catalog run prints before it starts. */
export const describeCatalog = (s: Catalog.CatalogSummary): string =>
  [
    `catalog ${s.file} (${s.format}): ${s.records} records, ${s.operational} operational at ${s.at}${Object.keys(s.excluded).length ? `; excluded ${Object.entries(s.excluded).map(([r, n]) => `${r} ${n}`).join(", ")}` : ""}`,
    ...s.shells.map((sh) => `  ${sh.name}: ${sh.inclinationDeg.toFixed(2)} deg, ${sh.altitudeKm.toFixed(1)} km, ${sh.planes} planes, ${sh.satellites} satellites (${sh.minPerPlane}-${sh.maxPerPlane} per plane of ${sh.slotsPerPlane} slots${sh.wraps ? "" : ", open seam"})`)
  ].join("\n")

export interface ConstellationChoice {
  readonly preset: string
  readonly planes: number | undefined
  readonly satsPerPlane: number | undefined
  readonly altitudeKm: number
  readonly inclinationDeg: number
  readonly phasing: number
  readonly pattern: "delta" | "star"
}

export const shellsOf = (o: ConstellationChoice): { name: string; shells: ReadonlyArray<Shell> } => {
  if (o.planes === undefined && o.satsPerPlane === undefined) return { name: o.preset, shells: preset(o.preset) }
  if (o.planes === undefined || o.satsPerPlane === undefined)
    throw new CliError({ flag: o.planes === undefined ? "--planes" : "--sats-per-plane", message: "a custom shell needs both --planes and --sats-per-plane" })
  const make = o.pattern === "star" ? walkerStar : walkerDelta
  const shell = make({ planes: o.planes, satsPerPlane: o.satsPerPlane, altitudeKm: o.altitudeKm, inclinationDeg: o.inclinationDeg, phasing: o.phasing % o.planes })
  return { name: shell.name, shells: [shell] }
}

export const constellationOf = (o: ConstellationChoice) => {
  const { name, shells } = shellsOf(o)
  return { name, constellation: Constellation.make(shells) }
}

/** Where the constellation under a model runs: 1 = one shard in this thread, W > 1 = one shard per worker. */
export const liveWorkersFlag = flag.number("shards of the constellation: 1 = in this thread, W > 1 = one per worker thread (same virtual-time results)", 1, { min: 1, max: 64, integer: true, placeholder: "W" })
