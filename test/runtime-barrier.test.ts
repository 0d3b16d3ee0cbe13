import { Worker } from "node:worker_threads"
import { describe, expect, it } from "vitest"
import { Barrier, BARRIER_INTS, RunAborted } from "../src/runtime/barrier.js"
import { SpinPolicy } from "../src/runtime/spin-policy.js"

/** The other party on its own thread (support/barrier-partner.mjs); resolves when it has ended. */
const partner = (control: SharedArrayBuffer, spin: number, delays: ReadonlyArray<number>, abortAfterMs?: number) => {
  const worker = new Worker(new URL("./support/barrier-partner.mjs", import.meta.url), { workerData: { control, spin, delays, abortAfterMs } })
  const online = new Promise((resolve) => worker.on("online", resolve))
  const ended = new Promise((resolve, reject) => worker.on("exit", resolve).on("error", reject))
  return { online, ended }
}

describe("the shards' barrier", () => {
  it("spins long while its partner keeps up, backs off to short spins when long ones keep ending in sleep, and tries long again", async () => {
    // ~14 ms of spinning at most: a partner 0.2 ms behind is always within it; one 50 ms behind never is.
    // (A party that arrives last does not wait: the partner is kept behind so that this one waits.)
    const spin = 2_000_000
    const delays = [...Array(20).fill(0.2), ...Array(5).fill(50), ...Array(100).fill(0.2), ...Array(5).fill(50), ...Array(100).fill(0.2)]
    const control = new SharedArrayBuffer(4 * BARRIER_INTS)
    const barrier = new Barrier(new Int32Array(control), 2, spin)
    const { ended } = partner(control, spin, delays)
    expect(barrier.nextSpin).toBe(spin)
    const backingOff = delays.map(() => {
      barrier.arrive()
      // Backing off: 128 loads, enough to notice a partner already there.
      expect([spin, 128]).toContain(barrier.nextSpin)
      return barrier.nextSpin < spin
    })
    await ended
    expect(backingOff.slice(0, 20)).not.toContain(true)
    // The third long spin in a row that ends in sleep starts the back-off.
    expect(backingOff.slice(20, 25)).toEqual([false, false, true, true, true])
    // Short spins for 64 waits (a few more arrivals: one where this party comes last does not wait, and
    // does not count), then a long one succeeds again and stays. It resets the back-off: the next
    // episode is 64 waits again, not twice as many.
    const episode = (from: number) => backingOff.slice(from, from + 105).filter(Boolean).length
    expect(episode(20)).toBeGreaterThanOrEqual(64)
    expect(episode(20)).toBeLessThan(90)
    expect(backingOff.slice(125, 130)).toEqual([false, false, true, true, true])
    expect(episode(125)).toBeGreaterThanOrEqual(64)
    expect(episode(125)).toBeLessThan(90)
    expect(backingOff.at(-1)).toBe(false)
  }, 30_000)

  it("a party waiting when another aborts is released with RunAborted naming the aborting shard, asleep or spinning; after that every arrival is refused", async () => {
    for (const { spin, abortAfterMs } of [{ spin: 1_000, abortAfterMs: 30 }, { spin: 50_000_000, abortAfterMs: 5 }]) {
      const control = new SharedArrayBuffer(4 * BARRIER_INTS)
      const barrier = new Barrier(new Int32Array(control), 2, spin)
      const { online, ended } = partner(control, spin, [], abortAfterMs)
      await online
      expect(() => barrier.arrive()).toThrow(new RunAborted(1))
      await ended
      expect(() => barrier.arrive()).toThrow(new RunAborted(1))
      // Even a party that would complete the barrier alone.
      expect(() => new Barrier(new Int32Array(control), 1, spin).arrive()).toThrow(RunAborted)
    }
    // The first shard to abort is the one named: the others it released abort after it.
    const b = new Barrier(new Int32Array(new SharedArrayBuffer(4 * BARRIER_INTS)), 2, 0)
    b.abort(2)
    b.abort(5)
    expect(() => b.arrive()).toThrow(new RunAborted(2))
  }, 30_000)

  it("the spin policy, wait by wait: backs off for 64 waits, twice as many each time the long spin after fails again, at most 4,096; short spins are never longer than long ones", () => {
    const policy = new SpinPolicy(50_000)
    /** One wait, ending in sleep or not; whether it was a long spin. */
    const wait = (spunOut: boolean) => {
      const long = policy.long
      policy.waited(long, spunOut)
      return long
    }
    /** Waits until the next long spin, ending as `spunOut`; how many there were. */
    const backOff = (spunOut: boolean) => {
      let n = 0
      for (; !policy.long && n <= 10_000; n++) {
        expect(policy.nextSpin).toBe(128)
        wait(spunOut)
      }
      return n
    }
    // Two long spins ending in sleep are not yet three in a row; a success starts the count again.
    expect([wait(true), wait(true), wait(false), wait(true), wait(true)]).toEqual([true, true, true, true, true])
    expect(policy.nextSpin).toBe(50_000)
    expect(wait(true)).toBe(true)
    // Short waits count down whether or not their spin ends in sleep; each long spin after that fails.
    const episodes = Array.from({ length: 9 }, (_, k) => {
      const n = backOff(k % 2 === 0)
      expect(wait(true)).toBe(true)
      return n
    })
    expect(episodes).toEqual([64, 128, 256, 512, 1024, 2048, 4096, 4096, 4096])
    // One long spin that succeeds resets it all: three failures again, then 64 short waits.
    expect(backOff(true)).toBe(4096)
    expect([wait(false), wait(true), wait(true)]).toEqual([true, true, true])
    expect(policy.long).toBe(true)
    expect(wait(true)).toBe(true)
    expect(backOff(true)).toBe(64)
    // A long spin under 128 loads (SKY_SPIN) is not lengthened while backing off.
    const short = new SpinPolicy(50)
    for (let k = 0; k < 3; k++) short.waited(true, true)
    expect([short.long, short.nextSpin]).toEqual([false, 50])
  })

  it("SKY_SPIN must be a whole number; a blank one is refused, not read as 0", () => {
    const ctl = new Int32Array(new SharedArrayBuffer(4 * BARRIER_INTS))
    const was = process.env.SKY_SPIN
    try {
      for (const bad of [" ", "", "1.5", "-1", "many"]) {
        process.env.SKY_SPIN = bad
        expect(() => new Barrier(ctl, 2)).toThrow(/SKY_SPIN: expected a whole number/)
      }
      // "0" is a whole number: no spinning at all.
      process.env.SKY_SPIN = "0"
      expect(new Barrier(ctl, 2).nextSpin).toBe(0)
    } finally {
      if (was === undefined) delete process.env.SKY_SPIN
      else process.env.SKY_SPIN = was
    }
  })
})
