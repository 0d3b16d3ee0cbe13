import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64"
import type { RandomGenerator } from "pure-rand/types/RandomGenerator"
import { streamRng } from "./random.js"

/**
 * Injected faults of one shard, all in virtual time and seeded: message loss (one draw per message, end
 * to end), satellites down until a time (their store is lost by the engine; what reaches them is
 * dropped), ground actors' radios out until a time. Off unless a host (ConstellationKvCache) turns it on.
 */
export class Faults {
  private readonly rng: RandomGenerator
  private readonly downUntil: Float64Array
  private readonly outageUntil: Float64Array

  constructor(readonly lossRate: number, seed: number, actors: number, users: number) {
    this.rng = streamRng(seed, -3)
    this.downUntil = new Float64Array(actors)
    this.outageUntil = new Float64Array(users)
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

  radioOut(user: number, until: number): void {
    this.outageUntil[user] = until
  }

  isRadioOut(user: number, now: number): boolean {
    return this.outageUntil[user]! > now
  }
}
