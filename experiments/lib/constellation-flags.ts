import { Constellation, preset, presetNames, type Shell, walkerDelta, walkerStar } from "../../src/topology/index.js"
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
