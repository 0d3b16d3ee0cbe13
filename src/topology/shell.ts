/**
 * A shell is one Walker constellation: `planes` orbital planes of `satsPerPlane` satellites, all at one
 * altitude and inclination. Use `walkerDelta` for RAANs spread over 360 deg (Starlink, Kuiper) and
 * `walkerStar` for RAANs over 180 deg (polar constellations such as Iridium), where the first and last
 * planes counter-rotate across the "seam". A "catalog" shell is one inferred from a real catalog
 * (catalog/infer.ts): its planes hold different numbers of satellites, `satsPerPlane` is the nominal
 * number of slots (from the median in-plane spacing), and the constellation's `planeStart` says where
 * each plane's satellites are.
 */
export type ShellPattern = "delta" | "star" | "catalog"

export interface Shell {
  readonly name: string
  readonly pattern: ShellPattern
  readonly planes: number
  readonly satsPerPlane: number
  /** Walker phasing factor F in [0, planes): satellites in plane p are shifted by F*p*360/T deg in argument of latitude. */
  readonly phasing: number
  readonly altitudeKm: number
  readonly inclinationDeg: number
  /** Total RAAN spread in degrees: 360 for delta, 180 for star. */
  readonly raanSpreadDeg: number
  /** RAAN of plane 0, degrees. */
  readonly raan0Deg: number
}

export interface ShellParams {
  readonly name?: string
  readonly planes: number
  readonly satsPerPlane: number
  readonly altitudeKm: number
  readonly inclinationDeg: number
  readonly phasing?: number
  readonly raan0Deg?: number
  /** Override the pattern's RAAN spread, e.g. to model a patch of adjacent planes of a larger shell. */
  readonly raanSpreadDeg?: number
}

const make = (pattern: ShellPattern, raanSpreadDeg: number, p: ShellParams): Shell => ({
  name: p.name ?? `${pattern}-${p.planes}x${p.satsPerPlane}@${p.altitudeKm}km/${p.inclinationDeg}deg`,
  pattern,
  planes: p.planes,
  satsPerPlane: p.satsPerPlane,
  phasing: p.phasing ?? (p.planes > 1 ? 1 : 0),
  altitudeKm: p.altitudeKm,
  inclinationDeg: p.inclinationDeg,
  raanSpreadDeg: p.raanSpreadDeg ?? raanSpreadDeg,
  raan0Deg: p.raan0Deg ?? 0
})

/** Walker delta i:T/P/F, RAANs spread over 360 deg. */
export const walkerDelta = (p: ShellParams): Shell => make("delta", 360, p)

/** Walker star (polar), RAANs spread over 180 deg; the seam between the last and first plane is cut by default. */
export const walkerStar = (p: ShellParams): Shell => make("star", 180, p)

export const shellSize = (s: Shell): number => s.planes * s.satsPerPlane
