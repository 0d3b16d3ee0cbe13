/**
 * The live view's frame time in a real browser: the server (live.ts) on each constellation, the page in
 * headless Chromium (Debian's, playwright-core), the interval between animation frames
 * (requestAnimationFrame) over a measured stretch after a warm-up; median and tails, and the frames the
 * server sent. `npx tsx experiments/live-bench.ts [--seconds 10] [--screenshot docs/figures/live-view.png]`
 */
import os from "node:os"
import { chromium } from "playwright-core"
import { flag, parseCli, runMain } from "./lib/cli.js"
import { startExperimentServer } from "./lib/spawn-server.js"
import { fmt, printResult } from "./lib/output.js"
import { makeStepProgress } from "./lib/progress.js"
import { writeIndex } from "./lib/report-index.js"
import { openRunDirectory } from "./lib/results.js"
import { summarizeSamples } from "./lib/stats.js"

const spec = {
  name: "live-bench",
  summary: "frame time of the live view in headless Chromium, per constellation",
  flags: {
    presets: flag.string("constellations, comma-separated", "starlink-shell1,starlink-phase1", "NAME,..."),
    seconds: flag.number("measured seconds per constellation (after 3 s of warm-up)", 10, { min: 1 }),
    speed: flag.number("virtual seconds per wall second", 10, { min: 0.01 }),
    fps: flag.number("frames per second the page asks the server for", 15, { min: 1, max: 60, integer: true }),
    screenshot: flag.optionalString("save a screenshot of the first constellation's view here", "FILE"),
    chromium: flag.string("the browser", "/usr/bin/chromium", "PATH")
  }
}

runMain(async () => {
  const o = parseCli(spec)
  const presets = o.presets.split(",").map((p) => p.trim())
  const progress = makeStepProgress("live-bench", presets.length, o.quiet || o.json)
  const browser = await chromium.launch({ executablePath: o.chromium, args: ["--no-sandbox"] })
  const rows: Array<{ preset: string; satellites: number; animationFrames: number; frameMsP50: number; frameMsP90: number; frameMsMax: number; serverFramesPerSecond: number }> = []
  try {
    for (const [k, preset] of presets.entries()) {
      const { child, url } = await startExperimentServer("live", ["--preset", preset, "--speed", String(o.speed), "--seed", String(o.seed)])
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
        await page.goto(url)
        await page.waitForFunction(() => (globalThis as any).skyView.frames > 3, null, { timeout: 60_000 })
        await page.evaluate((fps) => (globalThis as any).skyView.setRate(fps), o.fps)
        await page.waitForTimeout(3000)
        const before = await page.evaluate(() => ({ n: (globalThis as any).skyView.frameTimes.length, frames: (globalThis as any).skyView.frames }))
        await page.waitForTimeout(o.seconds * 1000)
        const after = await page.evaluate((n) => ({ times: (globalThis as any).skyView.frameTimes.slice(n) as Array<number>, frames: (globalThis as any).skyView.frames, drawn: (globalThis as any).skyView.drawn }), before.n)
        if (k === 0 && o.screenshot) await page.screenshot({ path: o.screenshot })
        await page.close()
        const s = summarizeSamples(after.times)
        rows.push({
          preset, satellites: after.drawn, animationFrames: after.times.length, frameMsP50: s.median, frameMsP90: s.p90,
          frameMsMax: Math.max(...after.times), serverFramesPerSecond: (after.frames - before.frames) / o.seconds
        })
      } finally {
        child.kill("SIGTERM")
      }
      progress.step(preset)
    }
  } finally {
    await browser.close()
  }
  progress.stop()
  const machine = { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, node: process.version }
  const dir = openRunDirectory("live-bench", { seed: o.seed, presets, seconds: o.seconds, speed: o.speed, fps: o.fps })
  dir.writeJson("results.json", { machine, rows })
  dir.writeSummary(Object.fromEntries(rows.map((r) => [`${r.preset} frame ms p50`, r.frameMsP50])))
  writeIndex()
  printResult(o.json, { machine, rows }, () => [
    `live-bench on ${machine.cpu} (${machine.cores} cores), headless Chromium, ${o.seconds} s measured, speed ${o.speed}x, ${o.fps} frames/s from the server`,
    "preset            satellites  animation frames  frame ms p50 / p90 / max   server frames/s",
    ...rows.map((r) => `${r.preset.padEnd(17)} ${String(r.satellites).padStart(10)} ${String(r.animationFrames).padStart(17)}  ${`${fmt(r.frameMsP50, 1)} / ${fmt(r.frameMsP90, 1)} / ${fmt(r.frameMsMax, 1)}`.padStart(25)} ${fmt(r.serverFramesPerSecond, 1).padStart(17)}`),
    `written to ${dir.path}`
  ].join("\n"))
})
