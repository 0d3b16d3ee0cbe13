/**
 * A reusable barrier for the shards of one run, in shared memory (Atomics), with an abort flag so a shard
 * that fails releases the others instead of leaving them waiting forever. One barrier per window: the
 * cost of synchronisation is a few microseconds instead of a message round trip through the main thread.
 *
 * Layout (Int32Array over a SharedArrayBuffer): [generation, arrived, abort, abortingShard].
 */
import { SpinPolicy } from "./spin-policy.js"

export const BARRIER_INTS = 4
const GEN = 0
const ARRIVED = 1
const ABORT = 2
const WHO = 3

export class RunAborted extends Error {
  constructor(readonly shard: number) {
    super(`run aborted by shard ${shard}`)
  }
}

/**
 * The shard a RunAborted names, also once it has crossed a thread (piscina and comlink keep an error's
 * message, not its class); undefined for any other error: a shard's own failure.
 */
export const abortingShardOf = (e: unknown): number | undefined => {
  const m = /^run aborted by shard (\d+)/.exec((e as Error)?.message ?? "")
  return m ? Number(m[1]) : undefined
}

/** Loads a waiting party spins before it sleeps: SKY_SPIN, for measuring (docs/performance.md), or 50,000 (~0.35 ms). */
const spinsFromEnv = (): number => {
  const raw = process.env.SKY_SPIN
  if (raw === undefined) return 50_000
  const n = Number(raw)
  if (raw.trim() === "" || !Number.isInteger(n) || n < 0) throw new Error(`SKY_SPIN: expected a whole number >= 0, got "${raw}"`)
  return n
}

/**
 * The barrier of `parties` shards. A party that is not the last to arrive spins on the generation for as
 * many loads as its SpinPolicy says (spin-policy.ts: long while partners keep up, short while long spins
 * keep ending in sleep), then sleeps on it until the last arrival, or an abort, moves it on.
 */
export class Barrier {
  private readonly policy: SpinPolicy

  constructor(
    private readonly ctl: Int32Array,
    private readonly parties: number,
    spin = spinsFromEnv()
  ) {
    this.policy = new SpinPolicy(spin)
  }

  /** Loads the next wait spins before it sleeps (for tests). */
  get nextSpin(): number {
    return this.policy.nextSpin
  }

  /** Wait for every party; throws RunAborted if any party aborted. */
  arrive(): void {
    const ctl = this.ctl
    if (Atomics.load(ctl, ABORT) !== 0) throw new RunAborted(Atomics.load(ctl, WHO))
    const gen = Atomics.load(ctl, GEN)
    if (Atomics.add(ctl, ARRIVED, 1) === this.parties - 1) {
      Atomics.store(ctl, ARRIVED, 0)
      Atomics.add(ctl, GEN, 1)
      Atomics.notify(ctl, GEN)
      return
    }
    const policy = this.policy
    const long = policy.long
    const budget = policy.nextSpin
    for (let k = 0; k < budget; k++) {
      if (Atomics.load(ctl, GEN) !== gen) {
        policy.waited(long, false)
        return this.released()
      }
    }
    policy.waited(long, true)
    // abort() moves the generation on too, so a sleeping party wakes for it as for its partners.
    while (Atomics.load(ctl, GEN) === gen) Atomics.wait(ctl, GEN, gen, 50)
    this.released()
  }

  /** The generation moved on: every party arrived, or one aborted (then this one must not run on). */
  private released(): void {
    if (Atomics.load(this.ctl, ABORT) !== 0) throw new RunAborted(Atomics.load(this.ctl, WHO))
  }

  abort(shard: number): void {
    if (Atomics.compareExchange(this.ctl, ABORT, 0, 1) === 0) Atomics.store(this.ctl, WHO, shard)
    Atomics.add(this.ctl, GEN, 1)
    Atomics.notify(this.ctl, GEN)
  }
}
