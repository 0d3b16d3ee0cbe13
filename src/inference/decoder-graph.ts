/**
 * A llama-architecture decoder (the family of Qwen2.5) as an ONNX graph with seeded random weights:
 * token embedding, per layer RMSNorm -> grouped-query attention with rotary position embedding and a
 * KV cache (past ++ new -> present) -> residual -> RMSNorm -> SwiGLU MLP -> residual; final RMSNorm and
 * LM head. Inputs and outputs follow the names transformers.js expects of a causal LM with a cache
 * (input_ids, attention_mask, position_ids, past_key_values.{i}.key|value -> logits, present.{i}.key|value).
 * Weights are random, so the text is noise; the shapes, the attention arithmetic and the cache are real,
 * which is what the KV-cache protocol and the timing care about.
 */
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus"
import type { ModelArithmetic } from "./devices.js"
import { GraphBuilder } from "./onnx-graph.js"

export interface DecoderSpec extends ModelArithmetic {
  readonly maxPositions: number
  readonly ropeTheta: number
  readonly rmsEps: number
  readonly seed: number
  /**
   * Precision the KV cache is held at. "fp16" rounds new keys and values to half precision before they
   * enter the cache, as a half-precision deployment holds it (Qwen2.5 runs in bf16/fp16); the fp16 codec
   * is then lossless. "fp32" keeps full precision.
   */
  readonly kvPrecision: "fp16" | "fp32"
}

export const OPSET = 17

/** Seeded uniform weights with standard deviation `std` (the stream is xoroshiro128+ from pure-rand). */
const weights = (rng: ReturnType<typeof xoroshiro128plus>, n: number, std: number): Float32Array => {
  const out = new Float32Array(n)
  const a = std * Math.sqrt(3) / 2 ** 31
  for (let i = 0; i < n; i++) out[i] = rng.next() * a
  return out
}

export const parameterCount = (s: DecoderSpec): number =>
  2 * s.vocab * s.hidden + s.hidden +
  s.layers * (2 * s.hidden + s.hidden * s.heads * s.headDim * 2 + 2 * s.hidden * s.kvHeads * s.headDim + 3 * s.hidden * s.intermediate)

/** The model's ONNX bytes. */
export const buildDecoder = (s: DecoderSpec): Uint8Array => {
  if (s.heads % s.kvHeads !== 0) throw new RangeError(`heads (${s.heads}) must be a multiple of kvHeads (${s.kvHeads})`)
  if (s.headDim % 2 !== 0) throw new RangeError(`headDim must be even for rotary embedding, got ${s.headDim}`)
  const rng = xoroshiro128plus(s.seed)
  const g = new GraphBuilder()
  const H = s.hidden, NH = s.heads, KVH = s.kvHeads, HD = s.headDim, G = NH / KVH, half = HD / 2
  const ids = g.input("input_ids", "int64", ["batch_size", "sequence_length"])
  const mask = g.input("attention_mask", "int64", ["batch_size", "total_sequence_length"])
  const positions = g.input("position_ids", "int64", ["batch_size", "sequence_length"])
  const past = Array.from({ length: s.layers }, (_, i) => ({
    key: g.input(`past_key_values.${i}.key`, "float", ["batch_size", KVH, "past_sequence_length", HD]),
    value: g.input(`past_key_values.${i}.value`, "float", ["batch_size", KVH, "past_sequence_length", HD])
  }))

  // Additive attention bias [b, 1, 1, s, T]: key j is visible to query i iff j <= past + i and unmasked.
  const zero = g.ints([0], []), one = g.ints([1], [])
  const seqLen = g.op("Gather", [g.op("Shape", [ids]), one], { axis: 0 })
  const total = g.op("Gather", [g.op("Shape", [mask]), one], { axis: 0 })
  const pastLen = g.op("Sub", [total, seqLen])
  const qIdx = g.op("Range", [pastLen, total, one])
  const kIdx = g.op("Range", [zero, total, one])
  const causal = g.op("LessOrEqual", [g.op("Unsqueeze", [kIdx, g.ints([0])]), g.op("Unsqueeze", [qIdx, g.ints([1])])])
  const unmasked = g.op("Unsqueeze", [g.op("Cast", [mask], { to: 9 }), g.ints([1, 2])])
  const visible = g.op("And", [causal, unmasked])
  const bias = g.op("Unsqueeze", [g.op("Where", [visible, g.scalar(0), g.scalar(-1e9)]), g.ints([1])])

  // Rotary tables [maxPositions, HD/2], gathered by position: [b, 1, s, HD/2].
  const cos = new Float32Array(s.maxPositions * half), sin = new Float32Array(s.maxPositions * half)
  for (let p = 0; p < s.maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * Math.pow(s.ropeTheta, (-2 * i) / HD)
      cos[p * half + i] = Math.cos(angle)
      sin[p * half + i] = Math.sin(angle)
    }
  }
  const cosP = g.op("Unsqueeze", [g.op("Gather", [g.weight("rope_cos", [s.maxPositions, half], cos), positions], { axis: 0 }), g.ints([1])])
  const sinP = g.op("Unsqueeze", [g.op("Gather", [g.weight("rope_sin", [s.maxPositions, half], sin), positions], { axis: 0 }), g.ints([1])])
  // rotate(x) = [x1 cos - x2 sin, x2 cos + x1 sin] over the two halves of head_dim (HF's rotate_half).
  const rope = (x: string) => {
    const x1 = g.op("Slice", [x, g.ints([0]), g.ints([half]), g.ints([3])])
    const x2 = g.op("Slice", [x, g.ints([half]), g.ints([HD]), g.ints([3])])
    return g.op("Concat", [
      g.op("Sub", [g.op("Mul", [x1, cosP]), g.op("Mul", [x2, sinP])]),
      g.op("Add", [g.op("Mul", [x2, cosP]), g.op("Mul", [x1, sinP])])
    ], { axis: 3 })
  }
  const rmsNorm = (x: string, name: string) => {
    const ms = g.op("ReduceMean", [g.op("Mul", [x, x])], { axes: [-1], keepdims: 1 })
    const normed = g.op("Div", [x, g.op("Sqrt", [g.op("Add", [ms, g.scalar(s.rmsEps)])])])
    return g.op("Mul", [normed, g.weight(name, [H], new Float32Array(H).fill(1))])
  }
  const linear = (x: string, name: string, inDim: number, outDim: number, std = 1 / Math.sqrt(inDim)) =>
    g.op("MatMul", [x, g.weight(name, [inDim, outDim], weights(rng, inDim * outDim, std))])
  // ONNX Cast: 10 = FLOAT16, 1 = FLOAT.
  const cachePrecision = (x: string) => (s.kvPrecision === "fp16" ? g.op("Cast", [g.op("Cast", [x], { to: 10 })], { to: 1 }) : x)
  const heads = (x: string, n: number) => g.op("Transpose", [g.op("Reshape", [x, g.ints([0, 0, n, HD])])], { perm: [0, 2, 1, 3] })

  let x = g.op("Gather", [g.weight("embed_tokens", [s.vocab, H], weights(rng, s.vocab * H, 1)), ids], { axis: 0 })
  for (let l = 0; l < s.layers; l++) {
    const h = rmsNorm(x, `layers.${l}.input_norm`)
    const q = rope(heads(linear(h, `layers.${l}.q`, H, NH * HD), NH))
    const k = cachePrecision(rope(heads(linear(h, `layers.${l}.k`, H, KVH * HD), KVH)))
    const v = cachePrecision(heads(linear(h, `layers.${l}.v`, H, KVH * HD), KVH))
    const kAll = g.op("Concat", [past[l]!.key, k], { axis: 2 })
    const vAll = g.op("Concat", [past[l]!.value, v], { axis: 2 })
    g.output(`present.${l}.key`, kAll, "float", ["batch_size", KVH, "total_sequence_length", HD])
    g.output(`present.${l}.value`, vAll, "float", ["batch_size", KVH, "total_sequence_length", HD])
    // Grouped-query attention: query heads kv*G .. kv*G+G-1 share KV head kv (HF's repeat_kv order).
    const q5 = g.op("Reshape", [q, g.ints([0, KVH, G, -1, HD])])
    const kT = g.op("Unsqueeze", [g.op("Transpose", [kAll], { perm: [0, 1, 3, 2] }), g.ints([2])])
    const scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q5, kT]), g.scalar(1 / Math.sqrt(HD))]), bias])
    const attn = g.op("MatMul", [g.op("Softmax", [scores], { axis: -1 }), g.op("Unsqueeze", [vAll, g.ints([2])])])
    const merged = g.op("Reshape", [g.op("Transpose", [g.op("Reshape", [attn, g.ints([0, NH, -1, HD])])], { perm: [0, 2, 1, 3] }), g.ints([0, 0, NH * HD])])
    x = g.op("Add", [x, linear(merged, `layers.${l}.o`, NH * HD, H)])
    const h2 = rmsNorm(x, `layers.${l}.post_norm`)
    const gate = linear(h2, `layers.${l}.gate`, H, s.intermediate)
    const up = linear(h2, `layers.${l}.up`, H, s.intermediate)
    const act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), up])
    x = g.op("Add", [x, linear(act, `layers.${l}.down`, s.intermediate, H)])
  }
  // A larger LM-head scale gives peaked next-token distributions, like a trained model's.
  const logits = linear(rmsNorm(x, "final_norm"), "lm_head", H, s.vocab, 4 / Math.sqrt(H))
  g.output("logits", logits, "float", ["batch_size", "sequence_length", s.vocab])
  return g.encode(OPSET, "skymemory-decoder")
}
