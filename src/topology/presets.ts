/**
 * Named constellations. `paper-19x5` is the SkyMemory prototype (5 planes x 19 satellites at 550 km). The
 * paper gives no inclination, so we take 53 deg, Starlink shell 1's, which is what a 550 km LEO cache
 * would most plausibly ride on. Five planes spread over 360 deg would be 72 deg apart, and every
 * inter-plane ISL would pass through the Earth; the prototype's 5 x 19 grid is instead modelled as a patch
 * of five adjacent planes of a 19 x 19 Walker delta (RAAN spacing 360/19 = 18.9 deg, so inter-plane and
 * in-plane neighbours are about equally far apart, as in the paper's square grid), with an open seam. Starlink phase 1 follows the FCC filing (SpaceX, 2018/2020 modification):
 * four shells, 4,408 satellites. Phasing factors are not published for every shell; we use F = 1 except
 * where a published value is known to us, and document it here so runs are comparable.
 */
import { type Shell, walkerDelta } from "./shell.js"
import { TopologyErrors } from "./errors.js"

export const PRESETS = {
  "paper-19x5": [walkerDelta({ name: "paper-19x5", planes: 5, satsPerPlane: 19, altitudeKm: 550, inclinationDeg: 53, phasing: 0, raanSpreadDeg: (5 * 360) / 19 })],
  "starlink-shell1": [walkerDelta({ name: "starlink-shell1", planes: 72, satsPerPlane: 22, altitudeKm: 550, inclinationDeg: 53, phasing: 39 })],
  "starlink-phase1": [
    walkerDelta({ name: "starlink-550-53", planes: 72, satsPerPlane: 22, altitudeKm: 550, inclinationDeg: 53, phasing: 39 }),
    walkerDelta({ name: "starlink-570-70", planes: 36, satsPerPlane: 20, altitudeKm: 570, inclinationDeg: 70, phasing: 1 }),
    walkerDelta({ name: "starlink-560-97.6", planes: 10, satsPerPlane: 52, altitudeKm: 560, inclinationDeg: 97.6, phasing: 1 }),
    walkerDelta({ name: "starlink-540-53.2", planes: 72, satsPerPlane: 22, altitudeKm: 540, inclinationDeg: 53.2, phasing: 1 })
  ],
  "kuiper-shell1": [walkerDelta({ name: "kuiper-shell1", planes: 34, satsPerPlane: 34, altitudeKm: 630, inclinationDeg: 51.9, phasing: 1 })],
  "mega-10k": [walkerDelta({ name: "mega-10k", planes: 100, satsPerPlane: 100, altitudeKm: 550, inclinationDeg: 53, phasing: 1 })]
} as const satisfies Record<string, ReadonlyArray<Shell>>

export type PresetName = keyof typeof PRESETS

export const presetNames = Object.keys(PRESETS) as ReadonlyArray<PresetName>

export const isPresetName = (name: string): name is PresetName => Object.hasOwn(PRESETS, name)

/** The shells of a preset; throws a TopologyError naming the unknown preset and the known ones. */
export const preset = (name: string): ReadonlyArray<Shell> => {
  if (!isPresetName(name)) throw TopologyErrors.unknownPreset(name, presetNames)
  return PRESETS[name]
}
