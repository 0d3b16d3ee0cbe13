/**
 * Injected faults of one shard, all in virtual time and seeded: message loss (one draw per message, end
 * to end) and actors down until a time (their state is lost by the engine; what reaches them is
 * dropped). Faults of links belong to the world's network. Off unless a host turns them on.
 */
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64"
import type { RandomGenerator } from "pure-rand/types/RandomGenerator"
import { streamRng } from "./random.js"

export class Faults {
  private readonly rng: RandomGenerator
  private readonly downUntil: Float64Array

  constructor(readonly lossRate: number, seed: number, actors: number) {
    this.rng = streamRng(seed, -3)
    this.downUntil = new Float64Array(actors)
  }

  /** Draw whether the message being sent is lost. */
  lost(): boolean {
    return this.lossRate > 0 && uniformFloat64(this.rng) < this.lossRate
  }

  down(actor: number, until: number): void {
    this.downUntil[actor] = until
  }

  isDown(actor: number, now: number): boolean {
    return this.downUntil[actor]! > now
  }
}
