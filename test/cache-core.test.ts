import { crc32 } from "node:zlib"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { blockBytes, bytesPerToken, chunk, chunkCount, qwen05bShape, unchunk } from "../src/cache/chunking.js"
import { type CodecName, codecNames, decodeBlock, encodeBlock, encodedBlockBytes, type KvBlock } from "../src/cache/codecs.js"
import { frameChunk, openFrame, seal, verify } from "../src/cache/integrity.js"
import { badShareChunks, bytesToShares, sharesToBytes } from "../src/inference/kv-transfer.js"
import { blockKeys, type KeyNamespace, namedValueKey, tracedBlockKey } from "../src/cache/keys.js"
import { KeyIndex } from "../src/cache/key-index.js"
import { ChunkStore } from "../src/cache/store.js"
import { makeRunConfig } from "../src/actors/config.js"
import { replayBlockBytes } from "../src/actors/registry.js"
import { lcg } from "./support/lcg.js"
import { uniform } from "./support/uniform.js"

const ns = { modelId: "tiny", tenantSalt: "tenant-a" }

describe("block keys", () => {
  it("chain: a key stands for its whole prefix; only full blocks get keys", () => {
    const a = blockKeys([1, 2, 3, 4, 5, 6, 7], 2, ns)
    const b = blockKeys([1, 2, 3, 4, 9, 9], 2, ns)
    expect(a).toHaveLength(3)
    expect(b[0]).toBe(a[0])
    expect(b[1]).toBe(a[1])
    expect(b[2]).not.toBe(a[2])
    // Same block tokens after a different prefix: different key.
    expect(blockKeys([9, 9, 3, 4], 2, ns)[1]).not.toBe(a[1])
    for (const k of a) expect(Number.isSafeInteger(k)).toBe(true)
  })

  it("any one token changed changes its block's key and every key after it, none before (fast-check)", () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 0, max: 150_000 }), { minLength: 1, maxLength: 64 }), fc.integer({ min: 1, max: 8 }), fc.nat(), fc.integer({ min: 1, max: 1000 }),
      (tokens, B, at, delta) => {
        const p = at % tokens.length
        const changed = tokens.map((t, i) => (i === p ? t + delta : t))
        const [a, b] = [blockKeys(tokens, B, ns), blockKeys(changed, B, ns)]
        expect(a).toHaveLength(Math.floor(tokens.length / B))
        a.forEach((k, j) => (j < Math.floor(p / B) ? expect(b[j]).toBe(k) : expect(b[j]).not.toBe(k)))
      }
    ))
    expect(() => blockKeys([1, 2, 3], 1.5, ns)).toThrow(/^blockTokens must be a positive integer, got 1.5$/)
  })

  it("take 52 bits of the digest: safe integers that fill the range", () => {
    const keys = blockKeys(Array.from({ length: 2000 }, (_, i) => i), 1, ns)
    expect(keys.every((k) => Number.isSafeInteger(k) && k >= 0 && k < 2 ** 52)).toBe(true)
    // Uniform over 2^52: about 15/16 of them over 2^48.
    expect(keys.filter((k) => k >= 2 ** 48).length).toBeGreaterThan(1800)
  })

  it("are salted per tenant and per model, named values and trace ids too", () => {
    const t = [5, 6, 7, 8]
    const a = blockKeys(t, 2, ns)
    expect(blockKeys(t, 2, { ...ns, tenantSalt: "tenant-b" })).not.toEqual(expect.arrayContaining([a[0]]))
    expect(blockKeys(t, 2, { ...ns, modelId: "other" })[0]).not.toBe(a[0])
    const name = Buffer.from("lmcache:chunk:0")
    for (const keyOf of [(n: KeyNamespace) => namedValueKey(name, n), (n: KeyNamespace) => tracedBlockKey(42, n)]) {
      const keys = [ns, { ...ns, tenantSalt: "tenant-b" }, { ...ns, modelId: "other" }].map(keyOf)
      expect(new Set(keys).size).toBe(3)
      expect(keyOf({ ...ns })).toBe(keys[0])
    }
  })
})

describe("chunks", () => {
  it("the paper's chunk is one token of Qwen2.5-0.5B at fp16", () => {
    expect(bytesPerToken(qwen05bShape)).toBe(12_288)
    expect(blockBytes(qwen05bShape, 16)).toBe(16 * 12_288)
    expect(chunkCount(blockBytes(qwen05bShape, 16), 12_288)).toBe(16)
    expect(() => chunkCount(10, 0)).toThrow(RangeError)
  })

  it("chunk and unchunk are inverse; sealed shares hold chunk c in share c mod S and give the bytes back", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 1, max: 700 }), fc.integer({ min: 1, max: 81 }), (bytes, C, S) => {
      const cs = chunk(bytes, C)
      expect(cs).toHaveLength(chunkCount(bytes.length, C))
      // Whole chunks of C bytes, then one shorter but never empty.
      cs.forEach((c, i) => expect(c.length).toBe(i < cs.length - 1 ? C : bytes.length - C * (cs.length - 1)))
      expect(cs.every((c) => c.length > 0)).toBe(true)
      expect(unchunk(cs)).toEqual(bytes)
      const shares = bytesToShares(bytes, 7, { chunkBytes: C, servers: S })
      expect(shares).toHaveLength(S)
      shares.forEach((share, k) => share.forEach((framed, j) => expect(openFrame(framed, 7, k + j * S).bytes).toEqual(cs[k + j * S])))
      expect(sharesToBytes(shares, 7)).toEqual({ ok: true, bytes })
    }))
  })

  it("with a tenant key, shares that drop a block's trailing chunks fail; each honest share passes alone", () => {
    const authKey = new Uint8Array(32).fill(3)
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 3000 }), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 9 }), fc.nat(), (bytes, C, S, cut) => {
      const shares = bytesToShares(bytes, 7, { chunkBytes: C, servers: S, authKey })
      const n = chunkCount(bytes.length, C)
      expect(sharesToBytes(shares, 7, authKey)).toEqual({ ok: true, bytes })
      expect(shares.map((share, k) => badShareChunks(share, k, S, 7, authKey))).toEqual(new Array(S).fill(0))
      // The last `drop` chunks withheld (1 <= drop < n): what is left is every chunk up to n - drop, no gap.
      if (n < 2) return
      const drop = 1 + (cut % (n - 1))
      const kept = shares.map((share, k) => share.filter((_, j) => k + j * S < n - drop))
      expect(sharesToBytes(kept, 7, authKey)).toEqual({ ok: false, verdict: "forged", chunk: n - drop - 1 })
    }))
  })

  it("with a tenant key, a value written again under one key reads back only whole: any share of the older write fails its tag", () => {
    const authKey = new Uint8Array(32).fill(5)
    const twoValues = fc.integer({ min: 1, max: 3000 }).chain((n) => fc.tuple(fc.uint8Array({ minLength: n, maxLength: n }), fc.uint8Array({ minLength: n, maxLength: n })))
    fc.assert(fc.property(twoValues, fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 9 }), fc.nat(), (values, C, S, pick) => {
      const [older, newer] = values.map((v, w) => bytesToShares(v, { key: 7, write: w + 1 }, { chunkBytes: C, servers: S, authKey }))
      expect(sharesToBytes(newer!, { key: 7, write: 2 }, authKey)).toEqual({ ok: true, bytes: values[1] })
      expect(sharesToBytes(older!, { key: 7, write: 1 }, authKey)).toEqual({ ok: true, bytes: values[0] })
      // The older write's shares where a put of the newer was lost (any non-empty set of the shares holding chunks).
      const held = newer!.filter((s) => s.length > 0).length
      const stale = 1 + (pick % (2 ** held - 1))
      const mixed = newer!.map((share, k) => (stale & (1 << k) ? older![k]! : share))
      const first = Math.min(...mixed.map((share, k) => (share === older![k] && share.length > 0 ? k : Infinity)))
      expect(sharesToBytes(mixed, { key: 7, write: 2 }, authKey)).toEqual({ ok: false, verdict: "forged", chunk: first })
      expect(sharesToBytes(older!, { key: 7, write: 2 }, authKey)).toMatchObject({ ok: false, verdict: "forged" })
      // A plain key is write 0: a KV block's chunks are what they always were.
      expect(sharesToBytes(bytesToShares(values[0]!, 7, { chunkBytes: C, servers: S, authKey }), { key: 7, write: 0 }, authKey)).toEqual({ ok: true, bytes: values[0] })
    }))
  })
})

/** Encode, decode and compare: what a codec costs on a block (compression against fp32's encoding). */
const codecReport = (b: KvBlock, codec: CodecName) => {
  const enc = encodeBlock(b, codec)
  const dec = decodeBlock(enc)
  let maxAbsError = 0
  for (let l = 0; l < b.layers; l++) {
    for (const [a, c] of [[b.keys[l]!, dec.keys[l]!], [b.values[l]!, dec.values[l]!]] as const) {
      for (let i = 0; i < a.length; i++) maxAbsError = Math.max(maxAbsError, Math.abs(a[i]! - c[i]!))
    }
  }
  return { compression: encodeBlock(b, "fp32").length / enc.length, maxAbsError }
}

const randomBlock = (seed: number, layers = 2, kvHeads = 2, headDim = 64, tokens = 16): KvBlock => {
  const next = lcg(seed)
  const rnd = () => next() * 2 - 1
  const n = kvHeads * tokens * headDim
  const gen = () => Float32Array.from({ length: n }, (_, i) => rnd() * (i % headDim === 3 ? 8 : 1))
  return { layers, kvHeads, headDim, tokens, keys: Array.from({ length: layers }, gen), values: Array.from({ length: layers }, gen) }
}

describe("codecs", () => {
  it("fp32 is exact, fp16 within half-precision error, int8 within one quantization step", () => {
    fc.assert(fc.property(fc.nat(), (seed) => {
      const b = randomBlock(seed)
      const fp32 = codecReport(b, "fp32")
      const fp16 = codecReport(b, "fp16")
      const int8 = codecReport(b, "int8")
      expect(fp32.maxAbsError).toBe(0)
      expect(fp16.maxAbsError).toBeLessThan(8 * 2 ** -11)
      // Largest range is 16 (channel 3 of keys), step 16/255 (fp16 scale rounded up: + 2^-10 relative);
      // rounding error is at most half a step.
      expect(int8.maxAbsError).toBeLessThanOrEqual((16 / 255 / 2) * (1 + 2 ** -10) + 1e-6)
      expect(fp16.compression).toBeGreaterThan(1.99)
      expect(int8.compression).toBeGreaterThan(3.4)
      expect(codecReport(randomBlock(seed, 1, 2, 64, 512), "int8").compression).toBeGreaterThan(3.85)
    }), { numRuns: 30 })
  })

  it("a decoded block keeps its shape and codec; corrupt headers are rejected", () => {
    const b = randomBlock(7, 3, 2, 8, 5)
    for (const codec of ["fp32", "fp16", "int8"] as Array<CodecName>) {
      const d = decodeBlock(encodeBlock(b, codec))
      expect(d).toMatchObject({ layers: 3, kvHeads: 2, headDim: 8, tokens: 5, codec })
      expect(d.keys).toHaveLength(3)
    }
    const enc = encodeBlock(b, "fp16")
    expect(() => decodeBlock(enc.subarray(0, enc.length - 1))).toThrow(/header says/)
    const bad = enc.slice()
    bad[0] = 0
    expect(() => decodeBlock(bad)).toThrow(/bad magic/)
    const unknown = enc.slice()
    unknown[3] = 9
    expect(() => decodeBlock(unknown)).toThrow(/^unknown codec id 9$/)
    expect(() => encodeBlock({ ...b, values: [b.values[0]!.subarray(1), ...b.values.slice(1)] }, "int8")).toThrow(/^layer 0 values: expected 80 values, got 79$/)
  })

  it("encodedBlockBytes is the length encodeBlock writes; a replay's int8 block is what int8 makes of a Qwen2.5-0.5B block of its tokens", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 40 }), (layers, kvHeads, headDim, tokens) => {
      const b = randomBlock(layers * 1000 + tokens, layers, kvHeads, headDim, tokens)
      for (const codec of codecNames) expect(encodedBlockBytes(codec, b)).toBe(encodeBlock(b, codec).length)
    }), { numRuns: 50 })
    const config = makeRunConfig()
    const qwen = randomBlock(3, qwen05bShape.layers, qwen05bShape.kvHeads, qwen05bShape.headDim, config.replay.blockTokens)
    // The fp16 size is the model's own (its header aside); int8's is the codec's, within a header's rounding.
    expect(replayBlockBytes(config)).toBe(encodeBlock(qwen, "fp16").length - 16)
    const int8 = replayBlockBytes(makeRunConfig({ replay: { ...config.replay, codec: "int8" } }))
    expect(Math.abs(int8 - encodeBlock(qwen, "int8").length)).toBeLessThan(16)
  })

  it("int8 keeps every value within half a step of its own group (keys per channel, values per token), however narrow or negative its range", () => {
    const [H, T, D] = [2, 5, 8]
    fc.assert(fc.property(fc.oneof(uniform(-8, 8), fc.double({ min: -8, max: 8, noNaN: true })), fc.double({ min: 1e-6, max: 1e-2, noNaN: true }), fc.nat(), (centre, spread, seed) => {
      const rnd = lcg(seed)
      const tensor = () => Float32Array.from({ length: H * T * D }, () => centre + rnd() * spread)
      const b: KvBlock = { layers: 1, kvHeads: H, headDim: D, tokens: T, keys: [tensor()], values: [tensor()] }
      const d = decodeBlock(encodeBlock(b, "int8"))
      for (const [x, y, groupOf] of [
        [b.keys[0]!, d.keys[0]!, (i: number) => Math.floor(i / (T * D)) * D + (i % D)],
        [b.values[0]!, d.values[0]!, (i: number) => Math.floor(i / D)]
      ] as const) {
        const lo = new Map<number, number>(), hi = new Map<number, number>()
        x.forEach((v, i) => {
          const g = groupOf(i)
          lo.set(g, Math.min(lo.get(g) ?? v, v))
          hi.set(g, Math.max(hi.get(g) ?? v, v))
        })
        x.forEach((v, i) => {
          const g = groupOf(i)
          // A step is the range over 255 rounded up to an fp16 (at least its least subnormal, 2^-24), the
          // minimum one fp16 ulp below the lowest value at most.
          const step = ((hi.get(g)! - lo.get(g)! + Math.abs(lo.get(g)!) * 2 ** -10 + 2 ** -24) / 255) * (1 + 2 ** -10) + 2 ** -24
          expect(Math.abs(y[i]! - v)).toBeLessThanOrEqual(step / 2 + 1e-7 * Math.abs(v))
        })
      }
    }), { numRuns: 200 })
  })
})

describe("integrity", () => {
  it("any flipped bit is detected; a forged or replayed chunk is detected with a tenant key", () => {
    const key = new Uint8Array(32).fill(7)
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (bytes, at, bit) => {
      const e = seal(42, 3, bytes, key)
      expect(verify(e, 42, 3, key)).toBe("ok")
      const flipped = bytes.slice()
      flipped[at % bytes.length]! ^= 1 << bit
      expect(verify({ ...e, bytes: flipped }, 42, 3, key)).toBe("corrupted")
      // A forger who fixes the CRC still cannot produce the tag.
      expect(verify(seal(42, 3, flipped, new Uint8Array(32).fill(8)), 42, 3, key)).toBe("forged")
      expect(verify({ bytes: flipped, crc: crc32(flipped), tag: e.tag! }, 42, 3, key)).toBe("forged")
      // Replaying another block's (valid) chunk, or another index's; or the chunk with its tag stripped.
      expect(verify(e, 43, 3, key)).toBe("forged")
      expect(verify(e, 42, 4, key)).toBe("forged")
      expect(verify({ bytes: e.bytes, crc: e.crc }, 42, 3, key)).toBe("forged")
    }), { numRuns: 200 })
  })

  it("a frame is read whole: a tag length past its end is corrupted, and only a good frame gives bytes back", () => {
    // CRC field 0 is the CRC of no bytes: a reader taking the tag length on trust would find an empty, intact chunk.
    const short = Uint8Array.of(0, 0, 0, 0, 200, 1, 2, 3, 4, 5)
    expect(openFrame(short, 0, 0)).toEqual({ verdict: "corrupted" })
    const framed = frameChunk(9, 1, Uint8Array.of(5, 6, 7))
    expect(openFrame(framed, 9, 1)).toEqual({ verdict: "ok", bytes: Uint8Array.of(5, 6, 7) })
    framed[framed.length - 1]! ^= 1
    expect(openFrame(framed, 9, 1)).toEqual({ verdict: "corrupted" })
  })
})

describe("chunk store", () => {
  it("never exceeds capacity; a get after a put returns it while it is stored", () => {
    fc.assert(fc.property(
      fc.constantFrom("lru" as const, "slru" as const),
      fc.array(fc.record({ op: fc.constantFrom("put", "get", "pin"), key: fc.integer({ min: 0, max: 30 }), bytes: fc.integer({ min: 1, max: 400 }) }), { minLength: 50, maxLength: 300 }),
      (policy, ops) => {
        const s = new ChunkStore<number>({ capacityBytes: 1000, policy })
        const model = new Map<number, number>()
        const pinned = new Set<number>()
        for (const o of ops) {
          if (o.op === "put") {
            if (s.put(o.key, o.bytes, o.bytes * 3)) model.set(o.key, o.bytes)
            // A put that does not fit drops the old entry, unless it is pinned (pins survive everything).
            else if (!pinned.has(o.key)) model.delete(o.key)
          } else if (o.op === "pin") {
            if (s.pin(o.key)) pinned.add(o.key)
          } else {
            const r = s.read(o.key)
            if (r) expect(r).toEqual({ bytes: model.get(o.key), payload: model.get(o.key)! * 3 })
          }
          expect(s.usedBytes).toBeLessThanOrEqual(1000)
          expect(s.usedBytes).toBe(s.keys().reduce((n, k) => n + (model.get(k) ?? Number.NaN), 0))
        }
      }
    ))
  })

  it("lru evicts exactly the least recently used unpinned entry (reads refresh recency), against a reference model", () => {
    // The model: unpinned entries in recency order (front = least recent), pinned ones apart.
    fc.assert(fc.property(
      fc.array(fc.record({ op: fc.constantFrom("put", "put", "read", "read", "pin", "unpin", "delete"), key: fc.integer({ min: 0, max: 12 }), bytes: fc.integer({ min: 1, max: 300 }) }), { minLength: 50, maxLength: 400 }),
      (ops) => {
        const cap = 1000
        const s = new ChunkStore<undefined>({ capacityBytes: cap, policy: "lru" })
        let order: Array<{ key: number; bytes: number }> = []
        const pinned = new Map<number, number>()
        const used = () => order.reduce((n, e) => n + e.bytes, 0) + [...pinned.values()].reduce((n, b) => n + b, 0)
        let evictions = 0
        for (const o of ops) {
          const at = order.findIndex((e) => e.key === o.key)
          if (o.op === "read") {
            const r = s.read(o.key)
            expect(r?.bytes).toBe(pinned.get(o.key) ?? (at >= 0 ? order[at]!.bytes : undefined))
            if (at >= 0) order.push(...order.splice(at, 1))
          } else if (o.op === "put") {
            let fits: boolean
            if (pinned.has(o.key)) {
              fits = o.bytes - pinned.get(o.key)! <= cap - used()
              if (fits) pinned.set(o.key, o.bytes)
            } else {
              if (at >= 0) order.splice(at, 1)
              fits = o.bytes <= cap - [...pinned.values()].reduce((n, b) => n + b, 0)
              if (fits) {
                while (used() + o.bytes > cap) {
                  order.shift()
                  evictions++
                }
                order.push({ key: o.key, bytes: o.bytes })
              }
            }
            expect(s.put(o.key, o.bytes)).toBe(fits)
          } else if (o.op === "pin") {
            expect(s.pin(o.key)).toBe(at >= 0 || pinned.has(o.key))
            if (at >= 0) pinned.set(o.key, order.splice(at, 1)[0]!.bytes)
          } else if (o.op === "unpin") {
            s.unpin(o.key)
            if (pinned.has(o.key)) {
              order.push({ key: o.key, bytes: pinned.get(o.key)! })
              pinned.delete(o.key)
            }
          } else {
            expect(s.delete(o.key)).toBe(at >= 0 || pinned.has(o.key))
            order = order.filter((e) => e.key !== o.key)
            pinned.delete(o.key)
          }
          // Same entries, same sizes, same eviction count: the right victim every time.
          expect(new Set(s.keys())).toEqual(new Set([...order.map((e) => e.key), ...pinned.keys()]))
          expect(s.usedBytes).toBe(used())
          expect(s.evictions).toBe(evictions)
        }
      }
    ), { numRuns: 300 })
  })

  it("slru keeps probation, protected and pinned exactly as the reference model does: promotion on a second use, demotion past the protected share, victims from probation first", () => {
    // The model: each segment's keys oldest first (keys() lists pinned, protected, probation in that order).
    type Item = { key: number; bytes: number }
    fc.assert(fc.property(
      // undefined: the store's default protected share, 80% of the capacity.
      fc.constantFrom(0.3, 0.5, undefined),
      fc.array(fc.record({ op: fc.constantFrom("put", "put", "read", "read", "read", "pin", "unpin", "delete"), key: fc.integer({ min: 0, max: 12 }), bytes: fc.integer({ min: 1, max: 300 }) }), { minLength: 50, maxLength: 400 }),
      (protectedShare, ops) => {
        const cap = 1000
        const share = protectedShare ?? 0.8
        const s = new ChunkStore<undefined>({ capacityBytes: cap, policy: "slru", ...(protectedShare === undefined ? {} : { protectedShare }) })
        let probation: Array<Item> = [], protectedSeg: Array<Item> = [], pinned: Array<Item> = []
        let evictions = 0
        const bytesOf = (seg: Array<Item>) => seg.reduce((n, e) => n + e.bytes, 0)
        const used = () => bytesOf(probation) + bytesOf(protectedSeg) + bytesOf(pinned)
        const take = (seg: Array<Item>, key: number) => {
          const at = seg.findIndex((e) => e.key === key)
          return at < 0 ? undefined : seg.splice(at, 1)[0]!
        }
        for (const o of ops) {
          if (o.op === "read") {
            const p = pinned.find((e) => e.key === o.key)
            const hot = p === undefined ? take(protectedSeg, o.key) : undefined
            const cold = p === undefined && hot === undefined ? take(probation, o.key) : undefined
            expect(s.read(o.key)?.bytes).toBe((p ?? hot ?? cold)?.bytes)
            if (hot) protectedSeg.push(hot)
            if (cold) {
              protectedSeg.push(cold)
              while (bytesOf(protectedSeg) > share * cap && protectedSeg.length > 0) probation.push(protectedSeg.shift()!)
            }
          } else if (o.op === "put") {
            const p = pinned.find((e) => e.key === o.key)
            let fits: boolean
            if (p !== undefined) {
              fits = o.bytes - p.bytes <= cap - used()
              if (fits) p.bytes = o.bytes
            } else {
              take(probation, o.key) ?? take(protectedSeg, o.key)
              fits = o.bytes <= cap - bytesOf(pinned)
              if (fits) {
                while (used() + o.bytes > cap) {
                  ;(probation.length > 0 ? probation : protectedSeg).shift()
                  evictions++
                }
                probation.push({ key: o.key, bytes: o.bytes })
              }
            }
            expect(s.put(o.key, o.bytes)).toBe(fits)
          } else if (o.op === "pin") {
            const e = pinned.some((x) => x.key === o.key) ? undefined : take(probation, o.key) ?? take(protectedSeg, o.key)
            expect(s.pin(o.key)).toBe(e !== undefined || pinned.some((x) => x.key === o.key))
            if (e) pinned.push(e)
          } else if (o.op === "unpin") {
            s.unpin(o.key)
            const e = take(pinned, o.key)
            if (e) probation.push(e)
          } else {
            const e = take(pinned, o.key) ?? take(protectedSeg, o.key) ?? take(probation, o.key)
            expect(s.delete(o.key)).toBe(e !== undefined)
          }
          expect(s.keys()).toEqual([...pinned, ...protectedSeg, ...probation].map((e) => e.key))
          expect(s.usedBytes).toBe(used())
          expect(s.evictions).toBe(evictions)
        }
      }
    ), { numRuns: 300 })
  })

  it("the key index agrees with a Map through adds and deletes of digest-sized keys", () => {
    // Few distinct keys (so deletes hit), spread over 52 bits or clustered, so probe runs wrap and shift.
    const key = fc.oneof(fc.integer({ min: 0, max: 40 }).map((k) => k * 2 ** 40 + 7), fc.integer({ min: 0, max: 40 }), fc.constantFrom(2 ** 52 - 1, 2 ** 32, 4294967295))
    fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), key), { minLength: 20, maxLength: 400 }), (ops) => {
      const index = new KeyIndex()
      const model = new Map<number, number>()
      ops.forEach(([add, k], slot) => {
        if (add && !model.has(k)) {
          index.add(k, slot)
          model.set(k, slot)
        } else if (!add) {
          expect(index.delete(k)).toBe(model.get(k) ?? -1)
          model.delete(k)
        }
        expect(index.size).toBe(model.size)
        expect(index.get(k)).toBe(model.get(k) ?? -1)
        for (const [mk, ms] of model) expect(index.get(mk)).toBe(ms)
      })
    }), { numRuns: 300 })
  })

  it("take leaves the store exactly as read then delete would, in both policies", () => {
    fc.assert(fc.property(
      fc.constantFrom("lru" as const, "slru" as const),
      fc.array(fc.record({ op: fc.constantFrom("put", "put", "read", "take", "take", "pin", "unpin"), key: fc.integer({ min: 0, max: 12 }), bytes: fc.integer({ min: 1, max: 300 }) }), { minLength: 50, maxLength: 300 }),
      (policy, ops) => {
        const taking = new ChunkStore<number>({ capacityBytes: 1000, policy, protectedShare: 0.5 })
        const reading = new ChunkStore<number>({ capacityBytes: 1000, policy, protectedShare: 0.5 })
        for (const o of ops) {
          if (o.op === "take") {
            const r = reading.read(o.key)
            if (r !== undefined) reading.delete(o.key)
            expect(taking.take(o.key)).toEqual(r)
          } else if (o.op === "put") expect(taking.put(o.key, o.bytes, o.key)).toBe(reading.put(o.key, o.bytes, o.key))
          else if (o.op === "read") expect(taking.read(o.key)).toEqual(reading.read(o.key))
          else if (o.op === "pin") expect(taking.pin(o.key)).toBe(reading.pin(o.key))
          else {
            taking.unpin(o.key)
            reading.unpin(o.key)
          }
          // keys() lists each segment in recency order: the same order, so the same victims from here on.
          expect(taking.keys()).toEqual(reading.keys())
          expect(taking.usedBytes).toBe(reading.usedBytes)
          expect(taking.evictions).toBe(reading.evictions)
        }
      }
    ), { numRuns: 300 })
  })

  it("slru keeps a reused prefix through a scan that flushes lru; pinned chunks survive everything", () => {
    const run = (policy: "lru" | "slru") => {
      const s = new ChunkStore({ capacityBytes: 10, policy })
      s.put(1, 1)
      s.get(1)
      for (let k = 100; k < 130; k++) s.put(k, 1)
      return s.has(1)
    }
    expect(run("lru")).toBe(false)
    expect(run("slru")).toBe(true)
    const s = new ChunkStore({ capacityBytes: 5 })
    s.put(7, 2)
    s.pin(7)
    for (let k = 0; k < 50; k++) s.put(k + 100, 1)
    expect(s.has(7)).toBe(true)
    expect(s.put(999, 4)).toBe(false)
  })
})
