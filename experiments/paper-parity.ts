/**
 * The paper's four sweeps (KVC size, servers, chunk processing time, altitude) for its three placement
 * strategies: on its simplified grid model (the contract's rows), and the same sweeps on the physical
 * model (a real Walker shell, routed ISL paths, a user under the centre), side by side.
 * `npx tsx experiments/paper-parity.ts --json` (paper rows) or `--model physical --json`.
 */
import { paperDefaults, runPaperSweeps, type SweepRow } from "../src/cache/paper-model.js"
import { runPhysicalSweeps } from "../src/cache/physical-parity.js"
import { flag, parseCli, runMain } from "./lib/cli.js"
import { fmt, printResult } from "./lib/output.js"
import { openRunDirectory } from "./lib/results.js"

const spec = {
  name: "paper-parity",
  summary: "the SkyMemory paper's retrieval-time sweeps: its grid model and the physical model",
  flags: { model: flag.choice("which rows --json prints", ["paper", "physical"] as const, "paper") }
}

const key = (r: SweepRow) => `${r.strategy}|${r.param}|${r.value}`

const human = (paper: ReadonlyArray<SweepRow>, physical: ReadonlyArray<SweepRow>, dir: string): string => {
  const phys = new Map(physical.map((r) => [key(r), r]))
  const lines = [`paper-parity: ${paper.length} rows per model (max retrieval seconds: paper grid model / physical model); written to ${dir}`]
  for (const param of ["kvcBytes", "servers", "chunkProcessingSeconds", "altitudeMeters"] as const) {
    lines.push("", `sweep ${param}`, `  ${"value".padEnd(12)} ${"rotation".padStart(19)} ${"hop".padStart(19)} ${"hop_rotation".padStart(19)}`)
    for (const v of [...new Set(paper.filter((r) => r.param === param).map((r) => r.value))]) {
      const cell = (s: string) => {
        const r = paper.find((x) => x.param === param && x.value === v && x.strategy === s)!
        return `${fmt(r.maxSeconds, 4)} / ${fmt(phys.get(key(r))!.maxSeconds, 4)}`.padStart(19)
      }
      lines.push(`  ${String(v).padEnd(12)} ${cell("rotation")} ${cell("hop")} ${cell("hop_rotation")}`)
    }
  }
  return lines.join("\n")
}

runMain(() => {
  const o = parseCli(spec)
  const paper = runPaperSweeps(paperDefaults)
  const physical = runPhysicalSweeps(paperDefaults)
  const dir = openRunDirectory("paper-parity", { seed: o.seed, model: paperDefaults, physical: { inclinationDeg: 53, at: 0 } })
  const phys = new Map(physical.map((r) => [key(r), r]))
  const comparison = paper.map((r) => {
    const p = phys.get(key(r))!
    return { ...r, physicalMaxSeconds: p.maxSeconds, physicalOverPaper: p.maxSeconds / r.maxSeconds }
  })
  dir.writeJson("results.json", { paper, physical })
  dir.writeCsv("results.csv", paper as unknown as Array<Record<string, unknown>>)
  dir.writeCsv("physical.csv", physical as unknown as Array<Record<string, unknown>>)
  dir.writeCsv("comparison.csv", comparison)
  printResult(o.json, o.model === "paper" ? paper : physical, () => human(paper, physical, dir.path))
})
