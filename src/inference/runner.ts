/**
 * A causal LM loaded by transformers.js from a local folder (remote models off): one of the project's
 * generated models by name, or any model folder a user has (`--model PATH`, e.g. an ONNX export of
 * Qwen2.5-0.5B-Instruct). Its KV cache goes out as plain arrays after a prefill and comes back in as a
 * DynamicCache, so that only the uncached suffix of a prompt is prefilled.
 */
import { readFileSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"
import { AutoModelForCausalLM, AutoTokenizer, DynamicCache, env, LogitsProcessor, LogitsProcessorList, Tensor } from "@huggingface/transformers"
import { ensureModel, type GeneratedModelName, generatedModels, modelArithmetic } from "./models.js"

export interface KvShapeOfModel {
  readonly layers: number
  readonly kvHeads: number
  readonly headDim: number
}

/** A prompt prefix's KV cache, batch 1: per layer, keys and values laid out [kvHeads, tokens, headDim]. */
export interface PastKv extends KvShapeOfModel {
  readonly tokens: number
  readonly keys: ReadonlyArray<Float32Array>
  readonly values: ReadonlyArray<Float32Array>
}

export class ModelLoadError extends Error {
  readonly _tag = "ModelLoadError"
}

/** Where a model comes from: a generated model's name, or a folder path. */
export const resolveModelFolder = (model: string): string => {
  if ((generatedModels as ReadonlyArray<string>).includes(model)) return ensureModel(model as GeneratedModelName)
  const dir = resolve(model)
  try {
    readFileSync(join(dir, "config.json"))
  } catch {
    throw new ModelLoadError(`--model: "${model}" is neither a generated model (${generatedModels.join(", ")}) nor a folder with config.json`)
  }
  return dir
}

const shapeOf = (dir: string): KvShapeOfModel => {
  const { layers, kvHeads, headDim } = modelArithmetic(dir)
  if (!layers || !kvHeads || !headDim) throw new ModelLoadError(`${dir}/config.json: cannot read layers, KV heads and head size`)
  return { layers, kvHeads, headDim }
}

// transformers.js's Callable turns an instance into a function that calls `_call`; this one keeps a copy
// of the logits of every step (the first step's are the prompt's next-token logits).
class CaptureLogits extends (LogitsProcessor as unknown as new () => object) {
  readonly steps: Array<Float32Array> = []
  _call(_ids: unknown, logits: Tensor): Tensor {
    this.steps.push(new Float32Array(logits.data as Float32Array))
    return logits
  }
}

export interface Generation {
  readonly tokens: ReadonlyArray<number>
  /** Next-token logits after the prompt. */
  readonly firstLogits: Float32Array
  /** Wall time to the first new token (prefill of what was not cached, and one sampling step), ms. */
  readonly firstTokenMs: number
  /** Wall time of the whole call, ms. */
  readonly totalMs: number
  /** With `returnPast`: the KV cache of the prompt and the generated tokens but the last. */
  readonly past?: PastKv
}

export class CausalLm {
  private constructor(
    readonly folder: string,
    readonly shape: KvShapeOfModel,
    private readonly tokenizer: Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>,
    private readonly model: Awaited<ReturnType<typeof AutoModelForCausalLM.from_pretrained>>
  ) {}

  /** Load `model` (generated name or folder) on the CPU, fp32, `threads` intra-op threads. */
  static async load(model: string, threads = 1): Promise<CausalLm> {
    const dir = resolveModelFolder(model)
    // Before the weights load: a config without a KV shape fails at once, naming the file.
    const shape = shapeOf(dir)
    env.allowRemoteModels = false
    env.localModelPath = `${dirname(dir)}/`
    const id = basename(dir)
    const tokenizer = await AutoTokenizer.from_pretrained(id)
    const lm = await AutoModelForCausalLM.from_pretrained(id, { dtype: "fp32", device: "cpu", session_options: { intraOpNumThreads: threads } })
    return new CausalLm(dir, shape, tokenizer, lm)
  }

  encode(text: string): Array<number> {
    return this.tokenizer.encode(text, { add_special_tokens: false })
  }

  decode(tokens: ReadonlyArray<number>): string {
    return this.tokenizer.decode([...tokens], { skip_special_tokens: true })
  }

  private inputs(tokens: ReadonlyArray<number>) {
    const n = tokens.length
    return {
      input_ids: new Tensor("int64", BigInt64Array.from(tokens, (t) => BigInt(t)), [1, n]),
      attention_mask: new Tensor("int64", new BigInt64Array(n).fill(1n), [1, n])
    }
  }

  private cacheOf(past: PastKv): InstanceType<typeof DynamicCache> {
    const entries: Record<string, Tensor> = {}
    for (let l = 0; l < past.layers; l++) {
      const dims = [1, past.kvHeads, past.tokens, past.headDim]
      // Copies: generate() grows the cache in place, and the caller's arrays are reused.
      entries[`past_key_values.${l}.key`] = new Tensor("float32", new Float32Array(past.keys[l]!), dims)
      entries[`past_key_values.${l}.value`] = new Tensor("float32", new Float32Array(past.values[l]!), dims)
    }
    return new DynamicCache(entries)
  }

  /** Full prefill of `tokens`: the next-token logits and the KV cache of every token. */
  async prefill(tokens: ReadonlyArray<number>): Promise<{ logits: Float32Array; past: PastKv; ms: number }> {
    const t0 = performance.now()
    const out = (await (this.model as unknown as (x: unknown) => Promise<Record<string, Tensor>>)(this.inputs(tokens))) as Record<string, Tensor>
    const ms = performance.now() - t0
    const logits = out.logits!
    const vocab = logits.dims[2]!
    const last = new Float32Array((logits.data as Float32Array).subarray((tokens.length - 1) * vocab, tokens.length * vocab))
    const keys: Array<Float32Array> = [], values: Array<Float32Array> = []
    for (let l = 0; l < this.shape.layers; l++) {
      keys.push(new Float32Array(out[`present.${l}.key`]!.data as Float32Array))
      values.push(new Float32Array(out[`present.${l}.value`]!.data as Float32Array))
    }
    return { logits: last, past: { ...this.shape, tokens: tokens.length, keys, values }, ms }
  }

  /**
   * Greedy generation after `tokens`, reusing `past` (the KV cache of a prefix of `tokens`) if given, so
   * only the rest is prefilled. At least one prompt token must be left to prefill: callers cut the cache
   * back by one token when a whole prompt is cached (see `usableCache`). `stopAtEos` ends at the
   * end-of-text token (for chat); otherwise exactly `maxNewTokens` are generated.
   */
  async generate(tokens: ReadonlyArray<number>, maxNewTokens: number, past?: PastKv, o: { stopAtEos?: boolean; returnPast?: boolean } = {}): Promise<Generation> {
    if (past && past.tokens >= tokens.length) throw new RangeError(`cached ${past.tokens} tokens of a ${tokens.length}-token prompt: leave at least one to prefill`)
    const capture = new CaptureLogits()
    const processors = new LogitsProcessorList()
    processors.push(capture as never)
    let firstTokenMs = 0
    const t0 = performance.now()
    const streamer = { put: () => { if (firstTokenMs === 0 && capture.steps.length > 0) firstTokenMs = performance.now() - t0 }, end: () => {} }
    const out = (await this.model.generate({
      ...this.inputs(tokens),
      ...(past ? { past_key_values: this.cacheOf(past) } : {}),
      max_new_tokens: maxNewTokens,
      // Without an end token, exactly maxNewTokens come out (comparisons of 64 greedy tokens need that);
      // min_new_tokens would instead mask the end token's logit before our capture sees it.
      ...(o.stopAtEos ? {} : { eos_token_id: null }),
      do_sample: false,
      logits_processor: processors,
      return_dict_in_generate: true,
      streamer
    } as never)) as { sequences: Tensor; past_key_values: Record<string, Tensor> }
    const totalMs = performance.now() - t0
    if (firstTokenMs === 0) firstTokenMs = totalMs
    const seq = Array.from(out.sequences.data as BigInt64Array, Number)
    const result = { tokens: seq.slice(tokens.length), firstLogits: capture.steps[0]!, firstTokenMs, totalMs }
    if (!o.returnPast) return result
    const cache = out.past_key_values
    const read = (l: number, kind: "key" | "value") => new Float32Array(cache[`past_key_values.${l}.${kind}`]!.data as Float32Array)
    const cachedTokens = cache["past_key_values.0.key"]!.dims[2]!
    return {
      ...result,
      past: {
        ...this.shape, tokens: cachedTokens,
        keys: Array.from({ length: this.shape.layers }, (_, l) => read(l, "key")),
        values: Array.from({ length: this.shape.layers }, (_, l) => read(l, "value"))
      }
    }
  }
}

/** The first `tokens` tokens of a cache (per layer, per head). */
export const truncatePast = (past: PastKv, tokens: number): PastKv => {
  if (tokens > past.tokens) throw new RangeError(`cannot cut a ${past.tokens}-token cache to ${tokens}`)
  if (tokens === past.tokens) return past
  const cut = (a: Float32Array) => {
    const out = new Float32Array(past.kvHeads * tokens * past.headDim)
    for (let h = 0; h < past.kvHeads; h++) out.set(a.subarray(h * past.tokens * past.headDim, (h * past.tokens + tokens) * past.headDim), h * tokens * past.headDim)
    return out
  }
  return { ...past, tokens, keys: past.keys.map(cut), values: past.values.map(cut) }
}

/** How much of a `cached`-token cache a `promptTokens`-token prompt can use: all but its last token. */
export const usableCache = (cached: number, promptTokens: number): number => Math.max(0, Math.min(cached, promptTokens - 1))

export const maxAbsDiff = (a: Float32Array, b: Float32Array): number => {
  if (a.length !== b.length) throw new RangeError(`logit vectors differ in length: ${a.length} vs ${b.length}`)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}
