/**
 * What a second worker buys, and what a change costs: the standard workload (scale.ts) in interleaved
 * rounds, every run in a fresh process, each round running every mode once in a rotated order. The
 * figure is the median over rounds of each round's ratio (the first mode's wall time over this mode's),
 * not a ratio of medians: these VMs drift by up to 2x between minutes, and a round's runs share a minute.
 *
 * Modes: each `--workers` count, with `--unsynchronised` also each count above one run with no
 * synchronisation (scale.ts: a ceiling, not a valid run), and with `--against DIR` all of it again in
 * another checkout (a worktree of an older commit, node_modules linked), so a before/after claim is one
 * command on one machine. Synchronised runs of one checkout must print one trace hash; if they do not,
 * the rows are written and the exit code is 1. `--busy N` keeps N other processes spinning a core each
 * through every round: how the modes fare on a machine doing other work (more runnable threads than cores).
 * `npx tsx experiments/workers-bench.ts --preset starlink-shell1 --sim-seconds 600 --rounds 7 --unsynchronised`
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { CliError, flag, parseCli, runMain } from "./lib/cli.js"
import { presetFlag } from "./lib/constellation-flags.js"
import { fmt, printResult } from "./lib/output.js"
import { makeStepProgress } from "./lib/progress.js"
import { writeIndex } from "./lib/report-index.js"
import { openRunDirectory } from "./lib/results.js"
import { quantile } from "./lib/stats.js"
import type { ScaleResult } from "./scale.js"

const spec = {
  name: "workers-bench",
  summary: "2 workers against 1 (or one checkout against another) on the standard workload: interleaved rounds of scale.ts in fresh processes, per-round ratios",
  flags: {
    preset: presetFlag("starlink-shell1"),
    simSeconds: flag.number("virtual seconds each run simulates", 600, { min: 0.001, placeholder: "S" }),
    users: flag.number("ground users issuing cache requests (scale.ts --users; 0: beacons only)", 32, { min: 0, integer: true }),
    rounds: flag.number("rounds; each runs every mode once", 7, { min: 1, max: 1000, integer: true }),
    workers: flag.intList("worker counts; the first is the baseline", [1, 2], 64),
    unsynchronised: flag.boolean("also run each worker count above one with no synchronisation (a ceiling, not a valid run)"),
    against: flag.optionalString("another checkout (with node_modules) whose scale.ts runs the same modes, interleaved", "DIR"),
    busy: flag.number("processes kept spinning a core each beside every run (0: none): a machine doing other work", 0, { min: 0, max: 64, integer: true })
  }
}

export interface Mode {
  readonly label: string
  /** The checkout whose experiments/scale.ts runs: "." for this one. */
  readonly checkout: string
  readonly workers: number
  readonly unsynchronised: boolean
}

export type BenchRun = {
  readonly round: number
  readonly mode: string
  /** As the run reported them: what it simulated. */
  readonly satellites: number
  readonly users: number
  readonly wallSeconds: number
  readonly startSeconds: number
  readonly barrierWaitShare: number
  readonly windows: number
  readonly traceHash: string
  readonly lateArrivals: number
}

const range = (xs: ReadonlyArray<number>) => {
  const s = Float64Array.from(xs).sort()
  return { median: quantile(s, 0.5), min: s[0] ?? Number.NaN, max: s[s.length - 1] ?? Number.NaN }
}

export const modesOf = (workers: ReadonlyArray<number>, unsynchronised: boolean, against: string | undefined): Array<Mode> => {
  const checkouts = against === undefined ? ["."] : [".", against]
  return checkouts.flatMap((checkout) => {
    const where = against === undefined ? "" : checkout === "." ? " (this checkout)" : ` (${against})`
    return workers.flatMap((w) => [
      { label: `${w} worker${w === 1 ? "" : "s"}${where}`, checkout, workers: w, unsynchronised: false },
      ...(unsynchronised && w > 1 ? [{ label: `${w} workers, unsynchronised${where}`, checkout, workers: w, unsynchronised: true }] : [])
    ])
  })
}

/** Round r runs the modes starting at r mod their count, so no mode is always first or last. */
export const roundOrder = <A>(modes: ReadonlyArray<A>, round: number): Array<A> =>
  modes.map((_, k) => modes[(round + k) % modes.length]!)

/**
 * Per mode: wall time, and per-round ratios (median and range over the rounds where both ran): the first
 * mode's wall time over this mode's, and for this checkout's modes with --against, the other checkout's
 * same mode over this one (> 1: this checkout is faster). Trace hashes must agree within a checkout's
 * synchronised modes.
 */
export const summarise = (modes: ReadonlyArray<Mode>, runs: ReadonlyArray<BenchRun>) => {
  const baseline = modes[0]!.label
  const rounds = [...new Set(runs.map((r) => r.round))]
  const wallOf = (round: number, mode: string) => runs.find((r) => r.round === round && r.mode === mode)?.wallSeconds
  const ratios = (over: string, mode: string) => range(rounds.flatMap((k) => {
    const a = wallOf(k, over)
    const b = wallOf(k, mode)
    return a === undefined || b === undefined ? [] : [a / b]
  }))
  const rows = modes.map((m) => {
    const mine = runs.filter((r) => r.mode === m.label)
    const other = m.checkout === "." ? modes.find((n) => n.checkout !== "." && n.workers === m.workers && n.unsynchronised === m.unsynchronised) : undefined
    return {
      mode: m.label, checkout: m.checkout, workers: m.workers, unsynchronised: m.unsynchronised, runs: mine.length,
      wallSeconds: range(mine.map((r) => r.wallSeconds)),
      speedupOverBaseline: m.label === baseline ? null : ratios(baseline, m.label),
      speedupOverAgainst: other === undefined ? null : ratios(other.label, m.label),
      barrierWaitShare: range(mine.map((r) => r.barrierWaitShare)).median,
      windows: range(mine.map((r) => r.windows)).median,
      traceHashes: [...new Set(mine.map((r) => r.traceHash))],
      lateArrivals: range(mine.map((r) => r.lateArrivals)).median
    }
  })
  const disagreements = [...new Set(modes.map((m) => m.checkout))].flatMap((checkout) => {
    const hashes = new Set(rows.filter((r) => r.checkout === checkout && !r.unsynchronised).flatMap((r) => r.traceHashes))
    return hashes.size > 1 ? [`${checkout === "." ? "this checkout" : checkout}: synchronised runs printed ${[...hashes].join(", ")}`] : []
  })
  // Between checkouts a different trace is news, not an error: a change may be meant to alter results.
  // null: one checkout, or a checkout that disagrees with itself.
  const checkouts = new Set(modes.map((m) => m.checkout)).size
  const sameTraceAcrossCheckouts = checkouts < 2 || disagreements.length > 0
    ? null
    : new Set(rows.filter((r) => !r.unsynchronised).flatMap((r) => r.traceHashes)).size === 1
  return { baseline, rows, disagreements, sameTraceAcrossCheckouts }
}

const exec = promisify(execFile)

/**
 * A process that spins a core until it is killed, or its parent is gone (it checks every 0.2 s: a
 * benchmark killed hard leaves no busy loop behind).
 */
const BUSY_LOOP = "const parent = process.ppid; for (;;) { const t = Date.now(); while (Date.now() - t < 200); if (process.ppid !== parent) process.exit(0) }"
export const BUSY_MARK = "skymemory-workers-bench-busy"
const startBusy = (n: number): Array<ChildProcess> => Array.from({ length: n }, () => spawn(process.execPath, ["-e", BUSY_LOOP, BUSY_MARK], { stdio: "ignore" }))

/** This checkout: the folder above experiments/, wherever the benchmark is started from. */
const here = resolve(dirname(fileURLToPath(import.meta.url)), "..")

const runScale = async (mode: Mode, o: { preset: string; simSeconds: number; users: number; seed: number }, resultsDir: string): Promise<ScaleResult> => {
  const args = ["--import", "tsx", "experiments/scale.ts", "--preset", o.preset, "--sim-seconds", String(o.simSeconds), "--users", String(o.users), "--seed", String(o.seed),
    "--workers", String(mode.workers), ...(mode.unsynchronised ? ["--unsynchronised"] : []), "--json", "--quiet"]
  try {
    const { stdout } = await exec(process.execPath, args, { cwd: mode.checkout === "." ? here : mode.checkout, env: { ...process.env, SKYMEMORY_RESULTS: resultsDir }, maxBuffer: 1 << 24 })
    return JSON.parse(stdout) as ScaleResult
  } catch (e) {
    const err = e as { stderr?: string; message: string }
    throw new Error(`${mode.label}: scale.ts failed: ${(err.stderr ?? "").trim().split("\n").at(-1) || err.message}`)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runMain(async () => {
    const o = parseCli(spec)
    const against = o.against === undefined ? undefined : resolve(o.against)
    if (against !== undefined) {
      if (!existsSync(join(against, "experiments", "scale.ts"))) throw new CliError({ flag: "--against", message: `no experiments/scale.ts in ${against}` })
      if (!existsSync(join(against, "node_modules", "tsx"))) throw new CliError({ flag: "--against", message: `no node_modules/tsx in ${against} (link this checkout's: ln -s ${resolve("node_modules")} ${join(against, "node_modules")})` })
    }
    if (new Set(o.workers).size !== o.workers.length) throw new CliError({ flag: "--workers", message: `a count is repeated in ${o.workers.join(",")}` })
    if (o.unsynchronised && !o.workers.some((w) => w > 1)) throw new CliError({ flag: "--unsynchronised", message: "needs a worker count above 1 in --workers" })
    const modes = modesOf(o.workers, o.unsynchronised, against)
    const dir = openRunDirectory("workers-bench", { seed: o.seed, preset: o.preset, simSeconds: o.simSeconds, users: o.users, rounds: o.rounds, workers: o.workers, unsynchronised: o.unsynchronised, against: against ?? null, busy: o.busy })
    // The runs' own result directories are scratch: only this benchmark's rows are kept.
    const scratch = mkdtempSync(join(tmpdir(), "skymemory-workers-bench-"))
    const runs: Array<BenchRun> = []
    const progress = makeStepProgress("workers-bench", o.rounds * modes.length, o.quiet || o.json)
    const busy = startBusy(o.busy)
    try {
      for (let round = 0; round < o.rounds; round++) {
        for (const mode of roundOrder(modes, round)) {
          const r = await runScale(mode, o, scratch)
          runs.push({
            round, mode: mode.label, satellites: r.satellites, users: r.users, wallSeconds: r.wallSeconds, startSeconds: r.startSeconds, barrierWaitShare: r.barrierWaitShare,
            windows: r.windows, traceHash: r.traceHash, lateArrivals: r.unsynchronised?.lateArrivals ?? 0
          })
          // Rewritten (atomically) after every run: an interrupted benchmark keeps what it measured.
          dir.writeCsv("runs.csv", runs)
          progress.step(`round ${round + 1} ${mode.label}`)
        }
      }
    } finally {
      for (const b of busy) b.kill("SIGKILL")
      progress.stop()
      rmSync(scratch, { recursive: true, force: true })
    }
    const { baseline, rows, disagreements, sameTraceAcrossCheckouts } = summarise(modes, runs)
    const result = { preset: o.preset, simSeconds: o.simSeconds, users: o.users, seed: o.seed, rounds: o.rounds, busy: o.busy, baseline, modes: rows, disagreements, sameTraceAcrossCheckouts, runs }
    dir.writeJson("results.json", result)
    dir.writeSummary(Object.fromEntries([
      ["preset", o.preset], ["virtual s", o.simSeconds], ["users", o.users], ["rounds", o.rounds], ["busy processes", o.busy],
      // Speed ratios (> 1: faster), medians over rounds, named as the printed table names them.
      ...rows.flatMap((r) => r.speedupOverBaseline === null ? [] : [[`${r.mode} against ${baseline}, x`, r.speedupOverBaseline.median] as const]),
      ...rows.flatMap((r) => r.speedupOverAgainst === null ? [] : [[`this checkout against ${against}, ${r.mode.replace(" (this checkout)", "")}, x`, r.speedupOverAgainst.median] as const])
    ]))
    writeIndex()
    printResult(o.json, result, () => {
      const cells = rows.map((r) => ({
        wall: `${fmt(r.wallSeconds.median, 2)} (${fmt(r.wallSeconds.min, 2)}-${fmt(r.wallSeconds.max, 2)})`,
        ratio: r.speedupOverBaseline === null ? "-" : `${fmt(r.speedupOverBaseline.median, 2)}x (${fmt(r.speedupOverBaseline.min, 2)}-${fmt(r.speedupOverBaseline.max, 2)})`,
        waiting: r.workers > 1 && !r.unsynchronised ? `${fmt(100 * r.barrierWaitShare, 0)}%` : "-",
        trace: r.unsynchronised ? `not valid: ${r.lateArrivals} late` : r.traceHashes.join(" ")
      }))
      const head = { mode: "mode", wall: "wall s, median (range)", ratio: `against ${baseline}, per round`, waiting: "waiting", trace: "trace" }
      const width = (k: "wall" | "ratio") => Math.max(head[k].length, ...cells.map((c) => c[k].length))
      const line = (mode: string, c: typeof head) => `  ${mode.padEnd(Math.max(...rows.map((r) => r.mode.length)))}  ${c.wall.padEnd(width("wall"))}  ${c.ratio.padEnd(width("ratio"))}  ${c.waiting.padEnd(7)}  ${c.trace}`
      return [
        `workers-bench: ${o.preset}, ${o.simSeconds} virtual s, ${o.users} users, seed ${o.seed}, ${o.rounds} interleaved round${o.rounds === 1 ? "" : "s"}, a fresh process per run${o.busy > 0 ? `, ${o.busy} busy process${o.busy === 1 ? "" : "es"} beside` : ""}`,
        line("mode", head),
        ...rows.map((r, k) => line(r.mode, { ...cells[k]!, mode: r.mode })),
        ...rows.flatMap((r) => r.speedupOverAgainst === null ? [] : [
          `  this checkout against ${against}, ${r.mode.replace(" (this checkout)", "")}: ${fmt(r.speedupOverAgainst.median, 3)}x per round, median (${fmt(r.speedupOverAgainst.min, 3)}-${fmt(r.speedupOverAgainst.max, 3)})`
        ]),
        ...(sameTraceAcrossCheckouts === false ? ["  the two checkouts print different trace hashes: the change alters results"] : []),
        ...disagreements.map((d) => `  TRACE HASHES DIFFER, ${d}`),
        `written to ${dir.path}`
      ].join("\n")
    })
    if (disagreements.length > 0) process.exitCode = 1
  })
}
