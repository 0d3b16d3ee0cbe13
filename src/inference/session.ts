/**
 * One inference turn with the constellation as the KV cache: look up the prompt's longest cached prefix
 * and fetch it (network time in virtual time), generate with it so only the rest is prefilled (compute
 * time measured), then store the new full blocks of prompt and answer. Time to first token is the sum:
 * the fetch happens before the prefill can start.
 */
import type { KvTier } from "./kv-tier.js"
import type { ModelPool } from "./model-pool.js"
import { truncatePast, usableCache } from "./runner.js"

export interface TurnReport {
  readonly promptTokens: number
  /** Tokens whose KV came from the constellation and was used (a whole prompt leaves its last token out). */
  readonly cachedTokens: number
  /** Distinct satellites that served the prefix. */
  readonly satellites: ReadonlyArray<number>
  /** Virtual network time of the lookup and fetch, ms. */
  readonly fetchMs: number
  /** Measured time to the first token of the model with the fetched cache, ms. */
  readonly prefillMs: number
  readonly ttftMs: number
  readonly tokens: ReadonlyArray<number>
  readonly firstLogits: Float32Array
  readonly storedBlocks: number
  readonly rejectedBlocks: number
}

export interface TurnOptions {
  readonly maxNewTokens: number
  /** Skip the lookup (a cold turn); the blocks are still stored. */
  readonly cold?: boolean
  /** Store the new blocks afterwards (default true). */
  readonly store?: boolean
  readonly stopAtEos?: boolean
}

export const cachedTurn = async (model: ModelPool, kv: KvTier, prompt: ReadonlyArray<number>, o: TurnOptions): Promise<TurnReport> => {
  const fetched = o.cold ? { tokens: 0, fetchMs: 0, satellites: [], rejectedBlocks: 0, past: undefined } : await kv.lookup(prompt)
  const use = usableCache(fetched.tokens, prompt.length)
  const past = fetched.past && use > 0 ? truncatePast(fetched.past, use) : undefined
  const gen = await model.generate(prompt, o.maxNewTokens, past, { returnPast: o.store !== false, stopAtEos: o.stopAtEos ?? false })
  // The compute took wall time; the constellation moves on by as much.
  await kv.advance(gen.totalMs / 1e3)
  let storedBlocks = 0
  if (o.store !== false && gen.past) {
    const sequence = [...prompt, ...gen.tokens]
    const have = Math.floor(fetched.tokens / kv.options.blockTokens)
    storedBlocks = (await kv.store(sequence, gen.past, have)).blocks
  }
  return {
    promptTokens: prompt.length,
    cachedTokens: use,
    satellites: fetched.satellites,
    fetchMs: fetched.fetchMs,
    prefillMs: gen.firstTokenMs,
    ttftMs: fetched.fetchMs + gen.firstTokenMs,
    tokens: gen.tokens,
    firstLogits: gen.firstLogits,
    storedBlocks,
    rejectedBlocks: fetched.rejectedBlocks
  }
}
