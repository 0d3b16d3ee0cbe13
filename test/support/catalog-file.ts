/**
 * A synthetic catalog written for a test (src/topology/catalog/synthetic.ts) in a fresh temporary folder,
 * with the truth the inference should recover. Default: two shells 10 km and 0.2 deg apart (Starlink's
 * 550/53.0 and 540/53.2, fewer planes), empty slots, orbit raising, deorbiting, stale sets, spread epochs.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Catalog, type Shell, walkerDelta } from "../../src/topology/index.js"

export const REFERENCE = "2026-11-01T00:00:00.000Z"

const twoShells: ReadonlyArray<Shell> = [
  walkerDelta({ name: "a", planes: 12, satsPerPlane: 16, altitudeKm: 550, inclinationDeg: 53, phasing: 5 }),
  walkerDelta({ name: "b", planes: 10, satsPerPlane: 14, altitudeKm: 540, inclinationDeg: 53.2, phasing: 1 })
]

export const writeCatalog = (
  format: "tle" | "omm-json" | "omm-csv" = "tle",
  options: Partial<Catalog.SyntheticOptions> = {}
): { path: string; catalog: Catalog.SyntheticCatalog; text: string } => {
  const catalog = Catalog.syntheticCatalog({
    shells: twoShells, referenceMs: Date.parse(REFERENCE), seed: 7, missingFraction: 0.08, orbitRaising: 12, deorbiting: 6, stale: 4, ...options
  })
  const text = format === "tle" ? Catalog.toTle(catalog.elements) : format === "omm-json" ? Catalog.toOmmJson(catalog.elements) : Catalog.toOmmCsv(catalog.elements)
  const path = join(mkdtempSync(join(tmpdir(), "skymemory-catalog-")), format === "tle" ? "sats.tle" : format === "omm-json" ? "sats.json" : "sats.csv")
  writeFileSync(path, text)
  return { path, catalog, text }
}
