/**
 * The cache under faults: the Mooncake conversation trace's prefix structure replayed by the inference
 * actor with real KV bytes (checked against ground truth), once per fault profile, all in virtual time
 * and seeded. Each row counts what was served wrong (must be 0), what corruption arrived and what the
 * checks caught (must be equal), messages lost, retries; the time to first token of every request on
 * --device (its lookups, then the prefill of the blocks not served) beside the same request's without a
 * cache, and the retrieval latency of the requests with a hit (named so: it is over a subset).
 * `npx tsx experiments/chaos.ts --requests 300 --json`
 */
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64"
import { decodeBlock, encodeBlock, type KvBlock } from "../src/cache/codecs.js"
import { strategyNames as strategies } from "../src/cache/strategies.js"
import { MAX_REDUNDANCY } from "../src/actors/inference.js"
import { ConstellationKvCache } from "../src/actors/constellation-kv.js"
import { joinBlocks } from "../src/inference/kv-blocks.js"
import { blockToShares } from "../src/inference/kv-transfer.js"
import { streamRng } from "../src/runtime/random.js"
import { readTrace } from "../src/actors/trace-file.js"
import { flag, parseCli, runMain, traceFlags } from "./lib/cli.js"
import { atFlag, catalogFlags, liveWorkersFlag, presetFlag, resolveConstellation } from "./lib/constellation-flags.js"
import { fmt, printResult } from "./lib/output.js"
import { deviceNamed, deviceProfiles, prefillSecondsOn, qwen25HalfB } from "../src/inference/devices.js"
import { type ChartSpec, writeChart } from "./lib/plot.js"
import { makeStepProgress } from "./lib/progress.js"
import { writeIndex } from "./lib/report-index.js"
import { openRunDirectory } from "./lib/results.js"
import { quantile } from "./lib/stats.js"

const PROFILES = ["none", "bit-errors", "message-loss", "isl-flaps", "satellite-crash", "mass-failure", "ground-outage"] as const
type Profile = typeof PROFILES[number]

const spec = {
  name: "chaos",
  summary: "hit rate and wrong KV under injected faults (bit errors, loss, crashes, mass failure, outages)",
  flags: {
    ...traceFlags(300),
    // Global coverage: retries stretch virtual time past the 19x5 patch's pass over its ground station.
    preset: presetFlag("starlink-shell1"),
    ...catalogFlags,
    at: atFlag,
    strategy: flag.choice("placement strategy", strategies, "hop_rotation"),
    fault: flag.choice("fault profile", [...PROFILES, "all"] as const, "all"),
    bitErrorRate: flag.number("bit-errors: error probability per bit per link", 1e-6, { min: 0, max: 0.01 }),
    lossRate: flag.number("message-loss: loss probability per message (end to end)", 0.01, { min: 0, max: 0.5 }),
    massFraction: flag.number("mass-failure: share of satellites down at once", 0.3, { min: 0, max: 1 }),
    flapProbability: flag.number("isl-flaps: probability an ISL is down for a 1-s link epoch", 0.05, { min: 0, max: 1 }),
    redundancy: flag.intList("copies of each share on distinct satellites; every fault runs at each value", [1, 2], MAX_REDUNDANCY),
    workers: liveWorkersFlag,
    device: flag.choice("device whose prefill time each request's TTFT adds (Qwen2.5-0.5B, 16 tokens per block)", deviceProfiles.map((d) => d.name), "jetson-orin-nano-8gb")
  }
}

// Small blocks striped over every server: 16 tokens x 2 layers x 2 KV heads x 16 dims, fp16, 512-B chunks.
const SHAPE = { layers: 2, kvHeads: 2, headDim: 16, tokens: 16 }
const CHUNK_BYTES = 512

/** The ground truth: a block's KV is a pure function of its key (so any reader can check what it got). */
const truthOf = (key: number): KvBlock => {
  const n = SHAPE.kvHeads * SHAPE.tokens * SHAPE.headDim
  const rng = streamRng(key % 2 ** 31, Math.floor(key / 2 ** 31))
  const t = () => Float32Array.from({ length: n }, () => uniformFloat64(rng) * 4 - 2)
  return { ...SHAPE, keys: [t(), t()], values: [t(), t()] }
}

export interface ChaosRow {
  readonly fault: Profile
  readonly requests: number
  readonly hitRate: number
  readonly wrongKvServed: number
  readonly corruptedDetected: number
  readonly corruptedInjected: number
  readonly lostMessages: number
  readonly linkDownDrops: number
  readonly retries: number
  readonly redundancy: number
  /** Shares written back where a copy was found missing or corrupted (re-placement after a crash). */
  readonly readRepairs: number
  /** Time to first token over every request: lookups (a timed-out one and its retry), then the prefill of what was not served, ms. */
  readonly ttftMs: { readonly mean: number; readonly p50: number; readonly p90: number; readonly p99: number }
  /** The same requests without a cache, ms. */
  readonly coldTtftMs: { readonly mean: number; readonly p50: number; readonly p90: number; readonly p99: number }
  /** Lookup time of the requests with at least one block served (a subset: hits only), ms. */
  readonly hitRetrievalMs: { readonly p50: number; readonly p90: number; readonly p99: number }
  /** hitRetrievalMs.p99, under its earlier name. */
  readonly p99RetrievalMs: number
}

const summary = (xs: ReadonlyArray<number>) => {
  const s = Float64Array.from(xs).sort()
  const at = (q: number) => (s.length > 0 ? quantile(s, q) : 0)
  return { mean: s.length > 0 ? s.reduce((a, b) => a + b, 0) / s.length : 0, p50: at(0.5), p90: at(0.9), p99: at(0.99) }
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i])

runMain(async () => {
  const o = parseCli(spec)
  const { catalog, where } = resolveConstellation(o)
  const trace = readTrace(o.trace, { limit: o.requests })
  const profiles: ReadonlyArray<Profile> = o.fault === "all" ? PROFILES : [o.fault]
  const dir = openRunDirectory("chaos", { ...o, json: undefined, quiet: undefined, help: undefined })
  const runs = o.redundancy.flatMap((redundancy) => profiles.map((fault) => ({ fault, redundancy })))
  const progress = makeStepProgress("chaos", runs.length, o.quiet || o.json)
  const rows: Array<ChaosRow> = []
  const device = deviceNamed(o.device)!
  const prefillMs = (from: number, to: number) => prefillSecondsOn(device, qwen25HalfB, from, to) * 1e3
  for (const { fault, redundancy } of runs) {
    const kv = await ConstellationKvCache.open({
      redundancy,
      preset: o.preset, seed: o.seed, strategy: o.strategy, blockTokens: SHAPE.tokens, chunkBytes: CHUNK_BYTES, codec: "fp16",
      namespace: { modelId: "chaos", tenantSalt: "t" },
      faults: { bitErrorRate: fault === "bit-errors" ? o.bitErrorRate : 0, lossRate: fault === "message-loss" ? o.lossRate : 0 },
      run: { catalog, ...(fault === "isl-flaps" ? { islFlapProbability: o.flapProbability } : {}) }
    }, { workers: o.workers })
    try {
      const satellites = kv.world.satellites
      const rng = streamRng(o.seed, -5)
      const t0 = trace.requests[0]?.timestamp ?? 0
      let blocks = 0, hits = 0, wrong = 0, injected = 0, detected = 0, retries = 0, nextCrash = 5
      const latencies: Array<number> = [], ttfts: Array<number> = [], colds: Array<number> = []
      for (const req of trace.requests) {
        const at = (req.timestamp - t0) / 1000
        // Faults on their clocks, between requests (all in virtual time, from the seeded stream).
        if (fault === "satellite-crash") {
          for (; nextCrash <= at; nextCrash += 5) await kv.crash([Math.floor(uniformFloat64(rng) * satellites)], 60)
        }
        if (fault === "mass-failure" && nextCrash <= at && nextCrash < 20) {
          const down = Array.from({ length: satellites }, (_, s) => s).filter(() => uniformFloat64(rng) < o.massFraction)
          await kv.crash(down, 60)
          nextCrash = 20
        }
        if (fault === "ground-outage" && at >= nextCrash) {
          await kv.groundOutage(10)
          nextCrash = at + 50
        }
        if (at > kv.now) await kv.advance(at - kv.now)
        // Tokens: 16 per trace block, derived from its hash id, so keys chain exactly as the trace's blocks.
        const tokens = req.hash_ids.flatMap((h) => Array.from({ length: SHAPE.tokens }, (_, i) => (h * 16 + i) % 1_000_003))
        const keys = kv.keysOf(tokens)
        let got = await kv.lookup(tokens)
        let lookupMs = got.fetchMs
        if (got.timedOut) {
          retries++
          got = await kv.lookup(tokens)
          lookupMs += got.fetchMs
        }
        blocks += keys.length
        const served = got.tokens / SHAPE.tokens
        if (process.env.SKYMEMORY_DEBUG) process.stderr.write(`${fault} t=${at.toFixed(1)} keys=${keys.length} served=${served} timedOut=${got.timedOut} rejected=${got.rejectedBlocks}\n`)
        hits += served
        if (served > 0) latencies.push(got.fetchMs)
        // A fully served prompt still prefills its last token.
        ttfts.push(lookupMs + prefillMs(Math.min(got.tokens, tokens.length - 1), tokens.length))
        colds.push(prefillMs(0, tokens.length))
        // Against ground truth: wrong KV that reached the model, and corrupted chunks that arrived.
        const truth = keys.map(truthOf)
        if (got.past) {
          const expected = joinBlocks(truth.slice(0, served).map((b) => decodeRound(b)))
          for (let l = 0; l < SHAPE.layers; l++) {
            if (!sameFloats(got.past.keys[l]!, expected.keys[l]!) || !sameFloats(got.past.values[l]!, expected.values[l]!)) wrong++
          }
        }
        const wanted = (j: number) => blockToShares(truth[j]!, keys[j]!, { codec: "fp16", chunkBytes: CHUNK_BYTES, servers: kv.options.servers })
        got.raw.forEach((shares, j) => {
          const want = wanted(j)
          shares.forEach((share, k) => share.forEach((chunk, c) => { if (!sameBytes(chunk, want[k]![c]!)) injected++ }))
        })
        // Shares the check refused on arrival (they never reach a block) are compared with the truth too.
        for (const d of got.discarded) {
          const want = wanted(d.block)[d.share.share]!
          d.share.chunks.forEach((chunk, c) => { if (!sameBytes(chunk, want[c]!)) injected++ })
        }
        detected += got.badChunks
        // Store what the request computed beyond its cached prefix.
        if (served < keys.length) await kv.store(tokens, joinBlocks(truth), served)
      }
      const engine = await kv.report()
      const dropped = (reason: string) => engine.dropped[reason] ?? 0
      if (process.env.SKYMEMORY_DEBUG) process.stderr.write(`${fault}: dropped ${JSON.stringify(engine.dropped)} counters ${JSON.stringify(engine.counters)}\n`)
      // Messages that never arrived: injected loss, and no route left (links down). Beacons to a neighbour
      // whose link is down are counted apart (linkDownDrops): they are link-local probes, not cache traffic.
      const lost = dropped("lost") + dropped("unreachable")
      // Lookups asked again after a deadline, and the shares the actor itself asked again.
      const counter = (name: string) => engine.counters[name] ?? 0
      retries += counter("shareRetries") + counter("putRetries")
      const hitRetrieval = summary(latencies)
      rows.push({
        fault, requests: trace.requests.length, hitRate: hits / Math.max(1, blocks), wrongKvServed: wrong,
        corruptedDetected: detected, corruptedInjected: injected, lostMessages: lost, linkDownDrops: dropped("linkDown"), retries, redundancy, readRepairs: counter("readRepairs"),
        ttftMs: summary(ttfts), coldTtftMs: summary(colds),
        hitRetrievalMs: { p50: hitRetrieval.p50, p90: hitRetrieval.p90, p99: hitRetrieval.p99 }, p99RetrievalMs: hitRetrieval.p99
      })
      progress.step(`${fault} r=${redundancy}`)
    } finally {
      await kv.close()
    }
  }
  progress.stop()
  dir.writeJson("results.json", rows)
  dir.writeCsv("results.csv", rows.map(({ ttftMs, coldTtftMs, hitRetrievalMs, ...r }) => ({
    ...r, ttftMeanMs: ttftMs.mean, ttftP50Ms: ttftMs.p50, ttftP90Ms: ttftMs.p90, ttftP99Ms: ttftMs.p99, coldTtftMeanMs: coldTtftMs.mean, coldTtftP99Ms: coldTtftMs.p99,
    hitRetrievalP50Ms: hitRetrievalMs.p50, hitRetrievalP90Ms: hitRetrievalMs.p90
  })))
  await writeChart(dir.writeText, "chaos", {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json", title: "Hit rate and wrong KV served under each fault, by copies per share", width: 420, height: 260,
    data: { values: rows.flatMap((r) => [{ fault: r.fault, copies: `r = ${r.redundancy}`, measure: "hit rate", value: r.hitRate }, { fault: r.fault, copies: `r = ${r.redundancy}`, measure: "wrong KV served", value: r.wrongKvServed }]) },
    mark: "bar",
    encoding: {
      x: { field: "fault", type: "nominal", sort: null }, xOffset: { field: "copies", type: "nominal" }, y: { field: "value", type: "quantitative" },
      column: { field: "measure", type: "nominal" }, color: { field: "copies", type: "nominal" }
    },
    resolve: { scale: { y: "independent" } }
  } as ChartSpec)
  dir.writeSummary(Object.fromEntries(rows.flatMap((r) => [[`${r.fault} r=${r.redundancy} hit rate`, r.hitRate], [`${r.fault} r=${r.redundancy} wrong KV`, r.wrongKvServed]])))
  writeIndex()
  printResult(o.json, rows, () => [
    `chaos: ${trace.requests.length} requests' prefix structure from ${o.trace}, ${where}, ${o.strategy}, seed ${o.seed}; written to ${dir.path}`,
    `TTFT on ${o.device} (Qwen2.5-0.5B prefill of the blocks not served), over every request; hit retrieval: requests with a hit only`,
    "fault            r   hit rate   wrong KV   corrupted detected/arrived   lost msgs   retries   repairs   TTFT mean / p99 ms (cold mean)   hit retrieval p99 ms",
    ...rows.map((r) => `${r.fault.padEnd(16)} ${String(r.redundancy)} ${fmt(r.hitRate, 4).padStart(10)} ${String(r.wrongKvServed).padStart(10)}   ${`${r.corruptedDetected}/${r.corruptedInjected}`.padStart(26)} ${String(r.lostMessages).padStart(11)} ${String(r.retries).padStart(9)} ${String(r.readRepairs).padStart(9)}   ${`${fmt(r.ttftMs.mean, 1)} / ${fmt(r.ttftMs.p99, 1)} (${fmt(r.coldTtftMs.mean, 1)})`.padStart(30)} ${fmt(r.hitRetrievalMs.p99, 1).padStart(21)}`)
  ].join("\n"))
})

/** What the fp16 codec gives back for a block: the values the model should see. */
const decodeRound = (b: KvBlock): KvBlock => decodeBlock(encodeBlock(b, "fp16"))

const sameFloats = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]))
