import fc from "fast-check"
import { execFile, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { frameChunk, frameIntact } from "../src/cache/integrity.js"
import type { InferenceState } from "../src/actors/inference.js"
import type { SatelliteState } from "../src/actors/satellite.js"
import { ConstellationKvCache } from "../src/actors/constellation-kv.js"
import { HEALTH_TIMEOUT_SECONDS } from "../src/actors/health.js"
import type { PastKv } from "../src/inference/runner.js"

const run = promisify(execFile)

const pastOf = (tokens: number, seed: number): PastKv => {
  const t = (k: number) => Float32Array.from({ length: 2 * tokens * 16 }, (_, i) => Math.sin(seed + k * 1000 + i))
  return { layers: 2, kvHeads: 2, headDim: 16, tokens, keys: [t(0), t(1)], values: [t(2), t(3)] }
}
const promptOf = (seed: number, n = 96) => Array.from({ length: n + 5 }, (_, i) => (seed * 131 + i * 7) % 256)

/** Two-sample Kolmogorov-Smirnov statistic (a test helper: the largest gap between two empirical CDFs). */
const ksStatistic = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  const xs = [...new Set([...a, ...b])].sort((x, y) => x - y)
  const cdf = (s: ReadonlyArray<number>, x: number) => s.filter((v) => v <= x).length / s.length
  return Math.max(...xs.map((x) => Math.abs(cdf(a, x) - cdf(b, x))))
}

describe("tenants", () => {
  it("tenant B probing tenant A's exact prompt gets a miss, timed like any cold miss (distributions, not one run)", async () => {
    const kv = ConstellationKvCache.make({ chunkBytes: 512, namespace: { modelId: "m", tenantSalt: "tenant-a" } })
    const b = { modelId: "m", tenantSalt: "tenant-b" }
    const probes: Array<number> = [], colds: Array<number> = []
    for (let i = 0; i < 24; i++) {
      await kv.store(promptOf(i), pastOf(96, i))
      await kv.advance(1)
      // A's prompt is cached for A...
      expect((await kv.lookup(promptOf(i))).tokens).toBe(96)
      // ...and a miss for B, which learns nothing from the time either.
      const probe = await kv.lookup(promptOf(i), b)
      expect(probe.tokens).toBe(0)
      probes.push(probe.fetchMs)
      colds.push((await kv.lookup(promptOf(1000 + i), b)).fetchMs)
      await kv.advance(2)
    }
    // KS critical value at alpha = 0.05 for 24 + 24 samples: 1.36 * sqrt(2 / 24) = 0.39.
    expect(ksStatistic(probes, colds)).toBeLessThan(0.39)
  }, 60_000)

  it("a compromised satellite serving forged or replayed shares is caught every time (HMAC with the tenant key)", async () => {
    const authKey = randomBytes(32)
    const kv = ConstellationKvCache.make({ chunkBytes: 512, authKey, namespace: { modelId: "m", tenantSalt: "a" } })
    const [victim, other] = [promptOf(1), promptOf(2)]
    await kv.store(victim, pastOf(96, 1))
    await kv.store(other, pastOf(96, 2))
    await kv.advance(1)
    const before = await kv.lookup(victim)
    expect(before.tokens).toBe(96)
    const [vKey] = kv.keysOf(victim), [oKey] = kv.keysOf(other)
    let forged = 0, caught = 0
    for (const sat of before.satellites) {
      const st = kv.engine.stateOf(sat) as SatelliteState
      const mine = st.store.read(vKey!)
      const theirs = st.store.read(oKey!)
      if (!mine?.payload || mine.payload.chunks.length === 0) continue
      // Attack 1: replay another block's (valid, sealed) chunks under the victim's key.
      // Attack 2: forge bytes with a correct CRC but no key.
      const chunks = theirs?.payload && theirs.payload.chunks.length === mine.payload.chunks.length
        ? theirs.payload.chunks
        : mine.payload.chunks.map((c, i) => frameChunk(vKey!, i, randomBytes(c.length - 5 - 32)))
      st.store.put(vKey!, mine.bytes, { share: mine.payload.share, chunks })
      forged++
      const got = await kv.lookup(victim)
      // The victim's first block is refused; nothing of it reaches the model.
      expect(got.tokens).toBe(0)
      if (got.rejectedBlocks === 1 && got.badChunks > 0) caught++
      st.store.put(vKey!, mine.bytes, mine.payload)
    }
    expect(forged).toBeGreaterThan(0)
    expect(caught).toBe(forged)
  }, 60_000)
})

describe("redundancy and re-placement", () => {
  const S = 9
  const stored = async (redundancy: number) => {
    const kv = ConstellationKvCache.make({ preset: "starlink-shell1", chunkBytes: 512, redundancy, faults: { bitErrorRate: 0, lossRate: 0 }, namespace: { modelId: "m", tenantSalt: "a" } })
    const prompt = promptOf(3)
    await kv.store(prompt, pastOf(96, 3))
    await kv.advance(0.5)
    const keys = kv.keysOf(prompt)
    const written = () => (kv.engine.stateOf(kv.actor) as InferenceState).written
    const counter = (name: string) => kv.engine.metrics.counters.get(name) ?? 0
    const holds = (sat: number, key: number, share: number) => (kv.engine.stateOf(sat) as SatelliteState).store.read(key)?.payload?.share === share
    return { kv, prompt, keys, written, counter, holds }
  }

  it("two copies: satellites that crash lose nothing, and their shares are re-placed on live satellites", async () => {
    const { kv, prompt, keys, written, counter, holds } = await stored(2)
    const first = written().get(keys[0]!)!.slice(0, S)
    const crashedAt = kv.now
    await kv.crash(first, 120)
    // Before the writer's heartbeats tell: every share of the first copy is asked, misses (the lookup waits
    // out its 2-s deadline), and the second copy serves.
    const got = await kv.lookup(prompt)
    expect(got.tokens).toBe(96)
    expect(got.satellites.some((s) => first.includes(s))).toBe(false)
    // The crash is learned by protocol, not handed down: nothing is re-placed before the heartbeat timeout...
    expect(kv.now).toBeLessThan(crashedAt + HEALTH_TIMEOUT_SECONDS - 0.1)
    await kv.advance(crashedAt + HEALTH_TIMEOUT_SECONDS - 0.1 - kv.now)
    expect(counter("sharesReplaced")).toBe(0)
    // ...and everything within the timeout plus an epoch or two.
    await kv.advance(3)
    expect(counter("sharesReplaced")).toBeGreaterThanOrEqual(S * keys.length)
    expect(counter("sharesLost")).toBe(0)
    for (const key of keys) {
      const now = written().get(key)!
      expect(now.some((s) => first.includes(s))).toBe(false)
      now.forEach((sat, p) => expect(holds(sat, key, p % S)).toBe(true))
    }
    // The second copies' satellites go too: the re-placed copies serve the block.
    await kv.crash(written().get(keys[0]!)!.slice(S), 120)
    expect((await kv.lookup(prompt)).tokens).toBe(96)
  }, 60_000)

  it("re-placement (fast-check): any crash that leaves one copy of each share loses nothing; every share ends on a live holder", async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.boolean(), { minLength: S, maxLength: S }), fc.array(fc.boolean(), { minLength: S, maxLength: S }), async (firstDown, secondDown) => {
      const { kv, keys, written, counter, holds } = await stored(2)
      const before = written().get(keys[0]!)!
      // Share k dies in copy 1 or copy 2 (or neither), never in both.
      const down = before.filter((_, p) => (p < S ? firstDown[p]! : secondDown[p - S]! && !firstDown[p - S]!))
      await kv.crash(down, 120)
      await kv.advance(HEALTH_TIMEOUT_SECONDS + 3)
      expect(counter("sharesLost")).toBe(0)
      expect(counter("sharesReplaced")).toBeGreaterThanOrEqual(down.length)
      for (const key of keys) {
        const now = written().get(key)!
        expect(now.some((s) => down.includes(s))).toBe(false)
        expect(new Set(now).size).toBe(2 * S)
        now.forEach((sat, p) => expect(holds(sat, key, p % S)).toBe(true))
      }
    }), { numRuns: 5 })
  }, 120_000)

  it("one copy: a crash loses the shares it held (counted), and the block misses until it is written again", async () => {
    const { kv, prompt, keys, written, counter } = await stored(1)
    await kv.crash(written().get(keys[0]!)!.slice(0, 1), 120)
    await kv.advance(HEALTH_TIMEOUT_SECONDS + 2)
    expect(counter("sharesLost")).toBeGreaterThanOrEqual(keys.length)
    expect((await kv.lookup(prompt)).tokens).toBe(0)
  }, 60_000)

  it("link bit errors never settle into the stores: corrupted puts and migrations are refused and sent again", async () => {
    const kv = ConstellationKvCache.make({ chunkBytes: 512, faults: { bitErrorRate: 1e-5, lossRate: 0 }, namespace: { modelId: "m", tenantSalt: "a" } })
    for (let p = 0; p < 6; p++) await kv.store(promptOf(10 + p), pastOf(96, p))
    // Long enough for handovers: hop_rotation migrates every block to the new serving satellite's box.
    await kv.advance(240)
    const counter = (name: string) => kv.engine.metrics.counters.get(name) ?? 0
    expect(counter("corruptPutsRefused")).toBeGreaterThan(0)
    expect(counter("corruptMigrationsRefused")).toBeGreaterThan(0)
    expect(counter("migrationResends")).toBeGreaterThan(0)
    let shares = 0
    for (let sat = 0; sat < kv.world.satellites; sat++) {
      for (const key of (kv.engine.stateOf(sat) as SatelliteState).store.keys()) {
        const share = (kv.engine.stateOf(sat) as SatelliteState).store.read(key)!
        expect(share.payload!.chunks.every(frameIntact)).toBe(true)
        shares++
      }
    }
    // Every share of every block is somewhere (a put corrupted three times running would be missing).
    expect(shares).toBeGreaterThanOrEqual(6 * 6 * 9)
  }, 60_000)

  it("read repair: a copy corrupted at rest is refused, served from the other copy, and written back good", async () => {
    const { kv, prompt, keys, written, counter } = await stored(2)
    const sat = written().get(keys[0]!)![0]!
    const st = kv.engine.stateOf(sat) as SatelliteState
    const good = st.store.read(keys[0]!)!
    const bad = good.payload!.chunks.map((c) => { const x = Uint8Array.from(c); x[x.length - 1]! ^= 0xff; return x })
    st.store.put(keys[0]!, good.bytes, { share: good.payload!.share, chunks: bad })
    const got = await kv.lookup(prompt)
    expect(got.tokens).toBe(96)
    expect(got.badChunks).toBeGreaterThan(0)
    expect(counter("readRepairs")).toBe(1)
    await kv.advance(0.5)
    const repaired = (kv.engine.stateOf(sat) as SatelliteState).store.read(keys[0]!)!.payload!
    expect(repaired.chunks.map((c) => Buffer.from(c).toString("hex"))).toEqual(good.payload!.chunks.map((c) => Buffer.from(c).toString("hex")))
  }, 60_000)
})

describe("faults", () => {
  it("chaos: no wrong KV under any fault, every corrupted chunk that arrives is caught, faults really happen", async () => {
    const env = { ...process.env, SKYMEMORY_RESULTS: mkdtempSync(join(tmpdir(), "skymemory-chaos-")) }
    const { stdout } = await run(process.execPath, ["--import", "tsx", "experiments/chaos.ts", "--requests", "60", "--bit-error-rate", "1e-5", "--redundancy", "1,2", "--json"], { env, timeout: 180_000 })
    const rows = JSON.parse(stdout) as Array<Record<string, number | string>>
    const faults = ["none", "bit-errors", "message-loss", "isl-flaps", "satellite-crash", "mass-failure", "ground-outage"]
    expect(rows.map((r) => `${r.fault} ${r.redundancy}`)).toEqual([...faults.map((f) => `${f} 1`), ...faults.map((f) => `${f} 2`)])
    for (const r of rows) {
      expect(r.wrongKvServed).toBe(0)
      expect(r.corruptedDetected).toBe(r.corruptedInjected)
    }
    const by = Object.fromEntries(rows.filter((r) => r.redundancy === 1).map((r) => [r.fault, r]))
    const two = Object.fromEntries(rows.filter((r) => r.redundancy === 2).map((r) => [r.fault, r]))
    // A second copy on other satellites: a mass failure costs no more than with one copy.
    expect(two["mass-failure"]!.hitRate).toBeGreaterThanOrEqual(by["mass-failure"]!.hitRate as number)
    expect(by["bit-errors"]!.corruptedInjected).toBeGreaterThan(0)
    expect(by["message-loss"]!.lostMessages).toBeGreaterThan(0)
    expect(by["isl-flaps"]!.linkDownDrops).toBeGreaterThan(by.none!.linkDownDrops as number)
    expect(by.none!.hitRate).toBeGreaterThan(0)
  }, 180_000)

  it("chaos on 2 workers prints the same rows as on 1: bytes cross shards, loss and bit flips are drawn per actor, every shard hears of a crash", async () => {
    const env = { ...process.env, SKYMEMORY_RESULTS: mkdtempSync(join(tmpdir(), "skymemory-chaos-workers-")) }
    // A mass failure needs 200 requests at one copy to change what clients see (retries); at 60 it did not.
    for (const [fault, redundancy, requests] of [["bit-errors", "2", "60"], ["message-loss", "1", "60"], ["mass-failure", "1", "200"]] as const) {
      const rows = await Promise.all(["1", "2"].map(async (workers) => {
        const args = ["--import", "tsx", "experiments/chaos.ts", "--requests", requests, "--fault", fault, "--redundancy", redundancy, "--workers", workers, "--json"]
        return JSON.parse((await run(process.execPath, args, { env, timeout: 120_000 })).stdout) as Array<Record<string, number | string>>
      }))
      expect(rows[1]).toEqual(rows[0])
      // Not equal by doing nothing: the fault happened and was survived.
      const r = rows[0]![0]!
      expect(fault === "bit-errors" ? r.corruptedInjected : fault === "message-loss" ? r.lostMessages : r.retries).toBeGreaterThan(0)
      expect(r.wrongKvServed).toBe(0)
    }
  }, 240_000)

  it("a run killed mid-way leaves every earlier result intact and no half-written file", async () => {
    const root = mkdtempSync(join(tmpdir(), "skymemory-kill-"))
    const env = { ...process.env, SKYMEMORY_RESULTS: root }
    await run(process.execPath, ["--import", "tsx", "experiments/paper-parity.ts", "--quiet"], { env, timeout: 120_000 })
    const earlier = join(root, "paper-parity", readdirSync(join(root, "paper-parity"))[0]!)
    const before = Object.fromEntries(readdirSync(earlier).map((f) => [f, readFileSync(join(earlier, f))]))
    // A long replay, killed with SIGKILL (no chance to clean up) once it has started writing.
    const child = spawn(process.execPath, ["--import", "tsx", "experiments/replay.ts", "--requests", "2000", "--quiet", "--capacity-mb", "64,1024"], { env, stdio: "ignore" })
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (existsSync(join(root, "replay"))) {
          clearInterval(poll)
          setTimeout(() => { child.kill("SIGKILL"); resolve() }, 1500)
        }
      }, 100)
    })
    await new Promise((r) => child.on("exit", r))
    for (const [f, bytes] of Object.entries(before)) expect(readFileSync(join(earlier, f)).equals(bytes)).toBe(true)
    for (const runDir of readdirSync(join(root, "replay"))) {
      for (const f of readdirSync(join(root, "replay", runDir)).filter((n) => n.endsWith(".json"))) {
        expect(() => JSON.parse(readFileSync(join(root, "replay", runDir, f), "utf8"))).not.toThrow()
      }
    }
  }, 180_000)
})
