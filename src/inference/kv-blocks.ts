/**
 * Between a model's KV cache and the protocol's blocks: block i holds tokens [iB, (i+1)B) of every
 * layer, K and V, laid out per layer [kvHeads, B, headDim] (what the codecs take). Only full blocks are
 * cut; joining blocks 0..n-1 gives back the cache of the first nB tokens exactly.
 */
import type { KvBlock } from "../cache/codecs.js"
import type { PastKv } from "./runner.js"

const sliceTokens = (a: Float32Array, kvHeads: number, tokens: number, headDim: number, from: number, count: number): Float32Array => {
  const out = new Float32Array(kvHeads * count * headDim)
  for (let h = 0; h < kvHeads; h++) out.set(a.subarray((h * tokens + from) * headDim, (h * tokens + from + count) * headDim), h * count * headDim)
  return out
}

export const splitIntoBlocks = (past: PastKv, blockTokens: number): Array<KvBlock> => {
  const blocks: Array<KvBlock> = []
  for (let start = 0; start + blockTokens <= past.tokens; start += blockTokens) {
    const cut = (a: Float32Array) => sliceTokens(a, past.kvHeads, past.tokens, past.headDim, start, blockTokens)
    blocks.push({ layers: past.layers, kvHeads: past.kvHeads, headDim: past.headDim, tokens: blockTokens, keys: past.keys.map(cut), values: past.values.map(cut) })
  }
  return blocks
}

export const joinBlocks = (blocks: ReadonlyArray<KvBlock>): PastKv => {
  if (blocks.length === 0) throw new RangeError("joinBlocks: no blocks")
  const { layers, kvHeads, headDim } = blocks[0]!
  for (const b of blocks) {
    if (b.layers !== layers || b.kvHeads !== kvHeads || b.headDim !== headDim) throw new RangeError("joinBlocks: blocks of different shapes")
  }
  const tokens = blocks.reduce((n, b) => n + b.tokens, 0)
  const join = (pick: (b: KvBlock) => ReadonlyArray<Float32Array>, l: number) => {
    const out = new Float32Array(kvHeads * tokens * headDim)
    let at = 0
    for (const b of blocks) {
      const src = pick(b)[l]!
      for (let h = 0; h < kvHeads; h++) out.set(src.subarray(h * b.tokens * headDim, (h + 1) * b.tokens * headDim), (h * tokens + at) * headDim)
      at += b.tokens
    }
    return out
  }
  return {
    layers, kvHeads, headDim, tokens,
    keys: Array.from({ length: layers }, (_, l) => join((b) => b.keys, l)),
    values: Array.from({ length: layers }, (_, l) => join((b) => b.values, l))
  }
}
