/**
 * When a party waiting at the shards' barrier spins long and when it backs off to short spins: the policy
 * alone, apart from the shared memory it is applied to (barrier.ts), so that it can be followed wait by
 * wait in a test.
 *
 * Spinning depends on the machine. With a core per party, a partner arrives within microseconds (or
 * within a sleeping party's ~50-us wake-up, which the long spin covers), and spinning saves that wake-up
 * on every window. With more runnable threads than cores (another program busy beside the run), the
 * partner a party spins for may be waiting for that very core: every long spin then ends in sleep after
 * burning its budget, window after window (2 workers on a 600-s starlink-shell1 run took 17.9 s instead of
 * 3 with one core busy: docs/performance.md). So after FAILED_SPINS_TO_BACK_OFF long spins in a row end
 * in sleep, a party spins short for a while, then tries one long spin again.
 */

/** Spins that end in sleep, in a row, before a party stops spinning long. */
const FAILED_SPINS_TO_BACK_OFF = 3
/** Loads a party spins while it backs off: enough to notice a partner already there. */
const SHORT_SPIN = 128
/** Waits with short spins before the next long one, at first and at most (doubling while long spins keep failing). */
const BACK_OFF_WAITS = 64
const MAX_BACK_OFF_WAITS = 4096

export class SpinPolicy {
  private failedSpins = 0
  private shortWaits = 0
  private backOff = BACK_OFF_WAITS

  /** `spin`: loads of a long spin. */
  constructor(readonly spin: number) {}

  /** Whether the next wait spins long. */
  get long(): boolean {
    return this.shortWaits === 0
  }

  /** Loads the next wait spins before it sleeps. */
  get nextSpin(): number {
    return this.long ? this.spin : Math.min(SHORT_SPIN, this.spin)
  }

  /**
   * A wait ended: `long` as `long` read before it, `spunOut` if its spin ended in sleep. Only long spins
   * teach the policy; a short one only counts down the back-off.
   */
  waited(long: boolean, spunOut: boolean): void {
    if (!long) {
      this.shortWaits--
    } else if (!spunOut) {
      this.failedSpins = 0
      this.backOff = BACK_OFF_WAITS
    } else if (++this.failedSpins >= FAILED_SPINS_TO_BACK_OFF) {
      this.shortWaits = this.backOff
      this.backOff = Math.min(2 * this.backOff, MAX_BACK_OFF_WAITS)
    }
  }
}
