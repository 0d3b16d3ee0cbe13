/**
 * How SkyMemory's world splits its actors over shards (src/actors/world.ts): results do not depend on it
 * (the determinism tests), so only these checks see it. Satellites in contiguous ranges cut at plane
 * starts, about as many per shard; a ground actor on the shard of its home satellite.
 */
import { describe, expect, it } from "vitest"
import { makeRunConfig } from "../src/actors/config.js"
import { makeWorld, shardBounds } from "../src/actors/world.js"
import { elevationDeg, ephemerisOf, stationInertial } from "../src/topology/index.js"

describe("the world's partition", () => {
  it("cuts satellites at plane starts into shards of about equal size", () => {
    for (const [preset, shards] of [["starlink-shell1", 2], ["starlink-shell1", 3], ["paper-19x5", 2], ["paper-19x5", 4], ["mega-10k", 2]] as const) {
      const w = makeWorld(makeRunConfig({ preset, users: 0 }))
      const c = w.constellation
      const bounds = Array.from(shardBounds(w, shards))
      const starts = new Set(Array.from(c.planeStart))
      expect([bounds[0], bounds[shards]]).toEqual([0, c.size])
      let widest = 0
      for (let p = 0; p < c.planeCount; p++) widest = Math.max(widest, c.planeStart[p + 1]! - c.planeStart[p]!)
      for (let k = 1; k <= shards; k++) {
        expect(starts.has(bounds[k]!) || bounds[k] === c.size).toBe(true)
        // Within half a plane of the even cut: no nearer plane start.
        expect(Math.abs(bounds[k]! - (k * c.size) / shards)).toBeLessThanOrEqual(widest / 2)
      }
    }
    expect(Array.from(shardBounds(makeWorld(makeRunConfig({ preset: "starlink-shell1", users: 0 })), 2))).toEqual([0, 792, 1584])
  })

  it("puts each ground actor on its home satellite's shard: a user under the satellite it was placed under, a replay user under its highest satellite, the inference actor under the patch's middle", () => {
    const standard = makeWorld(makeRunConfig({ preset: "starlink-shell1", users: 16, inferenceActors: 1 }))
    const replay = makeWorld(makeRunConfig({ preset: "paper-19x5", workload: "replay", inferenceActors: 1 }))
    for (const w of [standard, replay]) {
      const owner = w.ownership(3)
      const bounds = shardBounds(w, 3)
      for (let u = 0; u < w.users.length; u++) {
        const home = w.userHome[u]!
        expect(owner[w.satellites + u]).toBe(owner[home])
        expect(home).toBeGreaterThanOrEqual(bounds[owner[home]!]!)
        expect(home).toBeLessThan(bounds[owner[home]! + 1]!)
      }
      expect(new Set(Array.from(owner.subarray(0, w.satellites))).size).toBe(3)
    }
    const pos = new Float64Array(3 * replay.satellites)
    const eph = ephemerisOf(replay.constellation)
    eph.positionsAt(0, pos)
    const users = replay.users.length - 1
    expect(users).toBeGreaterThan(1)
    // The highest satellite, at any elevation: users far from the 19x5 patch have none above their horizon.
    const theta = eph.earthRotationAngleAt(0)
    let belowHorizon = 0
    for (let u = 0; u < users; u++) {
      const home = replay.userHome[u]!
      const el = elevationDeg(stationInertial(replay.users[u]!, theta), pos[3 * home]!, pos[3 * home + 1]!, pos[3 * home + 2]!)
      for (let s = 0; s < replay.satellites; s++) {
        expect(elevationDeg(stationInertial(replay.users[u]!, theta), pos[3 * s]!, pos[3 * s + 1]!, pos[3 * s + 2]!)).toBeLessThanOrEqual(el)
      }
      if (el < 0) belowHorizon++
    }
    expect(belowHorizon).toBeGreaterThan(0)
    // paper-19x5: plane 2 of 5, slot 9 of 19.
    expect(replay.userHome[users]).toBe(2 * 19 + 9)
  })
})
