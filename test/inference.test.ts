import { randomBytes } from "node:crypto"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { bytesPerToken } from "../src/cache/chunking.js"
import { ConstellationKvCache } from "../src/actors/constellation-kv.js"
import { crossoverTokens, deviceNamed, fitLine, type ModelArithmetic, prefillFlops, prefillSecondsOn, qwen25HalfB } from "../src/inference/devices.js"
import { joinBlocks, splitIntoBlocks } from "../src/inference/kv-blocks.js"
import { blockToShares, sharesToBlock } from "../src/inference/kv-transfer.js"
import { ModelPool } from "../src/inference/model-pool.js"
import { ensureModel, modelArithmetic, modelSpecs } from "../src/inference/models.js"
import { CausalLm, maxAbsDiff, ModelLoadError, type PastKv, truncatePast, usableCache } from "../src/inference/runner.js"
import { cachedTurn } from "../src/inference/session.js"

const randomPast = (layers: number, kvHeads: number, headDim: number, tokens: number, seed: number): PastKv => {
  let x = seed
  const next = () => ((x = (Math.imul(x, 1103515245) + 12345) | 0) / 2 ** 31)
  const tensor = () => Float32Array.from({ length: kvHeads * tokens * headDim }, next)
  return { layers, kvHeads, headDim, tokens, keys: Array.from({ length: layers }, tensor), values: Array.from({ length: layers }, tensor) }
}

describe("generated models", () => {
  it("qwen-shape has Qwen2.5-0.5B's KV shape: 12,288 B of fp16 K+V per token", () => {
    const s = modelSpecs["qwen-shape"]
    expect(bytesPerToken({ layers: s.layers, kvHeads: s.kvHeads, headDim: s.headDim, bytesPerValue: 2 })).toBe(12_288)
    expect(s.heads * s.headDim).toBe(s.hidden)
  })

  it("a model folder is reused while its spec and generator are the same, and rebuilt when either changed", () => {
    const root = mkdtempSync(join(tmpdir(), "skymemory-models-"))
    const dir = ensureModel("tiny", root)
    const stamp = join(dir, "skymemory-spec.json")
    writeFileSync(join(dir, "tokenizer.json"), "{}")
    expect(ensureModel("tiny", root)).toBe(dir)
    expect(readFileSync(join(dir, "tokenizer.json"), "utf8")).toBe("{}")
    // Stamped by another version of the generator (decoder-graph, onnx-graph, model-files), same spec: rebuilt.
    const current = JSON.parse(readFileSync(stamp, "utf8"))
    expect(current).toEqual({ spec: modelSpecs.tiny, generator: expect.stringMatching(/^[0-9a-f]{64}$/) })
    writeFileSync(stamp, JSON.stringify({ ...current, generator: "0".repeat(64) }))
    ensureModel("tiny", root)
    expect(JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")).model.type).toBe("BPE")
    expect(JSON.parse(readFileSync(stamp, "utf8"))).toEqual(current)
    // Stamped from another spec: rebuilt.
    writeFileSync(stamp, JSON.stringify({ ...current, spec: { ...modelSpecs.tiny, seed: 8 } }))
    writeFileSync(join(dir, "tokenizer.json"), "{}")
    ensureModel("tiny", root)
    expect(JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")).model.type).toBe("BPE")
  })

  it("tiny builds into a folder transformers.js loads by path (the --model PATH route)", async () => {
    const dir = ensureModel("tiny")
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"))
    expect(config).toMatchObject({ model_type: "llama", num_hidden_layers: 2, num_key_value_heads: 2, head_dim: 16 })
    expect(modelArithmetic(dir)).toMatchObject({ layers: 2, hidden: 64, heads: 4, kvHeads: 2, headDim: 16 })
    const lm = await CausalLm.load(dir)
    const tokens = lm.encode("orbit")
    expect(tokens).toEqual([...Buffer.from("orbit")])
    // One token per UTF-8 byte, for every byte value UTF-8 text can hold (ASCII, continuation bytes
    // 0x80-0xBF, lead bytes 0xC2-0xF4): the vocabulary's byte table is GPT-2's, which the tokenizer reads.
    const codePoints = [
      ...Array.from({ length: 0xbf }, (_, k) => k + 1),
      ...Array.from({ length: 0xdf - 0xc2 + 1 }, (_, k) => ((0xc2 + k) & 0x1f) << 6),
      ...Array.from({ length: 0xef - 0xe0 + 1 }, (_, k) => 0xe0 + k === 0xe0 ? 0x800 : 0xe0 + k === 0xed ? 0xd000 : ((0xe0 + k) & 0x0f) << 12),
      ...Array.from({ length: 0xf4 - 0xf0 + 1 }, (_, k) => 0xf0 + k === 0xf0 ? 0x10000 : ((0xf0 + k) & 0x07) << 18)
    ]
    const every = String.fromCodePoint(...codePoints)
    expect(new Set(Buffer.from(every)).size).toBe(0xbf + (0xf4 - 0xc2 + 1))
    expect(lm.encode(every)).toEqual([...Buffer.from(every)])
    expect(lm.decode(lm.encode(every))).toBe(every)
    const r = await lm.prefill(tokens)
    expect(r.past.tokens).toBe(5)
    expect(r.past.keys[0]!.length).toBe(2 * 5 * 16)
    expect(r.logits.length).toBe(257)
    // A prompt cached whole leaves nothing to prefill: refused (callers cut the cache, see usableCache).
    await expect(lm.generate(tokens, 1, r.past)).rejects.toThrow(/cached 5 tokens of a 5-token prompt: leave at least one to prefill/)
    // A folder whose config.json has no KV shape is refused before any weights load, naming the file.
    const bare = mkdtempSync(join(tmpdir(), "skymemory-model-"))
    writeFileSync(join(bare, "config.json"), JSON.stringify({ model_type: "llama", num_hidden_layers: 2, hidden_size: 64, head_dim: 16 }))
    await expect(CausalLm.load(bare)).rejects.toThrow(new ModelLoadError(`${bare}/config.json: cannot read layers, KV heads and head size`))
  })
})

describe("KV blocks", () => {
  it("split into B-token blocks and joined back is the cache of the full blocks, exactly", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 9 }), (layers, kvHeads, half, tokens, B) => {
      const past = randomPast(layers, kvHeads, 2 * half, tokens, tokens * 31 + B)
      const blocks = splitIntoBlocks(past, B)
      expect(blocks).toHaveLength(Math.floor(tokens / B))
      if (blocks.length === 0) return
      const joined = joinBlocks(blocks)
      expect(joined.tokens).toBe(blocks.length * B)
      for (let l = 0; l < layers; l++) {
        for (let h = 0; h < kvHeads; h++) {
          for (let t = 0; t < joined.tokens; t++) {
            for (let d = 0; d < 2 * half; d++) {
              const at = (h * joined.tokens + t) * 2 * half + d, from = (h * tokens + t) * 2 * half + d
              expect(joined.keys[l]![at]).toBe(past.keys[l]![from])
              expect(joined.values[l]![at]).toBe(past.values[l]![from])
            }
          }
        }
      }
    }), { numRuns: 60 })
    // Nothing to join, or blocks of two models, is refused by name.
    expect(() => joinBlocks([])).toThrow(/no blocks/)
    const [a] = splitIntoBlocks(randomPast(2, 2, 4, 8, 1), 8)
    for (const other of [randomPast(2, 1, 4, 8, 2), randomPast(2, 2, 2, 8, 3), randomPast(1, 2, 4, 8, 4)]) {
      expect(() => joinBlocks([a!, splitIntoBlocks(other, 8)[0]!])).toThrow(/different shapes/)
    }
  })

  it("shares round-trip; a flipped bit is caught as corrupted, a chunk from another block as forged", () => {
    const [block] = splitIntoBlocks(randomPast(2, 2, 16, 16, 5), 16)
    const auth = randomBytes(32)
    const shares = blockToShares(block!, 42, { codec: "fp32", chunkBytes: 500, servers: 3, authKey: auth })
    const back = sharesToBlock(shares, 42, auth)
    expect(back.ok).toBe(true)
    if (back.ok) expect(back.block.keys[1]).toEqual(block!.keys[1])
    const flipped = shares.map((s) => s.map((c) => new Uint8Array(c)))
    flipped[1]![0]![60]! ^= 0x10 // past the 5-byte header and the 32-byte tag
    expect(sharesToBlock(flipped, 42, auth)).toMatchObject({ ok: false, verdict: "corrupted", chunk: 1 })
    // Well-formed chunks of block 43 served for block 42: the CRC holds, the tag does not.
    const other = blockToShares(block!, 43, { codec: "fp32", chunkBytes: 500, servers: 3, authKey: auth })
    expect(sharesToBlock(other, 42, auth)).toMatchObject({ ok: false, verdict: "forged" })
  })
})

describe("a cache cut to a prompt", () => {
  it("keeps each head's first tokens, never grows; a prompt uses all of a cache but its last token; logits differ by their largest gap either way", () => {
    const past = randomPast(2, 3, 4, 10, 11)
    const cut = truncatePast(past, 6)
    for (let h = 0; h < 3; h++) expect(cut.keys[1]!.subarray(h * 24, (h + 1) * 24)).toEqual(past.keys[1]!.subarray(h * 40, h * 40 + 24))
    expect(truncatePast(past, 10)).toBe(past)
    expect(() => truncatePast(past, 11)).toThrow(/cannot cut a 10-token cache to 11/)
    expect([usableCache(10, 20), usableCache(10, 10), usableCache(10, 0)]).toEqual([10, 9, 0])
    expect(maxAbsDiff(Float32Array.of(1, -2, 0), Float32Array.of(0, 1, 0.5))).toBe(3)
    expect(() => maxAbsDiff(Float32Array.of(1), Float32Array.of(1, 2))).toThrow(/differ in length: 1 vs 2/)
  })
})

describe("device arithmetic", () => {
  /** Whether fetching a p-token prefix and prefilling the 32 tokens after it beats prefilling all p + 32. */
  const fetchWins = (m: ModelArithmetic, fetch: (p: number) => number, flops: number) => (p: number) =>
    fetch(p) + (prefillFlops(m, p, p + 32) / flops) * 1e3 < (prefillFlops(m, 0, p + 32) / flops) * 1e3

  it("Qwen2.5-0.5B's prefill FLOPs: 2 per weight per token (its model card's 0.49B, 0.36B without the embedding) and 4 x heads x headDim per layer per visible key", () => {
    const m = qwen25HalfB
    // Every matrix by name: q, k, v, o projections, the MLP's gate, up and down; the LM head (tied to the embedding).
    const perLayer = 896 * 896 + 896 * 128 + 896 * 128 + 896 * 896 + 896 * 4864 + 896 * 4864 + 4864 * 896
    const weights = 24 * perLayer + 896 * 151_936
    expect(Math.abs(24 * perLayer / 0.36e9 - 1)).toBeLessThan(0.01)
    expect(Math.abs(weights / 0.49e9 - 1)).toBeLessThan(0.01)
    const attention = 4 * 24 * 14 * 64
    expect(prefillFlops(m, 0, 1)).toBe(2 * weights + attention)
    // The token at position p sees p + 1 keys: p more than the first.
    for (const p of [1, 7, 1000]) expect(prefillFlops(m, p, p + 1) - prefillFlops(m, 0, 1)).toBe(attention * p)
    expect(prefillFlops(m, 0, 3)).toBe(3 * 2 * weights + attention * (1 + 2 + 3))
    const jetson = deviceNamed("jetson-orin-nano-8gb")!
    expect(prefillSecondsOn(jetson, m, 0, 100)).toBeCloseTo(prefillFlops(m, 0, 100) / 3e12, 15)
    expect([prefillSecondsOn(jetson, m, 5, 5), prefillSecondsOn(jetson, m, 5, 3)]).toEqual([0, 0])
  })

  it("the crossover is the shortest prefix that wins, found by a scan of every length too, within any bound", () => {
    const m = qwen25HalfB
    // Bounds that are no power of two with the crossover between the last power of two and the bound
    // (30 ms: 91 tokens, under 100; 5 ms on an H100: 4,976, under 6,000) as well as beyond it.
    for (const [fetchBase, flops] of [[20, 3e12], [30, 3e12], [80, 3e12], [5, 4e14], [0.01, 3e12]] as const) {
      const fetch = (p: number) => fetchBase + 0.002 * p
      for (const maxTokens of [65_536, 6_000, 3_000, 1_000, 100]) {
        let first: number | undefined
        const wins = fetchWins(m, fetch, flops)
        for (let p = 1; p <= Math.min(maxTokens, 20_000) && first === undefined; p++) if (wins(p)) first = p
        if (first === undefined && maxTokens > 20_000) continue
        expect([fetchBase, flops, maxTokens, crossoverTokens(m, 32, fetch, flops, maxTokens)]).toEqual([fetchBase, flops, maxTokens, first])
      }
    }
  })

  it("a least-squares line: exact through points on a line, through the origin from one point, flat over one x", () => {
    expect(fitLine([1, 2, 3, 4], [3, 5, 7, 9])).toEqual({ a: 1, b: 2 })
    const noisy = fitLine([0, 1, 2], [1, 2, 2])
    expect(noisy.a).toBeCloseTo(7 / 6, 12)
    expect(noisy.b).toBeCloseTo(0.5, 12)
    expect(fitLine([4], [10])).toEqual({ a: 0, b: 2.5 })
    expect(fitLine([0], [10])).toEqual({ a: 0, b: 0 })
    expect(fitLine([2, 2], [1, 3])).toEqual({ a: 2, b: 0 })
  })

  it("prefill FLOPs add up over a split, and the crossover moves with device speed", () => {
    const m = modelArithmetic(ensureModel("tiny"))
    expect(prefillFlops(m, 0, 100) + prefillFlops(m, 100, 164)).toBeCloseTo(prefillFlops(m, 0, 164), 3)
    const fetch = (p: number) => 20 + 0.01 * p
    const slow = crossoverTokens(m, 32, fetch, 1e9)
    const fast = crossoverTokens(m, 32, fetch, 1e11)
    const wins = (p: number, flops: number) => fetchWins(m, fetch, flops)(p)
    expect(slow).toBeGreaterThan(1)
    expect([wins(slow!, 1e9), wins(slow! - 1, 1e9)]).toEqual([true, false])
    // 100x the compute: the fetch pays off only on far longer prefixes, or on none up to 65,536.
    if (fast === undefined) for (let p = 1; p <= 65_536; p *= 2) expect(wins(p, 1e11)).toBe(false)
    else {
      expect(fast).toBeGreaterThan(slow!)
      expect([wins(fast, 1e11), wins(fast - 1, 1e11)]).toEqual([true, false])
    }
  })
})

describe("the inference actor: a real model's KV through the constellation", () => {
  let pool: ModelPool
  beforeAll(() => {
    pool = new ModelPool("tiny", { threads: 1 })
  })
  afterAll(() => pool.close())

  const prompts = (seedText: string) => {
    const prefix = [...Buffer.from(seedText.repeat(8))].slice(0, 96)
    return { first: [...prefix, ...Buffer.from(" first question?")], second: [...prefix, ...Buffer.from(" another one, longer!")] }
  }

  it("fp32 and fp16: logits within 1e-4 of a full prefill and the same 64 greedy tokens; int8 reported", async () => {
    const { first, second } = prompts("Satellites keep the prefix. ")
    const reference = await pool.generate(second, 64)
    const errors: Record<string, number> = {}
    for (const codec of ["fp32", "fp16", "int8"] as const) {
      const kv = ConstellationKvCache.make({ codec, namespace: { modelId: "tiny", tenantSalt: "t" } })
      const cold = await cachedTurn(pool, kv, first, { maxNewTokens: 1, cold: true })
      expect(cold.storedBlocks).toBe(Math.floor(first.length / 16))
      const warm = await cachedTurn(pool, kv, second, { maxNewTokens: 64, store: false })
      expect(warm.cachedTokens).toBe(96)
      expect(warm.satellites.length).toBeGreaterThanOrEqual(9)
      expect(warm.fetchMs).toBeGreaterThan(0)
      errors[codec] = maxAbsDiff(warm.firstLogits, reference.firstLogits)
      if (codec !== "int8") {
        expect(errors[codec]).toBeLessThanOrEqual(1e-4)
        expect(warm.tokens).toEqual(reference.tokens)
      }
    }
    // 8-bit keys and values move the logits measurably, but not wildly.
    expect(errors.int8).toBeGreaterThan(1e-4)
    expect(errors.int8).toBeLessThan(1)
  }, 60_000)

  it("another tenant gets a miss; the blocks follow the user through handovers; a lost store is a miss", async () => {
    const { first, second } = prompts("Tenants do not share. ")
    const kv = ConstellationKvCache.make({ codec: "fp16", namespace: { modelId: "tiny", tenantSalt: "tenant-a" } })
    const cold = await cachedTurn(pool, kv, first, { maxNewTokens: 1, cold: true })
    expect(cold.storedBlocks).toBeGreaterThan(0)
    expect((await kv.lookup(second, { modelId: "tiny", tenantSalt: "tenant-b" })).tokens).toBe(0)
    const before = await kv.lookup(second)
    expect(before.tokens).toBe(96)
    // Ten minutes later the user's serving satellite has changed; migrations moved the shares along.
    await kv.advance(600)
    const after = await kv.lookup(second)
    expect(after.tokens).toBe(96)
    expect(after.satellites).not.toEqual(before.satellites)
    expect(after.rejectedBlocks).toBe(0)

    // Satellites of 4 KiB cannot hold a tiny fp32 block (8 KiB: one chunk, so one share carries it all).
    const small = ConstellationKvCache.make({ codec: "fp32", capacityBytesPerSatellite: 4096, namespace: { modelId: "tiny", tenantSalt: "a" } })
    await cachedTurn(pool, small, first, { maxNewTokens: 1, cold: true })
    expect((await small.lookup(second)).tokens).toBeLessThan(96)
  }, 60_000)

  it("on the worker pool (2 shards): shares' bytes cross shards, and lookups, satellites, times and logits match one shard", async () => {
    const { first, second } = prompts("Two workers, one orbit. ")
    // The 19x5 patch's ground actor is on shard 1 of 2; its shares land on satellites of both shards.
    const options = { codec: "fp16" as const, namespace: { modelId: "tiny", tenantSalt: "w" } }
    const seeded = await pool.generate(first, 1, undefined, { returnPast: true })
    const session = async (kv: ConstellationKvCache) => {
      try {
        const stored = await kv.store([...first, ...seeded.tokens], seeded.past!)
        const seen = []
        for (const wait of [1, 300, 900]) {
          await kv.advance(wait)
          const got = await kv.lookup(second)
          const logits = got.past ? (await pool.generate(second, 1, got.past.tokens < second.length ? got.past : undefined)).firstLogits : undefined
          seen.push({ now: kv.now, tokens: got.tokens, satellites: got.satellites, fetchMs: got.fetchMs, logits: logits && Array.from(logits) })
        }
        const engine = await kv.report()
        return { stored: stored.satellites, seen, delivered: engine.delivered, counters: engine.counters, owner: kv.host.owner }
      } finally {
        await kv.close()
      }
    }
    const one = await session(ConstellationKvCache.make(options))
    const two = await session(await ConstellationKvCache.open(options, { workers: 2 }))
    const owners = new Set(one.stored.map((s) => two.owner[s]))
    expect(owners.size).toBe(2)
    expect(two.seen.filter((s) => s.tokens === 96).length).toBeGreaterThanOrEqual(2)
    expect(two.seen).toEqual(one.seen)
    expect(two.stored).toEqual(one.stored)
    expect(two.delivered).toBe(one.delivered)
    expect(two.counters).toEqual(one.counters)
  }, 120_000)
})

describe("an inference actor beside replay clients", () => {
  it("the replay clients' hits, misses and migrations are what they are without it (size-only shares beside a byte wire)", async () => {
    const { makeRunConfig } = await import("../src/actors/config.js")
    const { runOnWorkers } = await import("../src/actors/index.js")
    const replay = { ...makeRunConfig().replay, strategy: "hop_rotation", requests: 150 }
    const base = { preset: "paper-19x5", workload: "replay", users: 0, simSeconds: 120, replay } as const
    const alone = await runOnWorkers(makeRunConfig(base), { workers: 1 })
    const beside = await runOnWorkers(makeRunConfig({ ...base, inferenceActors: 1 }), { workers: 1 })
    expect(alone.counters.hitBlocks).toBeGreaterThan(0)
    expect(alone.counters.migrationBytes).toBeGreaterThan(0)
    for (const k of ["requests", "hitBlocks", "outcome.served", "outcome.missed", "migrationBytes", "ttftMicros"]) expect([k, beside.counters[k]]).toEqual([k, alone.counters[k]])
  }, 60_000)
})
