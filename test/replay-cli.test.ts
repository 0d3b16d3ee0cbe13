import { execFile } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { writeTrace } from "./support/trace-file.js"

const run = promisify(execFile)
const env = { ...process.env, SKYMEMORY_RESULTS: mkdtempSync(join(tmpdir(), "skymemory-replay-cli-")) }
const replay = (args: ReadonlyArray<string>) =>
  run(process.execPath, ["--import", "tsx", "experiments/replay.ts", ...args], { env, timeout: 180_000 })

// Twelve conversations of four turns, each turn re-sending the conversation so far: prefixes to hit.
const trace = writeTrace(Array.from({ length: 12 }, (_, c) => Array.from({ length: 4 }, (_, t) => ({
  timestamp: 1000 * (c * 7 + t * 20),
  hash_ids: Array.from({ length: 2 + 2 * t }, (_, k) => 10_000 * c + k),
  input_length: 512 * (2 + 2 * t) - 100
}))).flat())

describe("replay's command-line contract", () => {
  it("a row per strategy x codec x capacity x seed, with the contract's fields, the same on 1 and 2 workers", async () => {
    const args = ["--trace", trace, "--preset", "paper-19x5", "--strategy", "hop_rotation,ours", "--codec", "all", "--capacity-mb", "1024", "--requests", "all", "--seeds", "2", "--device", "jetson-orin-nano-8gb", "--json"]
    const [one, two] = (await Promise.all(["1", "2"].map(async (w) => JSON.parse((await replay([...args, "--workers", w])).stdout) as Array<Record<string, any>>))) as [Array<Record<string, any>>, Array<Record<string, any>>]
    expect(one.map((r) => `${r.strategy} ${r.codec} ${r.capacityMb} ${r.seed}`)).toEqual(
      ["fp16", "int8"].flatMap((codec) => ["hop_rotation", "ours"].flatMap((s) => [1, 2].map((seed) => `${s} ${codec} 1024 ${seed}`)))
    )
    const strip = (rows: Array<Record<string, any>>) => rows.map(({ wallSeconds: _, ...r }) => r)
    expect(strip(two)).toEqual(strip(one))
    for (const r of one) {
      expect(Object.keys(r)).toEqual(expect.arrayContaining(["strategy", "codec", "capacityMb", "seed", "requests", "blocks", "hitBlocks", "hitRate", "oracleHitRate", "ttftMs", "coldTtftMs", "hitRetrievalMs", "migrationBytes", "evictions", "wallSeconds"]))
      expect(r.requests).toBe(48)
      expect(r.blocks).toBe(12 * (2 + 4 + 6 + 8))
      expect(r.hitRate).toBeLessThanOrEqual(r.oracleHitRate)
      expect(Object.keys(r.ttftMs)).toEqual(["mean", "p50", "p90", "p99"])
      expect(r.ttftMs.p50).toBeLessThanOrEqual(r.ttftMs.p99)
      // Requests served from the cache prefill less: on average faster than without it, here.
      if (r.hitRate > 0.2) expect(r.ttftMs.mean).toBeLessThan(r.coldTtftMs.mean)
      expect(Object.keys(r.hitRetrievalMs)).toEqual(["p50", "p90", "p99"])
    }
    // The same requests for every strategy and codec: the cold TTFT of a seed is the same everywhere.
    expect(new Set(one.map((r) => r.coldTtftMs.mean)).size).toBe(1)
    expect(one.some((r) => r.hitRate > 0.2)).toBe(true)
    // The codec is its own axis: int8 shares are smaller, so a placement that migrates moves fewer bytes.
    const mig = (codec: string) => one.find((r) => r.strategy === "hop_rotation" && r.codec === codec && r.seed === 1)!.migrationBytes
    expect(mig("int8")).toBeLessThan(mig("fp16"))
  }, 180_000)

  it("bad values: one line naming the flag, exit code 2", async () => {
    for (const [flag, value] of [["--codec", "fp8"], ["--seeds", "0"], ["--requests", "none"], ["--device", "abacus"], ["--strategy", "hop,nope"]] as const) {
      const err = await replay(["--trace", trace, flag, value, "--json"]).then(() => undefined, (e: { code: number; stderr: string }) => e)
      expect(err?.code).toBe(2)
      const lines = err!.stderr.trim().split("\n").filter((l) => !l.startsWith("npm warn"))
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain(flag)
    }
  }, 60_000)
})
