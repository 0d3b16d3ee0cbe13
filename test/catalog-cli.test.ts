/**
 * --tle from the outside: topology's JSON contract on a catalog, one-line errors with exit 2, and the
 * same catalog run by scale (same trace on 1 and 2 workers) and replay.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { REFERENCE, writeCatalog } from "./support/catalog-file.js"
import { writeTrace } from "./support/trace-file.js"

const exec = promisify(execFile)
const env = { ...process.env, SKYMEMORY_RESULTS: mkdtempSync(join(tmpdir(), "skymemory-catalog-cli-")) }
const run = (script: string, args: ReadonlyArray<string>) =>
  exec(process.execPath, ["--import", "tsx", `experiments/${script}.ts`, ...args], { env, timeout: 180_000 })
const failure = async (script: string, args: ReadonlyArray<string>) => {
  try {
    await run(script, args)
  } catch (e) {
    const err = e as { code: number; stderr: string }
    return { code: err.code, lines: err.stderr.trim().split("\n") }
  }
  throw new Error(`${script} ${args.join(" ")} succeeded`)
}

describe("--tle on the command line", () => {
  const { path, catalog } = writeCatalog("omm-json")

  it("topology prints the contract's object for a catalog", async () => {
    const s = JSON.parse((await run("topology", ["--tle", path, "--at", REFERENCE, "--ground", "48.85,2.35", "--json"])).stdout)
    const operational = catalog.truth.filter((t) => t.kind === "operational").length
    expect(s.satellites).toBe(operational)
    expect(s.planes).toBe(22)
    expect(s.shells.map((x: { altitudeKm: number; inclinationDeg: number; planes: number }) => [Math.round(x.altitudeKm), Math.round(x.inclinationDeg * 10) / 10, x.planes])).toEqual([[550, 53, 12], [540, 53.2, 10]])
    expect(s.shells.reduce((n: number, x: { satellites: number }) => n + x.satellites, 0)).toBe(operational)
    expect(s.catalog).toMatchObject({ records: catalog.elements.length, operational, excluded: { "stale-epoch": 4, "orbit-raising": 12, "deorbiting": 6 } })
    expect(s.islsUp).toBeGreaterThan(operational)
    expect(s.islLengthKm.min).toBeGreaterThan(0)
    expect(s.islLengthKm.min).toBeLessThanOrEqual(s.islLengthKm.mean)
    expect(s.islLengthKm.max).toBeLessThanOrEqual(5000)
    expect(Object.keys(s.ground)).toEqual(expect.arrayContaining(["visible", "serving", "elevationDeg", "oneWayMs"]))
  })

  it("a missing or garbled file exits 2 with one line naming the file (and the line)", async () => {
    const missing = await failure("topology", ["--tle", "/no/such.tle", "--json"])
    expect(missing.code).toBe(2)
    expect(missing.lines).toEqual(["error: /no/such.tle: no such file"])
    const garbled = join(mkdtempSync(join(tmpdir(), "skymemory-garbled-")), "g.tle")
    writeFileSync(garbled, "STARLINK-1\n1 44001U 20001A   26303.9444921  .00001000  00000+0  00000+0 0  9990\n2 44001 garbage\n")
    for (const script of ["topology", "scale", "replay"]) {
      const bad = await failure(script, ["--tle", garbled, "--json"])
      expect(bad.code).toBe(2)
      expect(bad.lines).toHaveLength(1)
      expect(bad.lines[0]).toMatch(new RegExp(`^error: ${garbled}:1: `))
    }
    const stray = await failure("scale", ["--at", "60"])
    expect([stray.code, stray.lines]).toEqual([2, ["error: --at: needs --tle FILE (it applies to a catalog)"]])
  })

  it("scale runs a catalog, with the same trace on one worker and on two", async () => {
    const [one, two] = await Promise.all(["1", "2"].map(async (w) => JSON.parse((await run("scale", ["--tle", path, "--sim-seconds", "4", "--workers", w, "--json"])).stdout)))
    expect(one.satellites).toBe(catalog.truth.filter((t) => t.kind === "operational").length)
    expect(one.events).toBeGreaterThan(1000)
    expect(two.traceHash).toBe(one.traceHash)
    expect(two.events).toBe(one.events)
  })

  it("replay runs a trace on a catalog", async () => {
    const trace = writeTrace(Array.from({ length: 6 }, (_, c) => Array.from({ length: 3 }, (_, t) => ({
      timestamp: 1000 * (c * 5 + t * 15), hash_ids: Array.from({ length: 2 + 2 * t }, (_, k) => 1000 * c + k)
    }))).flat())
    const rows = JSON.parse((await run("replay", ["--tle", path, "--trace", trace, "--strategy", "ours,hop_rotation", "--requests", "all", "--json"])).stdout)
    expect(rows.map((r: { strategy: string }) => r.strategy)).toEqual(["ours", "hop_rotation"])
    for (const r of rows) {
      expect(r.requests).toBe(18)
      expect(r.hitRate).toBeGreaterThan(0)
    }
  })
})
