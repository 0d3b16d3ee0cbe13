import { type ChildProcess, execFile } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { availableParallelism, tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { afterAll, describe, expect, it } from "vitest"
import { decodeMessage } from "../src/actors/protocol.js"
import { sweepBase } from "../src/cache/paper-model.js"
import { orbitalPeriodSeconds } from "../src/topology/index.js"

const run = promisify(execFile)
/** Every experiment started here; any still running when the file ends is killed (a test that timed out
 * waiting for one to fail, such as a server that started instead, must not leave it running). */
const started = new Set<ChildProcess>()
afterAll(() => {
  for (const child of started) child.kill("SIGKILL")
})
const tsx = (script: string, args: ReadonlyArray<string>) =>
  new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    const child = execFile(process.execPath, ["--import", "tsx", `experiments/${script}.ts`, ...args], { cwd: process.cwd(), timeout: 120_000 }, (err, stdout, stderr) => {
      started.delete(child)
      if (err) reject(Object.assign(err, { stdout, stderr }))
      else resolve({ stdout, stderr })
    })
    started.add(child)
  })

const fails = async (script: string, args: ReadonlyArray<string>) => {
  try {
    await tsx(script, args)
  } catch (e) {
    const err = e as { code: number; stderr: string; stdout: string }
    return { code: err.code, stderr: err.stderr, stdout: err.stdout }
  }
  throw new Error("expected a failure")
}

describe("experiment command lines", () => {
  it("topology --json prints the contract's fields", async () => {
    const { stdout } = await tsx("topology", ["--preset", "starlink-shell1", "--at", "60", "--ground", "48.85,2.35", "--json"])
    const r = JSON.parse(stdout)
    expect(r).toMatchObject({ satellites: 1584, planes: 72 })
    expect(r.periodSeconds).toBeCloseTo(5730, 0)
    expect(r.islsUp).toBeGreaterThan(3000)
    expect(r.islLengthKm.min).toBeLessThanOrEqual(r.islLengthKm.mean)
    expect(r.islLengthKm.mean).toBeLessThanOrEqual(r.islLengthKm.max)
    expect(r.ground.visible).toBeGreaterThan(0)
    expect(r.ground.oneWayMs).toBeGreaterThan(1.8)
  })

  it("topology --windows: polar passes take inter-plane ISLs down for about their time above the cut-off; in-plane ISLs stay up", async () => {
    const { stdout } = await tsx("topology", ["--preset", "starlink-phase1", "--windows", "6000", "--json"])
    const [intra, inter] = JSON.parse(stdout).linkWindows.kinds
    expect(intra).toMatchObject({ kind: "intra-plane", links: 4408, alwaysUp: 4408, outages: 0, upShare: 1 })
    expect(inter.kind).toBe("inter-plane")
    expect(inter.outages).toBeGreaterThan(100)
    // The 97.6-deg shells spend ~37 deg of each 360 above 70 deg of latitude near each pole: ~590 s a pass.
    expect(inter.medianOutageSeconds).toBeGreaterThan(450)
    expect(inter.medianOutageSeconds).toBeLessThan(750)
    expect(inter.upShare).toBeGreaterThan(0.9)
    expect(inter.upShare).toBeLessThan(1)
  })

  it("bad flags: one line naming the flag, exit code 2", async () => {
    for (const [args, flag] of [[["--preset", "nope"], "--preset"], [["--windows", "0"], "--windows"], [["--at", "abc"], "--at"], [["--ground", "95,0"], "--ground"], [["--frobnicate"], "--frobnicate"]] as const) {
      const r = await fails("topology", args)
      expect(r.code).toBe(2)
      expect(r.stderr.trim().split("\n").filter((l) => !l.startsWith("npm warn"))).toHaveLength(1)
      expect(r.stderr).toContain(flag)
      expect(r.stdout).toBe("")
    }
    // A value starting with "-" (a southern latitude) must follow "=": the line says how, and that way it is read.
    const south = await fails("topology", ["--ground", "-33.9,151.2"])
    expect([south.code, south.stderr.trim()]).toEqual([2, 'error: --ground: a value starting with "-" is written with "=": --ground=-33.9,151.2'])
    const sydney = JSON.parse((await tsx("topology", ["--ground=-33.9,151.2", "--json"])).stdout)
    expect(sydney.ground).toMatchObject({ latDeg: -33.9, lonDeg: 151.2 })
    // A ground station the constellation does not serve (Paris, serve's default, is outside the 19x5
    // patch): the store would hold nothing, so the server does not start.
    const uncovered = await fails("serve", ["--preset", "paper-19x5", "--port", "0"])
    expect([uncovered.code, uncovered.stdout]).toEqual([2, ""])
    expect(uncovered.stderr.trim()).toBe("error: --ground: no satellite is 25 deg or more above 48.85,2.35 at the start, so nothing stored from there could be reached; choose a site under the constellation")
  })

  it("flood --json: one row per rate, every request accounted for; bad rates and redundancy exit 2", async () => {
    const { stdout } = await tsx("flood", ["--requests", "60", "--rates", "1,10", "--json"])
    const rows = JSON.parse(stdout) as Array<Record<string, number>>
    expect(rows.map((r) => r.rate)).toEqual([1, 10])
    for (const r of rows) {
      expect(r.issued).toBe(60)
      expect(r.unaccounted).toBe(0)
      expect(r.served! + r.missed! + r.rejected!).toBe(60)
    }
    for (const [script, args, flag] of [["flood", ["--rates", "1,0"], "--rates"], ["chaos", ["--redundancy", "9"], "--redundancy"]] as const) {
      const r = await fails(script, args)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(flag)
    }
  })

  it("paper-parity --at and --inclination-deg move and tilt the physical model's shell, and its run records them", async () => {
    const root = mkdtempSync(join(tmpdir(), "skymemory-parity-"))
    const physical = async (...args: Array<string>) => {
      const { stdout } = await run(process.execPath, ["--import", "tsx", "experiments/paper-parity.ts", "--model", "physical", "--json", ...args], { env: { ...process.env, SKYMEMORY_RESULTS: root }, timeout: 120_000 })
      return (JSON.parse(stdout) as Array<{ param: string; value: number; maxSeconds: number }>).filter((r) => r.param === "servers").map((r) => r.maxSeconds)
    }
    // One orbit at the servers sweep's altitude (sweepBase's) brings the same geometry; 70 deg is another.
    const period = orbitalPeriodSeconds(sweepBase().altitudeMeters / 1000)
    const [now, orbit, tilted] = [await physical(), await physical("--at", String(period)), await physical("--inclination-deg", "70")]
    expect(orbit.map((t, i) => t / now[i]!)).toEqual(now.map(() => expect.closeTo(1, 9)))
    expect(tilted.map((t, i) => Math.abs(t / now[i]! - 1)).some((d) => d > 1e-4)).toBe(true)
    const configs = readdirSync(join(root, "paper-parity")).map((d) => JSON.parse(readFileSync(join(root, "paper-parity", d, "config.json"), "utf8")).physical)
    expect(configs).toEqual(expect.arrayContaining([{ inclinationDeg: 53, at: 0 }, { inclinationDeg: 53, at: period }, { inclinationDeg: 70, at: 0 }]))
  })

  it("scale --json prints the contract's fields", async () => {
    const { stdout, stderr } = await tsx("scale", ["--preset", "paper-19x5", "--sim-seconds", "5", "--workers", "2", "--json"])
    expect(stderr.includes("workers on")).toBe(2 > availableParallelism())
    const r = JSON.parse(stdout)
    for (const k of ["satellites", "workers", "simSeconds", "startSeconds", "wallSeconds", "events", "eventsPerSecond", "speedup", "rssMB", "bytesPerActor", "traceHash"]) {
      expect(r).toHaveProperty(k)
    }
    expect(r).toMatchObject({ satellites: 95, workers: 2, simSeconds: 5 })
    expect(r.events).toBeGreaterThan(95 * 4 * 4)
    expect(r.eventsPerSecond).toBeCloseTo(r.events / r.wallSeconds, 3)
    expect(r.speedup).toBeCloseTo(5 / r.wallSeconds, 3)
    expect(r.traceHash).toMatch(/^[0-9a-f]{16}$/)
    // More workers than cores: it runs, with a note that it will be slow.
    const crowded = await tsx("scale", ["--preset", "paper-19x5", "--sim-seconds", "1", "--workers", String(availableParallelism() + 1), "--json"])
    expect(crowded.stderr).toContain(`${availableParallelism() + 1} workers on ${availableParallelism()} cores`)
    expect(JSON.parse(crowded.stdout).workers).toBe(availableParallelism() + 1)
    const bad = await fails("scale", ["--workers", "0"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("--workers")
    // The message log: every delivered message, structured by the protocol table, and the same run.
    const file = join(mkdtempSync(join(tmpdir(), "skymemory-messages-")), "messages.jsonl")
    const logged = JSON.parse((await tsx("scale", ["--preset", "paper-19x5", "--sim-seconds", "5", "--workers", "2", "--messages", file, "--json"])).stdout)
    expect(logged.traceHash).toBe(r.traceHash)
    const lines = readFileSync(file, "utf8").trimEnd().split("\n")
    expect(lines).toHaveLength(r.events)
    const messages = lines.map((l) => decodeMessage(JSON.parse(l)))
    expect(new Set(messages.map((m) => m._tag))).toEqual(new Set(["Beacon", "CacheGet", "CacheGetReply", "CachePut", "CachePutAck"]))
    for (const m of messages) expect(m.time).toBeGreaterThanOrEqual(m.sentAt)
    // The ceiling measurement, on the worker pool: one window an epoch, what crossed delivered late.
    const ceiling = JSON.parse((await tsx("scale", ["--preset", "paper-19x5", "--sim-seconds", "5", "--workers", "2", "--unsynchronised", "--json"])).stdout)
    expect(ceiling.windows).toBe(5)
    expect(ceiling.unsynchronised.lateArrivals).toBeGreaterThan(0)
    expect(r.unsynchronised).toBeUndefined()
    const mixed = await fails("scale", ["--unsynchronised", "--coupling"])
    expect(mixed.code).toBe(2)
    expect(mixed.stderr).toContain("--unsynchronised: cannot be combined with --coupling")
  }, 60_000)
})

describe("ttft command line", () => {
  it("--json prints one row per (prefix, strategy) with the contract's fields; device profiles rescale compute only", async () => {
    const args = ["--model", "tiny", "--prefixes", "32,64", "--repeats", "1", "--generate", "4", "--strategy", "hop_rotation", "--json"]
    const env = { ...process.env, SKYMEMORY_RESULTS: mkdtempSync(join(tmpdir(), "skymemory-ttft-")) }
    const here = JSON.parse((await run(process.execPath, ["--import", "tsx", "experiments/ttft.ts", ...args], { timeout: 120_000, env })).stdout)
    expect(here).toHaveLength(2)
    for (const r of here) {
      expect(Object.keys(r)).toEqual(expect.arrayContaining(["model", "prefixTokens", "strategy", "coldMs", "warmMs", "fetchMs", "prefillMs", "maxAbsLogitDiff"]))
      expect(r.model).toBe("tiny")
      expect(r.cachedTokens).toBe(r.prefixTokens)
      expect(r.maxAbsLogitDiff).toBeLessThanOrEqual(1e-4)
      expect(r.warmMs).toBeCloseTo(r.fetchMs + r.prefillMs, 6)
    }
    const h100 = JSON.parse((await run(process.execPath, ["--import", "tsx", "experiments/ttft.ts", ...args, "--device", "h100-sxm"], { timeout: 120_000, env })).stdout)
    expect(h100.map((r: { device: string }) => r.device)).toEqual(["h100-sxm", "h100-sxm"])
    // The network is the same emulated network; only compute moves to the device.
    expect(h100.map((r: { fetchMs: number }) => r.fetchMs)).toEqual(here.map((r: { fetchMs: number }) => r.fetchMs))
  }, 120_000)
})

describe("chat command line", () => {
  it("piped turns: the second turn's prompt (the whole conversation) comes partly from orbit", async () => {
    const env = { ...process.env, SKYMEMORY_RESULTS: mkdtempSync(join(tmpdir(), "skymemory-chat-")) }
    const child = execFile(process.execPath, ["--import", "tsx", "experiments/chat.ts", "--json", "--max-new-tokens", "8"], { env, timeout: 120_000 })
    child.stdin!.end("Hello there\nAnd a second question\n")
    const out = await new Promise<string>((resolve, reject) => {
      let s = ""
      child.stdout!.on("data", (d) => (s += d))
      child.on("exit", (code) => (code === 0 ? resolve(s) : reject(new Error(`chat exited ${code}`))))
    })
    const turns = out.trim().split("\n").map((l) => JSON.parse(l))
    expect(turns).toHaveLength(2)
    expect(turns[0].cachedTokens).toBe(0)
    expect(turns[1].cachedTokens).toBeGreaterThanOrEqual(16)
    expect(turns[1].satellites.length).toBeGreaterThanOrEqual(9)
    expect(turns[1].ttftMs).toBeCloseTo(turns[1].fetchMs + turns[1].prefillMs, 6)
  }, 120_000)
})
