/**
 * The main job (`npm start`): SkyMemory's default story in under a minute, on built-in defaults.
 * 1. the paper's 19x5 constellation and a user's view of it;
 * 2. the standard workload (beacons + ground cache traffic) on it, through the actor runtime;
 * 3. a slice of the Mooncake conversation trace from population-weighted users, every placement strategy;
 * 4. the tiny generated model answering prompts that share a prefix, its KV cache fetched from orbit.
 * Prints a summary table and writes results/main/<run-id>/ and results/index.html.
 */
import { strategyNames } from "../src/cache/strategies.js"
import { oracleHitRate } from "../src/cache/trace.js"
import { ConstellationKvCache } from "../src/actors/constellation-kv.js"
import { ModelPool } from "../src/inference/model-pool.js"
import { cachedTurn } from "../src/inference/session.js"
import { makeRunConfig, type RunReport, runOnWorkers } from "../src/actors/index.js"
import { readTrace } from "../src/actors/trace-file.js"
import { flag, parseCli, runMain } from "./lib/cli.js"
import { atFlag, catalogFlags, resolveConstellation } from "./lib/constellation-flags.js"
import { fmt, printResult } from "./lib/output.js"
import { makeProgress, makeStepProgress } from "./lib/progress.js"
import { writeIndex } from "./lib/report-index.js"
import { openRunDirectory } from "./lib/results.js"
import { bytesPerSatellite, toScaleResult } from "./scale.js"
import { describeSummary, summarize } from "./topology.js"

const spec = {
  name: "main",
  summary: "SkyMemory's default story on built-in defaults",
  flags: {
    requests: flag.number("trace requests replayed per strategy", 300, { min: 1, integer: true }),
    ...catalogFlags,
    at: atFlag
  }
}

const TRACE = makeRunConfig().replay.tracePath
const STRATEGIES = strategyNames

runMain(async () => {
  const o = parseCli(spec)
  const quiet = o.quiet || o.json
  const log = (s: string) => { if (!quiet) process.stderr.write(`${s}\n`) }
  // The paper's 19x5 patch, or a catalog (--tle) in its place for every part.
  const preset = "paper-19x5"
  const { catalog, where } = resolveConstellation({ ...o, preset, json: quiet })
  const dir = openRunDirectory("main", { seed: o.seed, requests: o.requests, trace: TRACE, ...(catalog.path !== "" ? { catalog } : {}) })

  // 1. The constellation.
  const base = { preset, planes: undefined, satsPerPlane: undefined, altitudeKm: 550, inclinationDeg: 53, phasing: 1, pattern: "delta" as const, maskDeg: 25 }
  // A user under the patch's first pass (the 19x5 patch covers a band of longitudes at a time).
  const topology = summarize({ ...base, tle: o.tle, lenient: o.lenient, crossShellLinks: o.crossShellLinks, at: o.at, ground: { latDeg: 25, lonDeg: 40 } })

  // 2. The standard workload.
  const config = makeRunConfig({ preset, catalog, seed: o.seed, simSeconds: 120, users: 32, requestRatePerUser: 2 })
  const progress = makeProgress("standard workload", config.simSeconds, quiet)
  const standard = toScaleResult(await runOnWorkers(config, { workers: 1, onProgress: (p) => progress.update(p.virtualTime, p.delivered) }), bytesPerSatellite(config))
  progress.stop()

  // 3. The trace slice, every strategy.
  const trace = readTrace(TRACE, { limit: o.requests })
  const oracle = oracleHitRate(trace.requests).hitRate
  const simSeconds = Math.max(...trace.requests.map((r) => r.timestamp)) / 1000 + 60
  const replay: Array<{ strategy: string; hitRate: number; ttftMeanMs: number; hitRetrievalP50Ms: number; hitRetrievalP99Ms: number; migrationMB: number; uncovered: number }> = []
  const steps = makeStepProgress("trace replay", STRATEGIES.length, quiet)
  for (const strategy of STRATEGIES) {
    steps.step(strategy)
    const r: RunReport = await runOnWorkers(makeRunConfig({
      preset, catalog, seed: o.seed, simSeconds, workload: "replay", users: 0,
      replay: { ...makeRunConfig().replay, tracePath: TRACE, requests: o.requests, strategy }
    }), { workers: 1 })
    const c = r.counters
    replay.push({
      strategy, hitRate: (c.hitBlocks ?? 0) / Math.max(1, c.blocks ?? 0), ttftMeanMs: (c.ttftMicros ?? 0) / 1e3 / Math.max(1, c.requests ?? 0),
      hitRetrievalP50Ms: r.retrieval.p50Ms, hitRetrievalP99Ms: r.retrieval.p99Ms,
      migrationMB: (c.migrationBytes ?? 0) / 2 ** 20, uncovered: c.uncovered ?? 0
    })
  }

  steps.stop()

  // 4. The model with its KV cache in orbit.
  log("inference: tiny model, prompts sharing a prefix ...")
  const model = new ModelPool("tiny", { threads: 1 })
  const turns: Array<{ prompt: string; promptTokens: number; cachedTokens: number; satellites: number; fetchMs: number; prefillMs: number; ttftMs: number }> = []
  try {
    const kv = ConstellationKvCache.make({ seed: o.seed, namespace: { modelId: "tiny", tenantSalt: "main" }, run: { catalog } })
    const system = "You are a helpful assistant running on the ground; your memory is in orbit. "
    for (const question of ["What is a satellite?", "What is a KV cache?", "Why cache it in orbit?"]) {
      const prompt = await model.encode(`${system}${system}${question}`)
      const t = await cachedTurn(model, kv, prompt, { maxNewTokens: 16 })
      turns.push({ prompt: question, promptTokens: t.promptTokens, cachedTokens: t.cachedTokens, satellites: t.satellites.length, fetchMs: t.fetchMs, prefillMs: t.prefillMs, ttftMs: t.ttftMs })
      await kv.advance(5)
    }
  } finally {
    await model.close()
  }

  const result = { topology, standard, replay: { requests: o.requests, oracleHitRate: oracle, rows: replay }, inference: turns }
  dir.writeJson("results.json", result)
  dir.writeCsv("replay.csv", replay)
  dir.writeCsv("inference.csv", turns)
  dir.writeSummary({
    satellites: topology.satellites, "standard workload speedup": standard.speedup, "trace oracle hit rate": oracle,
    ...Object.fromEntries(replay.map((r) => [`${r.strategy} hit rate`, r.hitRate])),
    "warm turn cached tokens": turns[1]?.cachedTokens ?? null, "warm turn TTFT ms": turns[1]?.ttftMs ?? null
  })
  const index = writeIndex()
  printResult(o.json, result, () =>
    [
      describeSummary(topology),
      "",
      `standard workload on ${where}: ${config.simSeconds} s virtual, ${config.users} ground users at ${config.requestRatePerUser} requests/s, seed ${config.seed}`,
      `  ${standard.events} messages delivered in ${fmt(standard.wallSeconds, 3)} s wall: ${fmt(standard.speedup, 0)}x real time, ${fmt(standard.eventsPerSecond, 0)} messages/s`,
      `  cache retrieval (key-homed placement): p50 ${fmt(standard.retrievalMs.p50, 1)} ms, p99 ${fmt(standard.retrievalMs.p99, 1)} ms; trace hash ${standard.traceHash}`,
      "",
      `Mooncake conversation trace, first ${o.requests} requests, users at cities weighted by population (oracle hit rate ${fmt(oracle, 4)}):`,
      "  strategy       hit rate   TTFT mean ms (Jetson)   hit retrieval p50 / p99 ms   migrated MiB   uncovered",
      ...replay.map((r) => `  ${r.strategy.padEnd(13)} ${fmt(r.hitRate, 4).padStart(9)} ${fmt(r.ttftMeanMs, 0).padStart(23)} ${`${fmt(r.hitRetrievalP50Ms, 0)} / ${fmt(r.hitRetrievalP99Ms, 0)}`.padStart(28)} ${fmt(r.migrationMB, 0).padStart(14)} ${String(r.uncovered).padStart(11)}`),
      ...(catalog.path === "" ? ["  (uncovered: requests from users the 5-plane patch did not cover when they asked: all misses)"] : []),
      "",
      "tiny model, KV cache in orbit (hop_rotation, fp16): prompts sharing a system prompt",
      "  question                   tokens  from orbit  satellites  fetch ms  prefill ms  TTFT ms",
      ...turns.map((t) => `  ${t.prompt.padEnd(26)} ${String(t.promptTokens).padStart(6)} ${String(t.cachedTokens).padStart(11)} ${String(t.satellites).padStart(11)} ${fmt(t.fetchMs, 1).padStart(9)} ${fmt(t.prefillMs, 1).padStart(11)} ${fmt(t.ttftMs, 1).padStart(8)}`),
      "",
      `written to ${dir.path}; report: ${index}`
    ].join("\n"))
})
