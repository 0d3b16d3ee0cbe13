/**
 * A synthetic satellite catalog with a known answer: a preset's Walker shells written as the public
 * catalogs publish them (three-line TLE, OMM JSON or OMM CSV), with empty slots, satellites raising their
 * orbit or coming down, stale element sets, epochs spread over a day and a half, and scatter in every
 * element (src/topology/catalog/synthetic.ts). For demos and benchmarks of --tle where no real catalog is
 * at hand (this machine has no internet); the tests generate their own.
 * `npx tsx experiments/catalog.ts --like starlink-phase1 --missing 0.05 --out /tmp/starlink.tle`
 */
import { writeFileSync } from "node:fs"
import { Catalog, preset, presetNames } from "../src/topology/index.js"
import { flag, parseCli, runMain } from "./lib/cli.js"
import { describeCatalog } from "./lib/constellation-flags.js"
import { printResult } from "./lib/output.js"

export const catalogSpec = {
  name: "catalog",
  summary: "write a synthetic TLE / OMM catalog with a known answer, then read it back as --tle would",
  flags: {
    out: flag.string("the catalog file to write", "results/synthetic.tle", "FILE"),
    like: flag.choice("the Walker shells to write out", presetNames, "starlink-phase1"),
    format: flag.choice("file format", ["tle", "omm-json", "omm-csv"] as const, "tle"),
    missing: flag.number("fraction of slots left empty", 0.05, { min: 0, max: 0.9 }),
    orbitRaising: flag.number("satellites still raising their orbit", 40, { min: 0, integer: true }),
    deorbiting: flag.number("satellites coming down", 15, { min: 0, integer: true }),
    stale: flag.number("satellites whose element set is ten days old", 10, { min: 0, integer: true }),
    reference: flag.string("the instant the operational satellites are in their Walker slots (ISO 8601)", "2026-11-30T00:00:00Z", "ISO")
  }
}

runMain(() => {
  const o = parseCli(catalogSpec)
  const referenceMs = Date.parse(o.reference)
  if (!Number.isFinite(referenceMs)) throw new Error(`--reference: expected an ISO 8601 instant, got "${o.reference}"`)
  const syn = Catalog.syntheticCatalog({
    shells: preset(o.like), referenceMs, seed: o.seed, missingFraction: o.missing, orbitRaising: o.orbitRaising, deorbiting: o.deorbiting, stale: o.stale
  })
  const text = o.format === "tle" ? Catalog.toTle(syn.elements) : o.format === "omm-json" ? Catalog.toOmmJson(syn.elements) : Catalog.toOmmCsv(syn.elements)
  writeFileSync(o.out, text)
  const { summary } = Catalog.readCatalog(o.out, { at: new Date(referenceMs).toISOString() })
  const truth = { operational: syn.truth.filter((t) => t.kind === "operational").length, records: syn.truth.length }
  printResult(o.json, { file: o.out, truth, inferred: summary }, () => `wrote ${o.out}: ${truth.records} records, ${truth.operational} in their slots\nread back:\n${describeCatalog(summary)}`)
})
