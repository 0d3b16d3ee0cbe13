/**
 * Named values in the constellation (what the Redis front end stores): a value puts only the shares that
 * hold chunks (sparse), and lookups of many values run as one job whose keys settle one by one; a longer
 * clock step (the front end's at speed max) takes fewer rounds and leaves each job's own figures as they were.
 */
import { randomBytes } from "node:crypto"
import { describe, expect, it } from "vitest"
import { ConstellationKvCache } from "../src/actors/constellation-kv.js"

const make = (strategy = "hop_rotation") =>
  ConstellationKvCache.make({
    preset: "paper-19x5", strategy, servers: 9, chunkBytes: 256, namespace: { modelId: "values", tenantSalt: "" },
    faults: { bitErrorRate: 0, lossRate: 0 } // crashes allowed, nothing else injected
  })

/** Satellites holding a share of `key` (their stores, read directly). */
const holders = (kv: ConstellationKvCache, key: number): Array<number> => {
  const out: Array<number> = []
  for (let sat = 0; sat < kv.world.satellites; sat++) {
    const state = kv.engine.stateOf(sat) as { store?: { has(k: number): boolean } }
    if (state.store?.has(key)) out.push(sat)
  }
  return out
}

/**
 * Three values under `keys`: one chunk (share 0), two chunks (shares 0 and 1), one chunk; and the one
 * satellite that holds only the middle value's share 1 (crash it and only that value is hit).
 */
const threeValues = async (kv: ConstellationKvCache, keys: [number, number, number]) => {
  const values = [randomBytes(100), randomBytes(400), randomBytes(100)]
  await kv.storeValues(keys, values)
  const lost = holders(kv, keys[1]).filter((s) => !holders(kv, keys[0]).includes(s))
  expect(lost).toHaveLength(1)
  expect(holders(kv, keys[2])).not.toContain(lost[0])
  return { values, lost }
}

describe("named values", () => {
  it("a value puts only the shares that hold chunks: 1 chunk on 1 satellite, 3 on 3, 20 on all 9", async () => {
    const kv = make()
    const sizes = [100, 700, 20 * 256]
    const values = sizes.map((n) => randomBytes(n))
    const keys = [11, 12, 13]
    const r = await kv.storeValues(keys, values)
    // The encoded value is the bytes as given; 256-byte chunks: 1, 3 and 20 chunks (20 > S = 9).
    expect(keys.map((k) => holders(kv, k).length)).toEqual([1, 3, 9])
    expect(r.satellites.length).toBe(new Set(keys.flatMap((k) => holders(kv, k))).size)
    for (let j = 0; j < keys.length; j++) expect(Buffer.from((await kv.lookupValue(keys[j]!)).bytes!)).toEqual(values[j])
    await kv.close()
  })

  it("lookups asked together are one job; each key comes back on its own: hits exact, unknown keys miss", async () => {
    const kv = make()
    const values = Array.from({ length: 12 }, (_, j) => randomBytes(50 + 300 * j))
    const keys = values.map((_, j) => 100 + j)
    await kv.storeValues(keys, values)
    const lookupsBefore = kv.engine.metrics.counters.get("inferenceLookups") ?? 0
    const asked = [...keys, 999, 998]
    const got = await Promise.all(asked.map((k) => kv.lookupValue(k)))
    for (let j = 0; j < keys.length; j++) expect(Buffer.from(got[j]!.bytes!)).toEqual(values[j])
    expect(got.slice(keys.length).map((g) => g.bytes)).toEqual([undefined, undefined])
    // One job for all 14 keys (counted per key), and every key settled at its own time.
    expect((kv.engine.metrics.counters.get("inferenceLookups") ?? 0) - lookupsBefore).toBe(asked.length)
    for (const g of got) expect(g.finishedAt).toBeCloseTo(g.fetchMs / 1e3 + (got[0]!.finishedAt - got[0]!.fetchMs / 1e3), 9)
    await kv.close()
  })

  it("a key written again reads as its last write or misses, never as a mix of two: shares an older write left where puts were lost fail their tags", async () => {
    // The cache's own key too: the inference actor can check a value's CRCs only (only the reader knows its write).
    const authKey = Buffer.alloc(32, 9)
    const kv = ConstellationKvCache.make({
      preset: "paper-19x5", strategy: "hop_rotation", servers: 9, chunkBytes: 256, namespace: { modelId: "values", tenantSalt: "" }, authKey,
      faults: { bitErrorRate: 0, lossRate: 0.3 }
    })
    const keys = Array.from({ length: 60 }, (_, j) => 1000 + j)
    const [older, newer] = [0, 1].map(() => keys.map(() => randomBytes(2 * 9 * 256)))
    await kv.storeValues(keys.map((key) => ({ key, write: 1 })), older!)
    await kv.storeValues(keys.map((key) => ({ key, write: 2 })), newer!)
    const got = await Promise.all(keys.map((key) => kv.lookupValue({ key, write: 2 })))
    got.forEach((g, j) => { if (g.bytes !== undefined) expect(Buffer.from(g.bytes)).toEqual(newer![j]) })
    // Losses alone corrupt nothing: a chunk that failed a check here is one of the older write's.
    const caught = got.filter((g) => g.bytes === undefined && g.badChunks > 0).length
    expect(caught).toBeGreaterThan(0)
    expect(got.filter((g) => g.bytes !== undefined).length).toBeGreaterThan(5)
    await kv.close()
  })

  it("a value whose satellite is down misses alone, after its timeout; the others in its job are served before", async () => {
    const kv = make()
    const keys: [number, number, number] = [21, 22, 23]
    const { values, lost } = await threeValues(kv, keys)
    await kv.crash(lost, 3600)
    const got = await Promise.all(keys.map((k) => kv.lookupValue(k)))
    expect(Buffer.from(got[0]!.bytes!)).toEqual(values[0])
    expect(got[1]!.bytes).toBeUndefined()
    expect(Buffer.from(got[2]!.bytes!)).toEqual(values[2])
    expect(got[1]!.fetchMs).toBeGreaterThan(1000) // waited out its deadline (2 s, asked again)
    expect(Math.max(got[0]!.fetchMs, got[2]!.fetchMs)).toBeLessThan(100)
    await kv.close()
  })

  it("a value whose share was lost (its satellite rebooted empty) misses at once, alone", async () => {
    const kv = make()
    const keys: [number, number, number] = [41, 42, 43]
    const { lost } = await threeValues(kv, keys)
    await kv.crash(lost, 0.001)
    await kv.advance(0.01)
    expect(holders(kv, 42)).not.toContain(lost[0])
    const got = await Promise.all(keys.map((k) => kv.lookupValue(k)))
    expect(got.map((g) => g.bytes === undefined)).toEqual([false, true, false])
    // Its satellite answered "not held": no deadline to wait out.
    expect(got[1]!.fetchMs).toBeLessThan(100)
    await kv.close()
  })

  it("sparse values follow the writer's handovers: only their held shares move, and they read back exactly", async () => {
    const kv = make("hop_rotation")
    const values = [randomBytes(100), randomBytes(700), randomBytes(4000)]
    const keys = [31, 32, 33]
    await kv.storeValues(keys, values)
    const before = keys.map((k) => holders(kv, k))
    await kv.advance(900)
    const c = kv.engine.metrics.counters
    expect(c.get("migrationBytes") ?? 0).toBeGreaterThan(0)
    const after = keys.map((k) => holders(kv, k))
    expect(after.map((h) => h.length)).toEqual(before.map((h) => h.length))
    expect(after).not.toEqual(before)
    // An order to move a share that was never put would be answered ShareGone.
    expect(c.get("sharesGone") ?? 0).toBe(0)
    for (let j = 0; j < keys.length; j++) expect(Buffer.from((await kv.lookupValue(keys[j]!)).bytes!)).toEqual(values[j])
    await kv.close()
  })

  it("a longer clock step finishes lookups in fewer windows, with the same bytes and each job's own fetch time", async () => {
    const values = Array.from({ length: 20 }, (_, i) => randomBytes(50 + 40 * i))
    const keys = values.map((_, i) => 101 + i)
    const script = async (stepSeconds?: number) => {
      const kv = ConstellationKvCache.make({ preset: "paper-19x5", strategy: "hop_rotation", servers: 9, chunkBytes: 256, namespace: { modelId: "values", tenantSalt: "" }, ...(stepSeconds ? { stepSeconds } : {}) })
      await kv.storeValues(keys, values)
      const windows = kv.engine.metrics.windows
      const got = await Promise.all(keys.map((k) => kv.lookupValue(k)))
      const r = { windows: kv.engine.metrics.windows - windows, got, now: kv.now }
      await kv.close()
      return r
    }
    const [fine, coarse] = [await script(), await script(8e-3)]
    expect(coarse.got.map((r) => r.bytes && Buffer.from(r.bytes))).toEqual(values)
    expect(fine.got.map((r) => r.bytes && Buffer.from(r.bytes))).toEqual(values)
    // The jobs start a few ms apart in virtual time (the satellites move metres): the same fetch times to a microsecond.
    coarse.got.forEach((r, j) => expect(r.fetchMs).toBeCloseTo(fine.got[j]!.fetchMs, 3))
    expect(coarse.windows).toBeLessThan(fine.windows / 2)
    expect(coarse.now).toBeGreaterThan(fine.now)
  })
})
