/**
 * Talk to a model whose KV cache lives in the live 19x5 constellation. Each turn's prompt is the whole
 * conversation so far plus the new line, so every turn after the first finds the earlier turns' blocks
 * in orbit. The constellation runs in real time between turns (--speed 1 = live; 60 = a minute of orbit
 * per second), so a long pause means handovers and migrations before the next fetch.
 * Per turn: tokens cached, satellites hit, fetch time (network, virtual) and prefill time (measured).
 * `npx tsx experiments/chat.ts` (type lines; Ctrl-D ends) or `echo "hello" | npx tsx experiments/chat.ts --json`
 */
import { createInterface } from "node:readline"
import { strategyNames as strategies } from "../src/cache/strategies.js"
import { codecNames } from "../src/cache/codecs.js"
import { ConstellationKvCache } from "../src/actors/constellation-kv.js"
import { ModelPool } from "../src/inference/model-pool.js"
import { resolveModelFolder } from "../src/inference/runner.js"
import { cachedTurn } from "../src/inference/session.js"
import { flag, parseCli, runMain } from "./lib/cli.js"
import { atFlag, catalogFlags, liveWorkersFlag, presetFlag, resolveConstellation } from "./lib/constellation-flags.js"
import { fmt } from "./lib/output.js"
import { writeIndex } from "./lib/report-index.js"
import { openRunDirectory } from "./lib/results.js"

const spec = {
  name: "chat",
  summary: "an interactive model backed by the live constellation's KV cache",
  flags: {
    model: flag.string("generated model (tiny, qwen-shape) or a model folder", "tiny", "NAME|PATH"),
    preset: presetFlag("paper-19x5"),
    ...catalogFlags,
    at: atFlag,
    strategy: flag.choice("placement strategy", strategies, "hop_rotation"),
    codec: flag.choice("KV codec", codecNames, "fp16"),
    maxNewTokens: flag.number("tokens generated per turn (fewer if the model ends the text)", 48, { min: 1, integer: true }),
    speed: flag.number("virtual seconds per wall second between turns (1 = real time)", 1, { min: 0 }),
    blockTokens: flag.number("tokens per block", 16, { min: 1, integer: true }),
    workers: liveWorkersFlag
  }
}

runMain(async () => {
  const o = parseCli(spec)
  const { catalog, where } = resolveConstellation(o)
  resolveModelFolder(o.model)
  const model = new ModelPool(o.model)
  const kv = await ConstellationKvCache.open({
    preset: o.preset, seed: o.seed, strategy: o.strategy, codec: o.codec, blockTokens: o.blockTokens,
    namespace: { modelId: o.model, tenantSalt: "chat" }, run: { catalog }
  }, { workers: o.workers })
  const interactive = process.stdin.isTTY && !o.json
  const say = (s: string) => { if (!o.json) process.stdout.write(s) }
  say(`chat: ${o.model} with its KV cache on ${where} (${o.strategy}, ${o.codec}), ${o.speed}x real time. Type a line; Ctrl-D ends.\n`)
  let history: Array<number> = []
  const turns: Array<Record<string, unknown>> = []
  let lastWall = performance.now()
  const rl = createInterface({ input: process.stdin, terminal: interactive })
  if (interactive) process.stdout.write("> ")
  try {
    for await (const line of rl) {
      if (line.trim() === "") {
        if (interactive) process.stdout.write("> ")
        continue
      }
      // The orbit moved on while the person typed.
      const now = performance.now()
      await kv.advance(((now - lastWall) / 1e3) * o.speed)
      const prompt = [...history, ...(await model.encode(`${history.length > 0 ? "\n" : ""}User: ${line}\nAssistant:`))]
      const turn = await cachedTurn(model, kv, prompt, { maxNewTokens: o.maxNewTokens, stopAtEos: true })
      const text = await model.decode(turn.tokens)
      history = [...prompt, ...turn.tokens]
      lastWall = performance.now()
      const report = {
        virtualTime: kv.now, promptTokens: turn.promptTokens, cachedTokens: turn.cachedTokens, satellites: turn.satellites,
        fetchMs: turn.fetchMs, prefillMs: turn.prefillMs, ttftMs: turn.ttftMs, storedBlocks: turn.storedBlocks, text
      }
      turns.push(report)
      if (o.json) process.stdout.write(`${JSON.stringify(report)}\n`)
      else {
        say(`${JSON.stringify(text)}\n`)
        say(`  [t=${fmt(kv.now, 1)} s: ${turn.cachedTokens}/${turn.promptTokens} tokens from orbit, satellites ${turn.satellites.join(",") || "-"}; fetch ${fmt(turn.fetchMs, 1)} ms + prefill ${fmt(turn.prefillMs, 1)} ms = TTFT ${fmt(turn.ttftMs, 1)} ms; stored ${turn.storedBlocks} blocks]\n`)
      }
      if (interactive) process.stdout.write("> ")
    }
  } finally {
    rl.close()
    await model.close()
    await kv.close()
    // The conversation's record, written once at the end (atomically, like every result).
    const dir = openRunDirectory("chat", { ...o, json: undefined, quiet: undefined, help: undefined })
    dir.writeJson("results.json", turns)
    dir.writeSummary({ turns: turns.length, "tokens from orbit": turns.reduce((n, t) => n + (t.cachedTokens as number), 0) })
    writeIndex()
    say(`written to ${dir.path}\n`)
  }
})
