/**
 * A number drawn evenly from [min, max]. fast-check's `fc.double({ min, max })` draws evenly over the
 * doubles themselves, which crowd near zero: for [0, 86,400] nine draws in ten are below 1e-7, so a
 * property over times, latitudes or angles would mostly test zero. This draws evenly over the interval.
 */
import fc from "fast-check"

const STEPS = 2 ** 30

export const uniform = (min: number, max: number): fc.Arbitrary<number> =>
  fc.integer({ min: 0, max: STEPS }).map((k) => min + ((max - min) * k) / STEPS)
