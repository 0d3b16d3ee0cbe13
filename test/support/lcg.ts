/**
 * A fixed stream of numbers in [0, 1) from a seed (a 32-bit linear congruential generator): what a test
 * draws is the same on every run, so the counts it asserts are too.
 */
export const lcg = (seed: number): (() => number) => {
  let s = seed >>> 0 || 1
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32
}
