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

/** Per-actor streams of the faults a host injects (ids apart from actors' own streams and runs' named ones). */
export const ActorStream = { loss: 1, bitErrors: 2 } as const

/**
 * Actor `actor`'s stream for one purpose: draws made by or for one actor, so that a run's faults do not
 * depend on the order in which shards interleave different actors' events.
 */
export const actorStreamRng = (seed: number, purpose: typeof ActorStream[keyof typeof ActorStream], actor: number): RandomGenerator =>
  streamRng(seed, -(purpose * 2 ** 20) - 1 - actor)
