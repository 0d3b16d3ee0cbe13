/**
 * The trace hash: every actor folds the messages delivered to it, in delivery order, into its own 64-bit
 * running hash (two 32-bit lanes); the run's hash folds the actors' hashes in actor order. Since an actor
 * lives on exactly one shard and sees its messages in (time, src, seq) order, the result does not depend
 * on the number of workers, and any change of order, time or content changes it.
 *
 * Hand-written (murmur3's 32-bit finalizer and multiply constants) rather than a hashing package because
 * it runs once per delivered message on the hot path: a call into a WASM or crypto hasher per message
 * would cost more than the rest of the delivery. Block keys of the cache use a real hash function.
 */
const f64 = new Float64Array(1)
const u32 = new Uint32Array(f64.buffer)

const mix = (h: number, k: number): number => {
  k = Math.imul(k, 0xcc9e2d51)
  k = (k << 15) | (k >>> 17)
  k = Math.imul(k, 0x1b873593)
  h ^= k
  h = (h << 13) | (h >>> 19)
  return (Math.imul(h, 5) + 0xe6546b64) | 0
}

const fmix = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** Fold one delivery into lanes [2a, 2a+1] of `hashes`. */
export const foldDelivery = (hashes: Uint32Array, actor: number, time: number, origin: number, originSeq: number, tag: number, bytes: number): void => {
  f64[0] = time
  let lo = hashes[2 * actor]!
  let hi = hashes[2 * actor + 1]!
  lo = mix(mix(mix(lo, u32[0]!), u32[1]!), origin)
  hi = mix(mix(mix(hi, originSeq), tag), bytes ^ u32[0]!)
  hashes[2 * actor] = lo
  hashes[2 * actor + 1] = hi
}

/** Combine per-actor lanes (actor order) into one 16-hex-digit hash. */
export const combine = (hashes: Uint32Array): string => {
  let lo = 0x9747b28c
  let hi = 0x2f1a0b3d
  for (let a = 0; a < hashes.length / 2; a++) {
    lo = mix(lo, hashes[2 * a]!)
    hi = mix(hi, hashes[2 * a + 1]!)
    lo = mix(lo, a)
  }
  return fmix(lo ^ hashes.length).toString(16).padStart(8, "0") + fmix(hi).toString(16).padStart(8, "0")
}
