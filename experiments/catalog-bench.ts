/**
 * How fast a catalog becomes a constellation: read and check every record, infer shells, planes and
 * slots, build the +Grid and the first link state; medians of several runs, on a catalog this writes
 * (experiments/catalog.ts's synthetic Starlink phase 1: ~4,200 satellites in four shells, 5% of slots
 * empty, ~65 satellites out of their shell) or on --tle FILE.
 * `npx tsx experiments/catalog-bench.ts [--tle FILE] [--runs 5] [--json]`
 * The run-time figure (how fast a run on it goes) is scale.ts's: `scale.ts --tle FILE --workers 1`.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import os from "node:os"
import { join } from "node:path"
import { Catalog, makeSnapshot, preset } from "../src/topology/index.js"
import { flag, parseCli, runMain } from "./lib/cli.js"
import { fmt, printResult } from "./lib/output.js"
import { makeStepProgress } from "./lib/progress.js"
import { writeIndex } from "./lib/report-index.js"
import { openRunDirectory } from "./lib/results.js"
import { summarizeSamples } from "./lib/stats.js"

const spec = {
  name: "catalog-bench",
  summary: "seconds to read, infer and link a catalog (medians of several runs)",
  flags: {
    tle: flag.optionalString("the catalog to time (default: a synthetic Starlink phase 1 written for the run)", "FILE"),
    runs: flag.number("timed runs", 5, { min: 1, integer: true })
  }
}

runMain(() => {
  const o = parseCli(spec)
  let file = o.tle
  if (file === undefined) {
    const syn = Catalog.syntheticCatalog({
      shells: preset("starlink-phase1"), referenceMs: Date.parse("2026-11-30T00:00:00Z"), seed: o.seed, missingFraction: 0.05, orbitRaising: 40, deorbiting: 15, stale: 10
    })
    file = join(mkdtempSync(join(os.tmpdir(), "skymemory-catalog-bench-")), "starlink-phase1.tle")
    writeFileSync(file, Catalog.toTle(syn.elements))
  }
  const progress = makeStepProgress("catalog-bench", o.runs, o.quiet || o.json)
  const samples: Array<{ readMs: number; linkMs: number; totalMs: number }> = []
  let last: Catalog.Catalog | undefined
  let links = 0
  for (let k = 0; k < o.runs; k++) {
    const t0 = performance.now()
    last = Catalog.readCatalog(file)
    const t1 = performance.now()
    const snap = makeSnapshot(last.constellation).update(0)
    const t2 = performance.now()
    links = snap.graph.linkCount
    samples.push({ readMs: t1 - t0, linkMs: t2 - t1, totalMs: t2 - t0 })
    progress.step(`run ${k + 1}`)
  }
  progress.stop()
  const machine = { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, node: process.version }
  const result = {
    machine, file, runs: o.runs, records: last!.summary.records, satellites: last!.constellation.size, shells: last!.summary.shells.length, links,
    readInferMs: summarizeSamples(samples.map((s) => s.readMs)).median, linkMs: summarizeSamples(samples.map((s) => s.linkMs)).median,
    totalMs: summarizeSamples(samples.map((s) => s.totalMs)).median, samples
  }
  const dir = openRunDirectory("catalog-bench", { seed: o.seed, runs: o.runs, file })
  dir.writeJson("results.json", result)
  dir.writeSummary({ machine: `${machine.cpu} (${machine.cores} cores)`, satellites: result.satellites, "read + infer ms": result.readInferMs, "link ms": result.linkMs, "total ms": result.totalMs })
  writeIndex()
  printResult(o.json, result, () => [
    `catalog-bench on ${machine.cpu} (${machine.cores} cores), Node ${machine.node}: ${file}`,
    `  ${result.records} records -> ${result.satellites} satellites in ${result.shells} shells, ${links} links`,
    `  read + check + infer  ${fmt(result.readInferMs, 0)} ms   +Grid and first link state  ${fmt(result.linkMs, 0)} ms   total ${fmt(result.totalMs, 0)} ms (median of ${o.runs})`,
    `written to ${dir.path}`
  ].join("\n"))
})
