/**
 * The paper's four sweeps (KVC size, servers, chunk processing time, altitude) for its three placement
 * strategies on its simplified grid model, one row per (strategy, param, value).
 * `npx tsx experiments/paper-parity.ts --json`
 */
import { paperDefaults, runPaperSweeps, type SweepRow } from "../src/cache/paper-model.js"
import { parseCli, runMain } from "./lib/cli.js"
import { fmt, printResult } from "./lib/output.js"
import { openRunDirectory } from "./lib/results.js"

const spec = { name: "paper-parity", summary: "the SkyMemory paper's retrieval-time sweeps on its grid model", flags: {} }

const human = (rows: ReadonlyArray<SweepRow>, dir: string): string => {
  const lines = [`paper-parity: ${rows.length} rows (max / min / mean retrieval seconds); written to ${dir}`]
  for (const param of ["kvcBytes", "servers", "chunkProcessingSeconds", "altitudeMeters"] as const) {
    lines.push("", `sweep ${param}`, "  value            rotation max   hop max   hop_rotation max")
    const values = [...new Set(rows.filter((r) => r.param === param).map((r) => r.value))]
    for (const v of values) {
      const at = (s: string) => rows.find((r) => r.param === param && r.value === v && r.strategy === s)!.maxSeconds
      lines.push(`  ${String(v).padEnd(16)} ${fmt(at("rotation"), 6).padStart(12)} ${fmt(at("hop"), 6).padStart(9)} ${fmt(at("hop_rotation"), 6).padStart(18)}`)
    }
  }
  return lines.join("\n")
}

runMain(() => {
  const o = parseCli(spec)
  const rows = runPaperSweeps(paperDefaults)
  const dir = openRunDirectory("paper-parity", { seed: o.seed, model: paperDefaults })
  dir.writeJson("results.json", rows)
  dir.writeCsv("results.csv", rows as unknown as Array<Record<string, unknown>>)
  printResult(o.json, rows, () => human(rows, dir.path))
})
