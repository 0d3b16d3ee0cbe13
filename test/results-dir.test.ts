/**
 * Run directories (experiments/lib/results.ts): each run's own, whatever else runs at the same instant.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { openRunDirectory } from "../experiments/lib/results.js"

describe("run directories", () => {
  it("runs started in the same millisecond with the same seed each get their own directory, and none overwrites another's files", () => {
    const root = mkdtempSync(join(tmpdir(), "skymemory-runs-"))
    // 40 runs in a tight loop: many fall in one millisecond, so their names (time and seed) coincide.
    const dirs = Array.from({ length: 40 }, (_, run) => {
      const dir = openRunDirectory("same-instant", { seed: 7, run }, root)
      dir.writeJson("results.json", { run })
      return dir.path
    })
    expect(new Set(dirs).size).toBe(40)
    expect(readdirSync(join(root, "same-instant"))).toHaveLength(40)
    dirs.forEach((d, run) => {
      expect(JSON.parse(readFileSync(join(d, "config.json"), "utf8"))).toMatchObject({ experiment: "same-instant", seed: 7, run })
      expect(JSON.parse(readFileSync(join(d, "results.json"), "utf8"))).toEqual({ run })
    })
  })

  it("config.json says what ran: Node, the package's version and the commit checked out", () => {
    const root = mkdtempSync(join(tmpdir(), "skymemory-runs-"))
    const { versions } = JSON.parse(readFileSync(join(openRunDirectory("what-ran", { seed: 1 }, root).path, "config.json"), "utf8"))
    const head = spawnSync("git", ["rev-parse", "HEAD"], { encoding: "utf8" })
    expect(versions).toEqual({
      node: process.version,
      skymemory: JSON.parse(readFileSync("package.json", "utf8")).version,
      commit: head.status === 0 ? expect.stringMatching(new RegExp(`^${head.stdout.trim()}(-dirty)?$`)) : "unknown"
    })
  })
})
