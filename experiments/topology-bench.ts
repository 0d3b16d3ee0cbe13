/**
 * Topology speed on one core: a full update (positions + link states + link delays) and one
 * source-to-all shortest-path pass, for 1,584 / 4,408 / 10,000 satellites; medians of many runs.
 * `npx tsx experiments/topology-bench.ts [--runs 200] [--json]`
 */
import os from "node:os"
import { Constellation, makeSnapshot, preset } from "../src/topology/index.js"
import { flag, parseCli, runMain } from "./lib/cli.js"
import { fmt, printResult } from "./lib/output.js"
import { makeStepProgress } from "./lib/progress.js"
import { writeIndex } from "./lib/report-index.js"
import { openRunDirectory } from "./lib/results.js"
import { timeMicros } from "./lib/stats.js"

const spec = {
  name: "topology-bench",
  summary: "microseconds per topology update and per routing pass, by constellation size",
  flags: { runs: flag.number("timed runs per measurement", 200, { min: 5, integer: true }) }
}

const CASES = ["starlink-shell1", "starlink-phase1", "mega-10k"] as const

runMain(() => {
  const o = parseCli(spec)
  const progress = makeStepProgress("topology-bench", CASES.length, o.quiet || o.json)
  const rows = CASES.map((name) => {
    const c = Constellation.make(preset(name))
    const snap = makeSnapshot(c).update(0)
    // Advance time every run so nothing is cached between updates: 0.1 s apart.
    const update = timeMicros((k) => snap.update(0.1 * k), o.runs)
    snap.update(0)
    const route = timeMicros((k) => snap.routeFrom((k * 7919) % c.size), o.runs)
    progress.step(name)
    return {
      preset: name, satellites: c.size, links: snap.graph.linkCount,
      updateMicros: update.median, updateP90Micros: update.p90,
      routeMicros: route.median, routeP90Micros: route.p90, runs: o.runs
    }
  })
  progress.stop()
  const machine = { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, node: process.version }
  const dir = openRunDirectory("topology-bench", { seed: o.seed, runs: o.runs, cases: CASES })
  dir.writeJson("results.json", { machine, rows })
  dir.writeCsv("results.csv", rows)
  dir.writeSummary({ machine: `${machine.cpu} (${machine.cores} cores)`, ...Object.fromEntries(rows.flatMap((r) => [[`${r.preset} update us`, r.updateMicros], [`${r.preset} route us`, r.routeMicros]])) })
  writeIndex()
  printResult(o.json, { machine, rows }, () =>
    [
      `topology-bench on ${machine.cpu} (${machine.cores} cores), Node ${machine.node}, median of ${o.runs} runs, one core`,
      "preset            satellites  links   update us (p90)     route us (p90)",
      ...rows.map((r) => `${r.preset.padEnd(17)} ${String(r.satellites).padStart(10)} ${String(r.links).padStart(6)}   ${fmt(r.updateMicros, 0).padStart(8)} (${fmt(r.updateP90Micros, 0)})   ${fmt(r.routeMicros, 0).padStart(8)} (${fmt(r.routeP90Micros, 0)})`)
    ].join("\n"))
})
