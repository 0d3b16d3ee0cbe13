/**
 * A reusable barrier for the shards of one run, in shared memory (Atomics), with an abort flag so a shard
 * that fails releases the others instead of leaving them waiting forever. One barrier per window: the
 * cost of synchronisation is a few microseconds instead of a message round trip through the main thread.
 *
 * Layout (Int32Array over a SharedArrayBuffer): [generation, arrived, abort, abortingShard].
 */
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

/** Loads a waiting party spins before it sleeps: SKY_SPIN, for measuring (docs/performance.md), or 50,000 (~0.35 ms). */
const spinsFromEnv = (): number => {
  const raw = process.env.SKY_SPIN
  if (raw === undefined) return 50_000
  const n = Number(raw)
  if (raw.trim() === "" || !Number.isInteger(n) || n < 0) throw new Error(`SKY_SPIN: expected a whole number >= 0, got "${raw}"`)
  return n
}

/** Spins that end in sleep, in a row, before a party stops spinning long (see Barrier). */
const FAILED_SPINS_TO_BACK_OFF = 3
/** Loads a party spins while it backs off: enough to notice a partner already there. */
const SHORT_SPIN = 128
/** Waits with short spins before the next long one, at first and at most (doubling while long spins keep failing). */
const BACK_OFF_WAITS = 64
const MAX_BACK_OFF_WAITS = 4096

/**
 * Spinning depends on the machine. With a core per party, a partner arrives within microseconds (or
 * within a sleeping party's ~50-us wake-up, which the long spin covers), and spinning saves that wake-up
 * on every window. With more runnable threads than cores (another program busy beside the run), the
 * partner a party spins for may be waiting for that very core: every long spin then ends in sleep after
 * burning its budget, window after window (2 workers on a 600-s starlink-shell1 run took 17.9 s instead of
 * 3 with one core busy: docs/performance.md). So after FAILED_SPINS_TO_BACK_OFF long spins in a row end
 * in sleep, a party spins short for a while, then tries one long spin again.
 */
export class Barrier {
  private failedSpins = 0
  private shortWaits = 0
  private backOff = BACK_OFF_WAITS

  constructor(
    private readonly ctl: Int32Array,
    private readonly parties: number,
    private readonly spin = spinsFromEnv()
  ) {}

  /** Loads the next wait spins before it sleeps (for tests). */
  get nextSpin(): number {
    return this.shortWaits === 0 ? this.spin : Math.min(SHORT_SPIN, this.spin)
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
    const long = this.shortWaits === 0
    const budget = this.nextSpin
    if (!long) this.shortWaits--
    for (let k = 0; k < budget; k++) {
      if (Atomics.load(ctl, GEN) !== gen) {
        if (long) {
          this.failedSpins = 0
          this.backOff = BACK_OFF_WAITS
        }
        return this.released()
      }
    }
    if (long && ++this.failedSpins >= FAILED_SPINS_TO_BACK_OFF) {
      this.shortWaits = this.backOff
      this.backOff = Math.min(2 * this.backOff, MAX_BACK_OFF_WAITS)
    }
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

  get aborted(): boolean {
    return Atomics.load(this.ctl, ABORT) !== 0
  }
}
