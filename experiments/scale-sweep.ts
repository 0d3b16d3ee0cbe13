/**
 * The performance table: the standard workload over constellation sizes and worker counts, each the
 * median of several runs (run-to-run noise on a shared 2-core machine is a few percent).
 * `npx tsx experiments/scale-sweep.ts [--repeats 3] [--json]`
 */
import os from "node:os"
import { makeRunConfig, type RunReport, runOnWorkers } from "../src/actors/index.js"
import { flag, parseCli, runMain } from "./lib/cli.js"
import { fmt, printResult } from "./lib/output.js"
import { bytesPerSatellite } from "./scale.js"
import { quantile } from "./lib/stats.js"
import { type ChartSpec, writeChart } from "./lib/plot.js"
import { makeStepProgress } from "./lib/progress.js"
import { writeIndex } from "./lib/report-index.js"
import { openRunDirectory } from "./lib/results.js"

const spec = {
  name: "scale-sweep",
  summary: "speed and memory of the standard workload by constellation size and worker count (medians)",
  flags: {
    repeats: flag.number("runs per cell (the median is reported)", 3, { min: 1, integer: true }),
    workers: flag.intList("worker counts", [1, 2])
  }
}

const CASES = [
  { preset: "paper-19x5", simSeconds: 600 },
  { preset: "starlink-shell1", simSeconds: 120 },
  { preset: "starlink-phase1", simSeconds: 30 },
  { preset: "mega-10k", simSeconds: 30 }
] as const

runMain(async () => {
  const o = parseCli(spec)
  const workerCounts = o.workers
  const dir = openRunDirectory("scale-sweep", { seed: o.seed, repeats: o.repeats, workers: workerCounts, cases: CASES })
  const rows: Array<Record<string, number | string>> = []
  const progress = makeStepProgress("scale-sweep", CASES.length * workerCounts.length * o.repeats, o.quiet || o.json)
  for (const c of CASES) {
    const config = makeRunConfig({ preset: c.preset, simSeconds: c.simSeconds, seed: o.seed })
    const perActor = bytesPerSatellite(config)
    for (const w of workerCounts) {
      const runs: Array<RunReport> = []
      for (let k = 0; k < o.repeats; k++) {
        runs.push(await runOnWorkers(config, { workers: w }))
        progress.step(`${c.preset} x${w} run ${k + 1}`)
      }
      const med = (f: (r: RunReport) => number) => quantile(Float64Array.from(runs.map(f)).sort(), 0.5)
      rows.push({
        preset: c.preset, satellites: runs[0]!.satellites, workers: w, simSeconds: c.simSeconds,
        wallSeconds: med((r) => r.wallSeconds), eventsPerSecond: med((r) => r.eventsPerSecond), speedup: med((r) => r.speedup),
        startSeconds: med((r) => r.startSeconds), rssMB: med((r) => r.rssMB), bytesPerActor: perActor, barrierWaitShare: med((r) => r.barrierWaitShare),
        traceHash: runs[0]!.traceHash, sameHash: runs.every((r) => r.traceHash === runs[0]!.traceHash) ? "yes" : "NO"
      })
    }
  }
  progress.stop()
  const machine = { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, node: process.version }
  dir.writeJson("results.json", { machine, repeats: o.repeats, rows })
  dir.writeCsv("results.csv", rows)
  const chart = (field: string, title: string): ChartSpec => ({
    $schema: "https://vega.github.io/schema/vega-lite/v5.json", title, width: 420, height: 280, data: { values: rows },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "satellites", type: "quantitative", scale: { type: "log" }, title: "satellites" },
      y: { field, type: "quantitative", scale: { type: "log" }, title },
      color: { field: "workers", type: "nominal", title: "workers" }
    }
  })
  await writeChart(dir.writeText, "events-per-second", chart("eventsPerSecond", "delivered messages per wall second"))
  await writeChart(dir.writeText, "speedup", chart("speedup", "speedup over real time"))
  dir.writeSummary({ machine: `${machine.cpu} (${machine.cores} cores)`, ...Object.fromEntries(rows.map((r) => [`${r.preset} x${r.workers} speedup`, r.speedup as number])) })
  writeIndex()
  printResult(o.json, { machine, repeats: o.repeats, rows }, () =>
    [
      `scale-sweep on ${machine.cpu} (${machine.cores} cores), Node ${machine.node}; median of ${o.repeats} runs`,
      "| preset | satellites | workers | virtual s | wall s | delivered msg/s | speedup | RSS MB | bytes/satellite | barrier wait |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...rows.map((r) => `| ${r.preset} | ${r.satellites} | ${r.workers} | ${r.simSeconds} | ${fmt(r.wallSeconds as number, 3)} | ${fmt(r.eventsPerSecond as number, 0)} | ${fmt(r.speedup as number, 1)}x | ${fmt(r.rssMB as number, 0)} | ${fmt(r.bytesPerActor as number, 0)} | ${fmt(100 * (r.barrierWaitShare as number), 0)}% |`)
    ].join("\n"))
})
