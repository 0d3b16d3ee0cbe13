/**
 * The paper's four sweeps (KVC size, servers, chunk processing time, altitude) for its three placement
 * strategies: on its simplified grid model (the contract's rows), and the same sweeps on the physical
 * model (a real Walker shell, routed ISL paths, a user under the centre), side by side.
 * `npx tsx experiments/paper-parity.ts --json` (paper rows) or `--model physical --json` (`--at S` and
 * `--inclination-deg D` move and tilt the physical model's shell; the grid model has neither).
 */
import { paperDefaults, runPaperSweeps, type SweepRow } from "../src/cache/paper-model.js"
import { physicalDefaults, type PhysicalOptions, runPhysicalSweeps } from "../src/cache/physical-parity.js"
import { flag, parseCli, runMain } from "./lib/cli.js"
import { fmt, printResult } from "./lib/output.js"
import { writeChart, type ChartSpec } from "./lib/plot.js"
import { writeIndex } from "./lib/report-index.js"
import { openRunDirectory } from "./lib/results.js"

const spec = {
  name: "paper-parity",
  summary: "the SkyMemory paper's retrieval-time sweeps: its grid model and the physical model",
  flags: {
    model: flag.choice("which rows --json prints", ["paper", "physical"] as const, "paper"),
    at: flag.number("physical model: the instant of its snapshot, s (the shell turns, and the Earth under it)", physicalDefaults.at, { min: 0, placeholder: "S" }),
    inclinationDeg: flag.number("physical model: its shell's inclination, deg", physicalDefaults.inclinationDeg, { min: 0, max: 180 })
  }
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

const UNITS: Record<string, string> = {
  kvcBytes: "KVC size (MiB)", servers: "servers S", chunkProcessingSeconds: "chunk processing (ms)", altitudeMeters: "altitude (km)"
}
const SCALE: Record<string, number> = { kvcBytes: 1 / 2 ** 20, servers: 1, chunkProcessingSeconds: 1000, altitudeMeters: 1 / 1000 }

/** One chart per sweep: max retrieval time by strategy, paper model solid, physical model dashed. */
const sweepChart = (param: string, paper: ReadonlyArray<SweepRow>, physical: ReadonlyArray<SweepRow>): ChartSpec => ({
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  title: `Max KVC retrieval time vs ${UNITS[param]}`,
  width: 420,
  height: 260,
  data: {
    values: [
      ...paper.filter((r) => r.param === param).map((r) => ({ ...r, model: "paper grid" })),
      ...physical.filter((r) => r.param === param && Number.isFinite(r.maxSeconds)).map((r) => ({ ...r, model: "physical" }))
    ].map((r) => ({ x: r.value * SCALE[param]!, seconds: r.maxSeconds, strategy: r.strategy, model: r.model }))
  },
  mark: { type: "line", point: true },
  encoding: {
    x: { field: "x", type: "quantitative", title: UNITS[param] },
    y: { field: "seconds", type: "quantitative", title: "max retrieval time (s)", scale: param === "servers" ? { type: "log" } : { zero: false } },
    color: { field: "strategy", type: "nominal" },
    strokeDash: { field: "model", type: "nominal" }
  }
})

runMain(async () => {
  const o = parseCli(spec)
  const paper = runPaperSweeps(paperDefaults)
  const physicalOptions: PhysicalOptions = { inclinationDeg: o.inclinationDeg, at: o.at }
  const physical = runPhysicalSweeps(paperDefaults, physicalOptions)
  const dir = openRunDirectory("paper-parity", { seed: o.seed, model: paperDefaults, physical: physicalOptions })
  const phys = new Map(physical.map((r) => [key(r), r]))
  const comparison = paper.map((r) => {
    const p = phys.get(key(r))!
    return { ...r, physicalMaxSeconds: p.maxSeconds, physicalOverPaper: p.maxSeconds / r.maxSeconds }
  })
  dir.writeJson("results.json", { paper, physical })
  dir.writeCsv("results.csv", paper as unknown as Array<Record<string, unknown>>)
  dir.writeCsv("physical.csv", physical as unknown as Array<Record<string, unknown>>)
  dir.writeCsv("comparison.csv", comparison)
  for (const param of ["kvcBytes", "servers", "chunkProcessingSeconds", "altitudeMeters"]) {
    await writeChart(dir.writeText, `sweep-${param}`, sweepChart(param, paper, physical))
  }
  const at = (strategy: string) => paper.find((r) => r.strategy === strategy && r.param === "kvcBytes" && r.value === 21 * 2 ** 20)
  dir.writeSummary({
    rows: paper.length,
    "rotation max s (21 MiB)": at("rotation")?.maxSeconds ?? null,
    "hop max s (21 MiB)": at("hop")?.maxSeconds ?? null,
    "hop_rotation max s (21 MiB)": at("hop_rotation")?.maxSeconds ?? null,
    "physical / paper, median": comparison.map((c) => c.physicalOverPaper).filter(Number.isFinite).sort((a, b) => a - b)[Math.floor(comparison.length / 2)] ?? null
  })
  writeIndex()
  printResult(o.json, o.model === "paper" ? paper : physical, () => human(paper, physical, dir.path))
})
