import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64"
import { ConstellationKvCache } from "./src/inference/constellation-kv.js"
import { streamRng } from "./src/runtime/random.js"
import { readTrace } from "./src/runtime/trace-file.js"
import { joinBlocks } from "./src/inference/kv-blocks.js"
const SHAPE = { layers: 2, kvHeads: 2, headDim: 16, tokens: 16 }
const truthOf = (key: number) => { const n = 2*16*16; const t = () => Float32Array.from({ length: n }, (_, i) => (key % 97 + i) / 1000); return { ...SHAPE, keys: [t(), t()], values: [t(), t()] } }
const trace = readTrace("data/traces/mooncake-conversation.jsonl.gz", { limit: 300 })
const kv = ConstellationKvCache.make({ preset: "starlink-shell1", seed: 1, strategy: "hop_rotation", blockTokens: 16, chunkBytes: 512, codec: "fp16", redundancy: 2, namespace: { modelId: "chaos", tenantSalt: "t" }, faults: { bitErrorRate: 0, lossRate: 0 } })
const rng = streamRng(1, -5)
const t0 = trace.requests[0]!.timestamp
let nextCrash = 5
for (const req of trace.requests) {
  const at = (req.timestamp - t0) / 1000
  for (; nextCrash <= at; nextCrash += 5) { const s = Math.floor(uniformFloat64(rng) * 1584); kv.crash([s], 60) }
  if (at > kv.live.now) kv.advance(at - kv.live.now)
  const tokens = req.hash_ids.flatMap((h) => Array.from({ length: 16 }, (_, i) => (h * 16 + i) % 1_000_003))
  const keys = kv.keysOf(tokens)
  const got = kv.lookup(tokens)
  if (at > 56) console.log("REQ", at, kv.live.now.toFixed(3), "k1", keys[1], got.tokens / 16, "/", keys.length)
  if (got.tokens / 16 < keys.length) kv.store(tokens, joinBlocks(keys.map(truthOf)), got.tokens / 16)
  if (at > 63) break
}
