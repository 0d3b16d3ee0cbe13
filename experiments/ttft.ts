/**
 * Time to first token with and without the constellation as the KV cache. For each prefix length, two
 * prompts share the prefix: the first runs cold and stores its blocks in the emulated constellation; the
 * second, a second later, runs cold (for reference) and warm (fetch the prefix through the network in
 * virtual time, then prefill only its own suffix, measured). Then the same arithmetic on other devices (see
 * src/inference/devices.ts): the prefix length from which a fetch beats recomputation.
 * `npx tsx experiments/ttft.ts --model qwen-shape --prefixes 256,1024,4096 --json`
 */
import { strategyNames as strategies, type Strategy } from "../src/cache/strategies.js"
import { codecNames } from "../src/cache/codecs.js"
import { ConstellationKvCache } from "../src/actors/constellation-kv.js"
import { crossoverTokens, deviceProfiles, fitLine, prefillFlops } from "../src/inference/devices.js"
import { ModelPool } from "../src/inference/model-pool.js"
import { modelArithmetic } from "../src/inference/models.js"
import { maxAbsDiff, resolveModelFolder } from "../src/inference/runner.js"
import { cachedTurn } from "../src/inference/session.js"
import { streamRng } from "../src/runtime/random.js"
import { flag, parseCli, runMain } from "./lib/cli.js"
import { atFlag, catalogFlags, liveWorkersFlag, presetFlag, resolveConstellation } from "./lib/constellation-flags.js"
import { fmt, printResult } from "./lib/output.js"
import { type ChartSpec, writeChart } from "./lib/plot.js"
import { makeStepProgress } from "./lib/progress.js"
import { writeIndex } from "./lib/report-index.js"
import { openRunDirectory } from "./lib/results.js"
import { summarizeSamples } from "./lib/stats.js"

const spec = {
  name: "ttft",
  summary: "time to first token, cold vs. with the prefix's KV fetched from the constellation",
  flags: {
    model: flag.string("generated model (tiny, qwen-shape) or a model folder", "qwen-shape", "NAME|PATH"),
    prefixes: flag.intList("shared prefix lengths, tokens", [256, 1024, 4096]),
    suffix: flag.number("tokens after the shared prefix", 32, { min: 1, integer: true }),
    strategy: flag.choice("placement strategy", [...strategies, "all"] as const, "all"),
    codec: flag.choice("KV codec for the timing rows", codecNames, "fp16"),
    blockTokens: flag.number("tokens per block", 16, { min: 1, integer: true }),
    servers: flag.number("servers S per block", 9, { min: 1, max: 255, integer: true }),
    preset: presetFlag("paper-19x5"),
    ...catalogFlags,
    at: atFlag,
    repeats: flag.number("timed model runs per measurement (median reported)", 3, { min: 1, integer: true }),
    generate: flag.number("tokens generated per codec to compare greedy outputs", 64, { min: 1, integer: true }),
    threads: flag.number("onnxruntime threads", 2, { min: 1, integer: true }),
    workers: liveWorkersFlag,
    device: flag.choice("compute time of the printed rows: measured here, or scaled to a device profile by FLOPs", ["this-machine", ...deviceProfiles.map((d) => d.name), "all"], "this-machine")
  }
}

export interface TtftRow {
  readonly model: string
  readonly prefixTokens: number
  readonly strategy: string
  readonly codec: string
  readonly coldMs: number
  readonly warmMs: number
  readonly fetchMs: number
  readonly prefillMs: number
  readonly cachedTokens: number
  readonly satellites: number
  readonly maxAbsLogitDiff: number
}

/** Printable ASCII tokens from the seed (byte-level tokenizer: one token per byte). */
const randomTokens = (seed: number, stream: number, n: number): Array<number> => {
  const rng = streamRng(seed, stream)
  return Array.from({ length: n }, () => 32 + ((rng.next() >>> 0) % 95))
}

const median = (xs: ReadonlyArray<number>) => summarizeSamples(xs).median

runMain(async () => {
  const o = parseCli(spec)
  const { catalog, where } = resolveConstellation(o)
  const folder = resolveModelFolder(o.model)
  const arithmetic = modelArithmetic(folder)
  const chosen: ReadonlyArray<Strategy> = o.strategy === "all" ? strategies : [o.strategy]
  const dir = openRunDirectory("ttft", { ...o, json: undefined, quiet: undefined, help: undefined, folder })
  const model = new ModelPool(o.model, { threads: o.threads })
  const progress = makeStepProgress("ttft", o.prefixes.length * (1 + chosen.length) + codecNames.length, o.quiet || o.json)
  /** A fresh constellation for one measurement, closed after it. */
  const withKv = async <A>(strategy: Strategy, codec: typeof codecNames[number], f: (kv: ConstellationKvCache) => Promise<A>): Promise<A> => {
    const kv = await ConstellationKvCache.open({
      preset: o.preset, seed: o.seed, strategy, servers: o.servers, blockTokens: o.blockTokens, codec,
      namespace: { modelId: o.model, tenantSalt: "ttft" }, run: { catalog }
    }, { workers: o.workers })
    try {
      return await f(kv)
    } finally {
      await kv.close()
    }
  }
  const rows: Array<TtftRow> = []
  try {
    for (const [i, P] of o.prefixes.entries()) {
      const prefix = randomTokens(o.seed, 3 * i, P)
      const first = [...prefix, ...randomTokens(o.seed, 3 * i + 1, o.suffix)]
      const second = [...prefix, ...randomTokens(o.seed, 3 * i + 2, o.suffix)]
      const colds: Array<number> = []
      let coldLogits: Float32Array | undefined
      for (let r = 0; r < o.repeats; r++) {
        const g = await model.generate(second, 1)
        colds.push(g.firstTokenMs)
        coldLogits = g.firstLogits
      }
      // The first prompt's KV, computed once and stored in each strategy's constellation.
      const seeded = await model.generate(first, 1, undefined, { returnPast: true })
      progress.step(`P=${P} cold`)
      for (const strategy of chosen) {
        const warm = await withKv(strategy, o.codec, async (kv) => {
          await kv.store([...first, ...seeded.tokens], seeded.past!)
          // The second prompt comes a second later (after the first's upload has left the terminal).
          await kv.advance(1)
          const turns = []
          for (let r = 0; r < o.repeats; r++) turns.push(await cachedTurn(model, kv, second, { maxNewTokens: 1, store: false }))
          return turns
        })
        const w = warm[0]!
        const prefillMs = median(warm.map((t) => t.prefillMs))
        rows.push({
          model: o.model, prefixTokens: P, strategy, codec: o.codec, coldMs: median(colds), warmMs: w.fetchMs + prefillMs, fetchMs: w.fetchMs,
          prefillMs, cachedTokens: w.cachedTokens, satellites: w.satellites.length, maxAbsLogitDiff: maxAbsDiff(w.firstLogits, coldLogits!)
        })
        progress.step(`P=${P} ${strategy}`)
      }
    }
    // Codecs: logit error and greedy agreement over `generate` tokens at the middle prefix length.
    const P = o.prefixes[Math.floor(o.prefixes.length / 2)]!
    const prefix = randomTokens(o.seed, 1000, P)
    const first = [...prefix, ...randomTokens(o.seed, 1001, o.suffix)]
    const second = [...prefix, ...randomTokens(o.seed, 1002, o.suffix)]
    const reference = await model.generate(second, o.generate)
    const codecRows: Array<{ codec: string; prefixTokens: number; cachedTokens: number; maxAbsLogitDiff: number; generated: number; tokensChanged: number; firstChangedAt: number }> = []
    for (const codec of codecNames) {
      const t = await withKv("hop_rotation", codec, async (kv) => {
        await cachedTurn(model, kv, first, { maxNewTokens: 1, cold: true })
        await kv.advance(1)
        return cachedTurn(model, kv, second, { maxNewTokens: o.generate, store: false })
      })
      const firstDiff = t.tokens.findIndex((tok, k) => tok !== reference.tokens[k])
      codecRows.push({
        codec, prefixTokens: P, cachedTokens: t.cachedTokens, maxAbsLogitDiff: maxAbsDiff(t.firstLogits, reference.firstLogits),
        generated: o.generate, tokensChanged: t.tokens.filter((tok, k) => tok !== reference.tokens[k]).length, firstChangedAt: firstDiff
      })
      progress.step(`codec ${codec}`)
    }
    progress.stop()

    // Devices: measured fetch time fitted over prefix length, compute from FLOPs.
    const suffix = o.suffix
    const devices = [
      { name: "this-machine", flopsPerSecond: median(rows.filter((r) => r.strategy === chosen[0]).map((r) => prefillFlops(arithmetic, 0, r.prefixTokens + suffix) / (r.coldMs / 1e3))), note: "measured (cold prefill FLOPs / time)" },
      ...deviceProfiles
    ]
    const crossovers = chosen.flatMap((strategy) => {
      const mine = rows.filter((r) => r.strategy === strategy)
      const fit = fitLine(mine.map((r) => r.prefixTokens), mine.map((r) => r.fetchMs))
      return devices.map((d) => ({
        device: d.name, strategy, flopsPerSecond: d.flopsPerSecond, note: d.note, fetchMsPerToken: fit.b, fetchMsFixed: fit.a,
        crossoverTokens: crossoverTokens(arithmetic, suffix, (p) => fit.a + fit.b * p, d.flopsPerSecond) ?? null
      }))
    })
    // Device-profile rows: the network's time as emulated, the compute scaled by FLOPs (this machine: measured).
    const deviceRows: Array<TtftRow & { device: string }> = rows.flatMap((r) => devices.map((d) => {
      if (d.name === "this-machine") return { ...r, device: d.name }
      const coldMs = (prefillFlops(arithmetic, 0, r.prefixTokens + suffix) / d.flopsPerSecond) * 1e3
      const prefillMs = (prefillFlops(arithmetic, r.cachedTokens, r.prefixTokens + suffix) / d.flopsPerSecond) * 1e3
      return { ...r, device: d.name, coldMs, prefillMs, warmMs: r.fetchMs + prefillMs }
    }))
    const printed = deviceRows.filter((r) => o.device === "all" || r.device === o.device)
    const result = { model: o.model, rows: deviceRows, codecs: codecRows, crossovers }
    dir.writeJson("results.json", result)
    dir.writeCsv("results.csv", rows as unknown as Array<Record<string, unknown>>)
    dir.writeCsv("codecs.csv", codecRows)
    dir.writeCsv("devices.csv", crossovers)
    await writeChart(dir.writeText, "ttft-by-device", deviceChart(deviceRows, crossovers, chosen.includes("hop_rotation") ? "hop_rotation" : chosen[0]!))
    const target = rows.find((r) => r.prefixTokens === 1024 && r.strategy === "hop_rotation")
    const crossing = (device: string) => crossovers.find((c) => c.device === device && c.strategy === (chosen.includes("hop_rotation") ? "hop_rotation" : chosen[0]))?.crossoverTokens ?? null
    dir.writeSummary({
      model: o.model,
      ...(target ? { "cold ms @1024": target.coldMs, "warm ms @1024": target.warmMs, "warm/cold @1024": target.warmMs / target.coldMs } : {}),
      "max |dlogit| fp16": codecRows.find((c) => c.codec === "fp16")?.maxAbsLogitDiff ?? null,
      "max |dlogit| int8": codecRows.find((c) => c.codec === "int8")?.maxAbsLogitDiff ?? null,
      ...Object.fromEntries(devices.map((d) => [`crossover tokens, ${d.name}`, crossing(d.name)]))
    })
    writeIndex()
    printResult(o.json, printed, () => [
      `ttft: model ${o.model} (${folder}), ${where}, S = ${o.servers}, ${o.blockTokens}-token blocks, codec ${o.codec}, medians of ${o.repeats}, compute on ${o.device}; written to ${dir.path}`,
      "prefix  strategy       cold ms   warm ms  (fetch + prefill)     warm/cold  cached  sats  max|dlogit|",
      ...printed.map((r) => `${o.device === "all" ? `${r.device.padEnd(22)} ` : ""}${String(r.prefixTokens).padStart(6)}  ${r.strategy.padEnd(13)} ${fmt(r.coldMs, 1).padStart(8)} ${fmt(r.warmMs, 1).padStart(9)}  (${fmt(r.fetchMs, 1)} + ${fmt(r.prefillMs, 1)})`.padEnd(62) + `${fmt(r.warmMs / r.coldMs, 3).padStart(8)}  ${String(r.cachedTokens).padStart(6)}  ${String(r.satellites).padStart(4)}  ${r.maxAbsLogitDiff.toExponential(2)}`),
      "",
      `codecs at a ${P}-token prefix, ${o.generate} greedy tokens vs. full prefill:`,
      ...codecRows.map((c) => `  ${c.codec.padEnd(5)} max|dlogit| ${c.maxAbsLogitDiff.toExponential(2)}  tokens changed ${c.tokensChanged}/${c.generated}${c.firstChangedAt >= 0 ? ` (first at ${c.firstChangedAt})` : ""}`),
      "",
      "crossover (prefix length from which fetching beats recomputing):",
      ...crossovers.map((c) => `  ${c.device.padEnd(22)} ${c.strategy.padEnd(13)} ${c.crossoverTokens === null ? "never (up to 65,536)" : `${c.crossoverTokens} tokens`}   [${(c.flopsPerSecond / 1e12).toFixed(2)} TFLOP/s: ${c.note}]`),
      ...(target ? ["", `target: warm/cold at 1,024 tokens (hop_rotation) = ${fmt(target.warmMs / target.coldMs, 3)} (<= 0.3 wanted)`] : [])
    ].join("\n"))
  } finally {
    await model.close()
  }
})

const deviceChart = (rows: ReadonlyArray<{ device: string; strategy: string; prefixTokens: number; coldMs: number; warmMs: number }>, crossovers: ReadonlyArray<{ device: string; strategy: string; crossoverTokens: number | null }>, strategy: string): ChartSpec => ({
  $schema: "https://vega.github.io/schema/vega-lite/v5.json",
  title: `Time to first token, cold vs. warm (${strategy}), by device`,
  width: 560,
  height: 320,
  layer: [
    {
      data: { values: rows.filter((r) => r.strategy === strategy).flatMap((r) => [{ ...r, path: "cold (prefill all)", ms: r.coldMs }, { ...r, path: "warm (fetch + suffix)", ms: r.warmMs }]) },
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "prefixTokens", type: "quantitative", scale: { type: "log" }, title: "shared prefix, tokens" },
        y: { field: "ms", type: "quantitative", scale: { type: "log" }, title: "TTFT, ms" },
        color: { field: "device", type: "nominal" },
        strokeDash: { field: "path", type: "nominal" }
      }
    },
    {
      data: { values: crossovers.filter((c) => c.strategy === strategy && c.crossoverTokens !== null) },
      mark: { type: "rule", strokeDash: [2, 2] },
      encoding: { x: { field: "crossoverTokens", type: "quantitative" }, color: { field: "device", type: "nominal" } }
    }
  ]
})
