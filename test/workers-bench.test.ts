import { execFile } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { type BenchRun, BUSY_MARK, modesOf, roundOrder, summarise } from "../experiments/workers-bench.js"

const run = promisify(execFile)
const bench = (args: ReadonlyArray<string>) =>
  run(process.execPath, ["--import", "tsx", "experiments/workers-bench.ts", ...args], {
    timeout: 120_000, env: { ...process.env, SKYMEMORY_RESULTS: mkdtempSync(join(tmpdir(), "skymemory-workers-bench-test-")) }
  })

/** Processes still running a workers-bench busy loop (their command line carries BUSY_MARK). */
const busyLoops = () => readdirSync("/proc").filter((d) => /^\d+$/.test(d)).filter((pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").includes(BUSY_MARK)
  } catch {
    return false
  }
})

const runOf = (round: number, mode: string, wallSeconds: number, traceHash = "h"): BenchRun =>
  ({ round, mode, satellites: 95, users: 32, wallSeconds, startSeconds: 1, barrierWaitShare: 0, windows: 10, traceHash, lateArrivals: 0 })

describe("workers-bench: interleaved rounds", () => {
  it("every mode takes every place in the order once over as many rounds", () => {
    const modes = ["a", "b", "c"]
    const orders = [0, 1, 2].map((r) => roundOrder(modes, r))
    for (let place = 0; place < 3; place++) expect(new Set(orders.map((o) => o[place])).size).toBe(3)
    for (const o of orders) expect([...o].sort()).toEqual(modes)
  })

  it("the figure is the median of each round's ratio, not the ratio of the medians", () => {
    const modes = modesOf([1, 2], false, undefined)
    expect(modes.map((m) => m.label)).toEqual(["1 worker", "2 workers"])
    // A slow round slows both runs in it: per round the second worker buys 2x, 2x and 1.5x.
    const runs = [runOf(0, "1 worker", 4), runOf(0, "2 workers", 2), runOf(1, "1 worker", 2), runOf(1, "2 workers", 1), runOf(2, "1 worker", 3), runOf(2, "2 workers", 2)]
    const { rows, disagreements } = summarise(modes, runs)
    expect(rows[0]!.speedupOverBaseline).toBeNull()
    expect(rows[1]!.speedupOverBaseline).toEqual({ median: 2, min: 1.5, max: 2 })
    // The medians' ratio would say 3 / 2 = 1.5x.
    expect(rows[0]!.wallSeconds.median / rows[1]!.wallSeconds.median).toBe(1.5)
    expect(disagreements).toEqual([])
  })

  it("a trace that differs between worker counts is reported; between checkouts, or unsynchronised, it is not an error", () => {
    const modes = modesOf([1, 2], true, "/old")
    expect(modes.map((m) => m.label)).toEqual([
      "1 worker (this checkout)", "2 workers (this checkout)", "2 workers, unsynchronised (this checkout)",
      "1 worker (/old)", "2 workers (/old)", "2 workers, unsynchronised (/old)"
    ])
    const hashes = ["a", "a", "late", "b", "b", "late2"]
    const ok = summarise(modes, modes.map((m, k) => runOf(0, m.label, 1 + k, hashes[k])))
    expect(ok.disagreements).toEqual([])
    // The old checkout printed another trace: reported, not an error.
    expect(ok.sameTraceAcrossCheckouts).toBe(false)
    expect(summarise(modes, modes.map((m) => runOf(0, m.label, 1, m.unsynchronised ? "late" : "a"))).sameTraceAcrossCheckouts).toBe(true)
    // This checkout's 2 workers against the old one's: 5 s there, 2 s here.
    expect(ok.rows[1]!.speedupOverAgainst?.median).toBe(2.5)
    expect(ok.rows[4]!.speedupOverAgainst).toBeNull()
    const broken = summarise(modes, modes.map((m, k) => runOf(0, m.label, 1, k === 1 ? "c" : hashes[k])))
    expect(broken.disagreements).toHaveLength(1)
    expect(broken.disagreements[0]).toContain("this checkout")
    expect(broken.sameTraceAcrossCheckouts).toBeNull()
  })

  it("runs scale.ts in fresh processes against a checkout, with one trace everywhere; bad flags exit 2", async () => {
    const r = JSON.parse((await bench(["--preset", "paper-19x5", "--sim-seconds", "5", "--users", "4", "--rounds", "2", "--against", ".", "--busy", "1", "--json"])).stdout)
    // The busy process ran beside the rounds and is gone with them.
    expect(r.busy).toBe(1)
    expect(busyLoops()).toEqual([])
    // Every mode once a round, in a rotated order, each run simulating what was asked.
    expect(r.runs.map((x: BenchRun) => `${x.round} ${x.mode}`)).toHaveLength(8)
    expect(r.runs.slice(4).map((x: BenchRun) => x.mode)).toEqual([...r.runs.slice(1, 4), r.runs[0]].map((x: BenchRun) => x.mode))
    for (const x of r.runs) expect([x.satellites, x.users]).toEqual([95, 4])
    expect(r.modes.map((m: { mode: string }) => m.mode)).toEqual(["1 worker (this checkout)", "2 workers (this checkout)", "1 worker (.)", "2 workers (.)"].map((l) => l.replace("(.)", `(${process.cwd()})`)))
    for (const m of r.modes) {
      expect(m.runs).toBe(2)
      expect(m.wallSeconds.min).toBeGreaterThan(0)
      expect(m.traceHashes).toHaveLength(1)
    }
    expect(r.sameTraceAcrossCheckouts).toBe(true)
    expect(r.disagreements).toEqual([])
    expect(r.modes[1].speedupOverAgainst.median).toBeGreaterThan(0)
    for (const [args, flag] of [[["--against", "/nonexistent"], "--against"], [["--workers", "2,2"], "--workers"], [["--workers", "1", "--unsynchronised"], "--unsynchronised"]] as const) {
      const e = await bench(args).then(() => undefined, (err: { code: number; stderr: string }) => err)
      expect(e?.code).toBe(2)
      expect(e?.stderr).toContain(flag)
    }
  }, 120_000)
})
