/**
 * Compute time on other devices. Whether fetching a prefix's KV beats recomputing it depends on how fast
 * the device prefills: a fetch costs network time that grows with the prefix's bytes, a prefill costs
 * FLOPs that grow with its tokens (and their square, through attention). We measure the model on this
 * machine, count the FLOPs of what it ran, and scale: device time = FLOPs / the device's effective rate.
 *
 * The rates are dense half-precision peaks from the vendors' data sheets times a utilisation typical of
 * batch-1 prefill of a small model; they are assumptions, printed with every result, and a flag away
 * from changing (the experiment's --device-tflops).
 */
export interface DeviceProfile {
  readonly name: string
  /** Effective dense FLOP/s for prefill. */
  readonly flopsPerSecond: number
  readonly note: string
}

export const deviceProfiles: ReadonlyArray<DeviceProfile> = [
  // Jetson Orin Nano 8 GB (the paper's "Jetson Nano"-class board): ~10 TFLOPS dense FP16 tensor peak, 30%.
  { name: "jetson-orin-nano-8gb", flopsPerSecond: 3e12, note: "10 TFLOPS dense FP16 peak x 0.3 utilisation" },
  // H100 SXM: 989 TFLOPS dense FP16 tensor peak, 40%.
  { name: "h100-sxm", flopsPerSecond: 400e12, note: "989 TFLOPS dense FP16 peak x 0.4 utilisation" }
]

export interface ModelArithmetic {
  readonly layers: number
  readonly hidden: number
  readonly heads: number
  readonly kvHeads: number
  readonly headDim: number
  readonly intermediate: number
  readonly vocab: number
}

/**
 * Qwen2.5-0.5B (the model whose KV the Mooncake replay's blocks are sized for: 12,288 B of fp16 K+V per
 * token), from its published config: 24 layers, hidden 896, 14 query heads and 2 KV heads of 64, MLP
 * 4,864, vocabulary 151,936.
 */
export const qwen25HalfB: ModelArithmetic = { layers: 24, hidden: 896, heads: 14, kvHeads: 2, headDim: 64, intermediate: 4864, vocab: 151_936 }

export const deviceNamed = (name: string): DeviceProfile | undefined => deviceProfiles.find((d) => d.name === name)

/** Seconds to prefill tokens [from, to) of model `m` on `device` (0 for none). */
export const prefillSecondsOn = (device: DeviceProfile, m: ModelArithmetic, from: number, to: number): number =>
  to > from ? prefillFlops(m, from, to) / device.flopsPerSecond : 0

/**
 * FLOPs to prefill tokens [from, to) of a prompt with the cache of [0, from): per token the weight
 * matmuls (2 FLOPs per weight: Q, K, V, O, the three MLP matrices, the LM head) and attention over every
 * earlier position (QK^T and AV: 4 x heads x headDim per visible key).
 */
export const prefillFlops = (m: ModelArithmetic, from: number, to: number): number => {
  const weights = m.layers * (m.hidden * m.heads * m.headDim * 2 + 2 * m.hidden * m.kvHeads * m.headDim + 3 * m.hidden * m.intermediate) + m.hidden * m.vocab
  const n = to - from
  // Sum over positions i in [from, to) of (i + 1) visible keys.
  const visible = (to * (to + 1)) / 2 - (from * (from + 1)) / 2
  return 2 * weights * n + 4 * m.layers * m.heads * m.headDim * visible
}

/**
 * The smallest prefix length in [1, maxTokens] at which fetch + suffix prefill beats a full prefill on a
 * device of `flopsPerSecond`, given the fetch time as a function of prefix length; undefined if none.
 */
export const crossoverTokens = (
  m: ModelArithmetic, suffixTokens: number, fetchMs: (prefix: number) => number, flopsPerSecond: number, maxTokens = 65_536
): number | undefined => {
  const wins = (p: number) => fetchMs(p) + (prefillFlops(m, p, p + suffixTokens) / flopsPerSecond) * 1e3 < (prefillFlops(m, 0, p + suffixTokens) / flopsPerSecond) * 1e3
  let lo = 1
  while (lo <= maxTokens && !wins(lo)) lo *= 2
  if (lo > maxTokens && !wins(maxTokens)) return undefined
  // Refine between the last losing power of two and the first winning one (or maxTokens).
  let bad = Math.floor(lo / 2), good = Math.min(lo, maxTokens)
  if (bad < 1) return good
  while (good - bad > 1) {
    const mid = Math.floor((good + bad) / 2)
    if (wins(mid)) good = mid
    else bad = mid
  }
  return good
}

/** Least-squares line through (x, y) points: y = a + b x. Hand-written: five lines, no package needed. */
export const fitLine = (xs: ReadonlyArray<number>, ys: ReadonlyArray<number>): { a: number; b: number } => {
  const n = xs.length
  // One point: a line through the origin (all of the time proportional to the length).
  if (n === 1) return { a: 0, b: xs[0]! === 0 ? 0 : ys[0]! / xs[0]! }
  const mx = xs.reduce((s, x) => s + x, 0) / n, my = ys.reduce((s, y) => s + y, 0) / n
  let sxy = 0, sxx = 0
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my)
    sxx += (xs[i]! - mx) ** 2
  }
  const b = sxx === 0 ? 0 : sxy / sxx
  return { a: my - b * mx, b }
}
