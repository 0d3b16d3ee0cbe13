/**
 * The project's generated models, built on first use into a folder git ignores (`.cache/models/NAME`), and
 * found again by a fingerprint of their spec and of the code that generates them. `tiny` is for tests
 * (builds and runs in a second); `qwen-shape` has Qwen2.5-0.5B's attention shape (24 layers, hidden 896,
 * 14 query heads, 2 KV heads x 64 dims, so one token's fp16 K+V is 12,288 B, the paper's chunk) with two
 * reductions, both for this 2-core machine: the MLP is 1,216 wide instead of 4,864 (a quarter), and the
 * vocabulary is the 257 byte-level tokens instead of 151,936. Both keep the KV cache and the attention
 * cost exactly; they cut the weights from 494 M to 123 M parameters (the MLP and embedding share of
 * compute). Both hold their KV cache at fp16 precision, as a half-precision deployment does (see
 * DecoderSpec.kvPrecision).
 */
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { buildDecoder, type DecoderSpec, parameterCount } from "./decoder-graph.js"
import { configJson, generationConfigJson, tokenizerConfigJson, tokenizerJson } from "./model-files.js"

export type GeneratedModelName = "tiny" | "qwen-shape"
export const generatedModels: ReadonlyArray<GeneratedModelName> = ["tiny", "qwen-shape"]

export const modelSpecs: Record<GeneratedModelName, DecoderSpec> = {
  tiny: { layers: 2, hidden: 64, heads: 4, kvHeads: 2, headDim: 16, intermediate: 128, vocab: 257, maxPositions: 8192, ropeTheta: 10_000, rmsEps: 1e-6, seed: 7, kvPrecision: "fp16" },
  "qwen-shape": { layers: 24, hidden: 896, heads: 14, kvHeads: 2, headDim: 64, intermediate: 1216, vocab: 257, maxPositions: 8192, ropeTheta: 1_000_000, rmsEps: 1e-6, seed: 11, kvPrecision: "fp16" }
}

export const defaultModelRoot = resolve(".cache/models")

const writeAtomic = (path: string, data: string | Uint8Array) => {
  const tmp = `${path}.tmp-${process.pid}`
  writeFileSync(tmp, data)
  renameSync(tmp, path)
}

/**
 * The generator's own code is part of what a model is built from: a model folder built before a change to
 * the graph or the tokenizer files would otherwise be used as if current (its spec unchanged). SHA-256 of
 * the modules that write a model folder, read once per process.
 */
const GENERATOR_MODULES = ["decoder-graph", "onnx-graph", "model-files"] as const
let generatorHashRead: string | undefined
const generatorHash = (): string => {
  if (generatorHashRead !== undefined) return generatorHashRead
  const hash = createHash("sha256")
  for (const m of GENERATOR_MODULES) {
    // Run from source (tsx) or built: whichever sits beside this module.
    const ts = new URL(`./${m}.ts`, import.meta.url)
    hash.update(readFileSync(existsSync(ts) ? ts : new URL(`./${m}.js`, import.meta.url)))
  }
  return (generatorHashRead = hash.digest("hex"))
}

/**
 * The folder of generated model `name` under `root`, building it if missing or built from another spec
 * or another generator (see generatorHash).
 * Files are written atomically and the fingerprint last, so an interrupted build is rebuilt, never used.
 */
export const ensureModel = (name: GeneratedModelName, root = defaultModelRoot): string => {
  const spec = modelSpecs[name]
  const dir = join(root, name)
  const stamp = join(dir, "skymemory-spec.json")
  const fingerprint = JSON.stringify({ spec, generator: generatorHash() })
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === fingerprint) return dir
  mkdirSync(join(dir, "onnx"), { recursive: true })
  writeAtomic(join(dir, "config.json"), JSON.stringify(configJson(spec), null, 2))
  writeAtomic(join(dir, "tokenizer.json"), JSON.stringify(tokenizerJson()))
  writeAtomic(join(dir, "tokenizer_config.json"), JSON.stringify(tokenizerConfigJson(spec), null, 2))
  writeAtomic(join(dir, "generation_config.json"), JSON.stringify(generationConfigJson(), null, 2))
  writeAtomic(join(dir, "onnx", "model.onnx"), buildDecoder(spec))
  writeAtomic(stamp, fingerprint)
  return dir
}

export { parameterCount }

/** The arithmetic shape of a model folder's config.json (llama/qwen2 or gpt2 field names). */
export const modelArithmetic = (folder: string) => {
  const c = JSON.parse(readFileSync(join(folder, "config.json"), "utf8")) as Record<string, number | undefined>
  const hidden = c.hidden_size ?? c.n_embd ?? 0
  // 0 where a field is missing, never a guess: a reader checks what it needs (runner.ts shapeOf).
  const heads = c.num_attention_heads ?? c.n_head ?? 0
  return {
    layers: c.num_hidden_layers ?? c.n_layer ?? 0,
    hidden,
    heads,
    kvHeads: c.num_key_value_heads ?? heads,
    headDim: c.head_dim ?? (heads > 0 ? hidden / heads : 0),
    intermediate: c.intermediate_size ?? c.n_inner ?? 4 * hidden,
    vocab: c.vocab_size ?? 0
  }
}
