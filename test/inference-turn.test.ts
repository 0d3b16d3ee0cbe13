/**
 * One inference turn (src/inference/session.ts cachedTurn) against a fake KV tier and a fake model:
 * what it asks the tier, what cache it hands the model, how long it lets the tier's clock run, and what
 * it stores. (test/inference.test.ts and the ttft / chat command lines run it with the real model and
 * the constellation.)
 */
import { describe, expect, it } from "vitest"
import type { KvTier } from "../src/inference/kv-tier.js"
import type { ModelPool } from "../src/inference/model-pool.js"
import type { Generation, PastKv } from "../src/inference/runner.js"
import { cachedTurn } from "../src/inference/session.js"

const B = 16
/** A cache of `tokens` tokens whose every value is its token's index (so a cut shows in the numbers). */
const pastOf = (tokens: number): PastKv => {
  const layer = () => Float32Array.from({ length: 2 * tokens * 4 }, (_, i) => Math.floor(i / 4) % tokens)
  return { layers: 2, kvHeads: 2, headDim: 4, tokens, keys: [layer(), layer()], values: [layer(), layer()] }
}

const fakes = (cachedTokens: number) => {
  const calls = { lookups: 0, advanced: [] as Array<number>, stored: [] as Array<{ tokens: ReadonlyArray<number>; past: number; from: number | undefined }>, generated: [] as Array<{ past: number | undefined; returnPast: boolean | undefined; stopAtEos: boolean | undefined }> }
  const kv: KvTier = {
    options: { blockTokens: B },
    lookup: async () => {
      calls.lookups++
      return { tokens: cachedTokens, past: cachedTokens > 0 ? pastOf(cachedTokens) : undefined, fetchMs: 12.5, satellites: [3, 7], rejectedBlocks: 1 }
    },
    advance: async (s) => void calls.advanced.push(s),
    store: async (tokens, past, from) => {
      calls.stored.push({ tokens, past: past.tokens, from })
      return { blocks: Math.floor(past.tokens / B) - (from ?? 0) }
    }
  }
  const model = {
    generate: async (prompt: ReadonlyArray<number>, maxNewTokens: number, past?: PastKv, o: { stopAtEos?: boolean; returnPast?: boolean } = {}): Promise<Generation> => {
      calls.generated.push({ past: past?.tokens, returnPast: o.returnPast, stopAtEos: o.stopAtEos })
      // The cache handed over holds the first past.tokens tokens of every head, keys and values alike.
      if (past) expect([past.keys, past.values]).toEqual([pastOf(past.tokens).keys, pastOf(past.tokens).values])
      const tokens = Array.from({ length: maxNewTokens }, (_, i) => 1000 + i)
      const all = prompt.length + tokens.length - 1
      return { tokens, firstLogits: Float32Array.of(1, 2), firstTokenMs: 40, totalMs: 250, past: o.returnPast ? pastOf(all) : undefined }
    }
  } as unknown as ModelPool
  return { kv, model, calls }
}

const prompt = (n: number) => Array.from({ length: n }, (_, i) => i)

describe("an inference turn", () => {
  it("uses the fetched prefix, lets the tier's clock run for the whole generation, and stores the blocks after the fetched ones", async () => {
    const { kv, model, calls } = fakes(32)
    const turn = await cachedTurn(model, kv, prompt(40), { maxNewTokens: 10 })
    expect(calls.generated).toEqual([{ past: 32, returnPast: true, stopAtEos: false }])
    expect(calls.advanced).toEqual([0.25])
    // Prompt and answer; the model's cache covers all but the last token: 49 tokens, blocks 2 (of 3) on.
    expect(calls.stored).toEqual([{ tokens: [...prompt(40), ...Array.from({ length: 10 }, (_, i) => 1000 + i)], past: 49, from: 2 }])
    expect(turn).toMatchObject({
      promptTokens: 40, cachedTokens: 32, satellites: [3, 7], fetchMs: 12.5, prefillMs: 40, ttftMs: 52.5, storedBlocks: 1, rejectedBlocks: 1
    })
  })

  it("a prompt cached whole leaves its last token to the model: the cache handed over is cut to one token less", async () => {
    const { kv, model, calls } = fakes(48)
    const turn = await cachedTurn(model, kv, prompt(48), { maxNewTokens: 1, store: false })
    expect(calls.generated).toEqual([{ past: 47, returnPast: false, stopAtEos: false }])
    expect(turn.cachedTokens).toBe(47)
    expect([calls.stored, turn.storedBlocks]).toEqual([[], 0])
  })

  it("a cold turn asks nothing of the tier but still stores every block", async () => {
    const { kv, model, calls } = fakes(32)
    const turn = await cachedTurn(model, kv, prompt(40), { maxNewTokens: 2, cold: true, stopAtEos: true })
    expect(calls.lookups).toBe(0)
    expect(calls.generated).toEqual([{ past: undefined, returnPast: true, stopAtEos: true }])
    expect(calls.stored.map((s) => [s.past, s.from])).toEqual([[41, 0]])
    expect(turn).toMatchObject({ cachedTokens: 0, fetchMs: 0, satellites: [], ttftMs: 40, storedBlocks: 2 })
  })
})
