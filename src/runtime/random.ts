/**
 * Independent seeded streams per (run seed, stream id). xoroshiro128+ seeded with neighbouring integers
 * gives nearly equal first outputs (seen: 0.98509878... for five consecutive seeds), which would make
 * every satellite beacon at the same instant; so the seed is scrambled with murmur3's finalizer first and
 * the first output is discarded.
 */
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus"
import type { RandomGenerator } from "pure-rand/types/RandomGenerator"

const fmix32 = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) | 0
}

export const streamRng = (seed: number, stream: number): RandomGenerator => {
  const rng = xoroshiro128plus(fmix32(fmix32(seed + 0x9e3779b9) ^ Math.imul(stream + 1, 0x27d4eb2f)))
  rng.next()
  return rng
}
