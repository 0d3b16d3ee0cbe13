/**
 * Injected faults of one shard, all in virtual time and seeded: message loss (one draw per message, end
 * to end, from the sender's own stream, so which messages are lost does not depend on how actors are
 * split into shards) and actors down until a time (their state is lost by the engine; messages that
 * reach them are dropped, their own timers wait until they are up). Faults of links belong to the
 * world's network. Off unless a host turns them on.
 */
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64"
import type { RandomGenerator } from "pure-rand/types/RandomGenerator"
import { actorStreamRng, ActorStream } from "./random.js"

export class Faults {
  private readonly rngs: Array<RandomGenerator | undefined>
  private readonly downUntil: Float64Array

  constructor(readonly lossRate: number, private readonly seed: number, actors: number) {
    this.rngs = new Array(actors)
    this.downUntil = new Float64Array(actors)
  }

  /** Draw whether the message `sender` is sending is lost. */
  lost(sender: number): boolean {
    if (!(this.lossRate > 0)) return false
    const rng = (this.rngs[sender] ??= actorStreamRng(this.seed, ActorStream.loss, sender))
    return uniformFloat64(rng) < this.lossRate
  }

  down(actor: number, until: number): void {
    this.downUntil[actor] = until
  }

  isDown(actor: number, now: number): boolean {
    return this.downUntil[actor]! > now
  }

  /** When a down actor is up again. */
  upAt(actor: number): number {
    return this.downUntil[actor]!
  }
}
