import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64"
import { conversationsOf } from "../cache/trace.js"
import { Constellation, type GroundStation, kepler, preset, servingSatellite, subSatellitePoint, walkerDelta, walkerStar } from "../topology/index.js"
import { cityPicker } from "./cities.js"
import { readTrace } from "./trace-file.js"
import type { RunConfig } from "./config.js"
import { streamRng } from "./random.js"
import type { ActorKind } from "../actors/registry.js"

/**
 * What every shard of a run agrees on, built deterministically from the config alone: the constellation,
 * the ground users and their places, actor numbering, and how actors are split over shards.
 *
 * Actor ids: satellites 0 .. S-1 (constellation order: shell, plane, slot), then ground users
 * S .. S+U-1. Shards own contiguous ranges of satellites cut at plane boundaries (most ISL traffic stays
 * inside a shard); a ground user lives on the shard of the satellite it first sees.
 */
export interface World {
  readonly config: RunConfig
  readonly constellation: Constellation.Constellation
  readonly satellites: number
  readonly users: ReadonlyArray<GroundStation>
  readonly actorCount: number
  /** First id of the inference actors (ground actors after the workload's users; `users` includes them). */
  readonly firstInference: number
  /** Satellite a user was placed under at t = 0. */
  readonly userHome: Int32Array
  readonly minAltitudeKm: number
  /** Replay workload: each user's (conversation's) requests, in time order. */
  readonly userRequests: ReadonlyArray<ReadonlyArray<ReplayRequest>>
}

export interface ReplayRequest {
  /** Virtual time of arrival, s. */
  readonly time: number
  readonly hashIds: ReadonlyArray<number>
}

export const isSatellite = (w: World, id: number): boolean => id < w.satellites
/** A ground actor: a workload user or an inference actor (both reach the constellation by radio). */
export const isUser = (w: World, id: number): boolean => id >= w.satellites && id < w.satellites + w.users.length

export const kindOf = (w: World, id: number): ActorKind =>
  id < w.satellites ? "satellite" : id < w.firstInference ? (w.config.workload === "replay" ? "client" : "ground") : "inference"

/** Replay users: one per conversation, at a city drawn by population, with its requests. */
const replayUsers = (config: RunConfig, rng: ReturnType<typeof streamRng>) => {
  const { requests } = readTrace(config.replay.tracePath, { limit: config.replay.requests })
  const conv = conversationsOf(requests)
  const n = requests.length === 0 ? 0 : Math.max(...conv) + 1
  const perUser: Array<Array<ReplayRequest>> = Array.from({ length: n }, () => [])
  requests.forEach((r, i) => perUser[conv[i]!]!.push({ time: r.timestamp / 1000 / config.replay.rateScale, hashIds: r.hash_ids }))
  const picker = cityPicker(config.replay.minCityPopulation)
  return { users: perUser.map(() => picker.pick(rng)), perUser }
}

export const makeWorld = (config: RunConfig): World => {
  const c = Constellation.make(
    config.shells.length > 0
      ? config.shells.map((s) => (s.pattern === "star" ? walkerStar : walkerDelta)({ ...s, name: `custom-${s.pattern}` }))
      : preset(config.preset)
  )
  const rng = streamRng(config.seed, -1)
  const pos = new Float64Array(3 * c.size)
  kepler(c).positionsAt(0, pos)
  if (config.workload === "replay") {
    const { users, perUser } = replayUsers(config, rng)
    const theta = kepler(c).earthRotationAngleAt(0)
    // Home: the satellite highest over the user at t = 0 (any elevation), which decides its shard.
    const userHome = Int32Array.from(users, (u) => Math.max(0, servingSatellite(u, pos, c.size, theta, -90)))
    return withInferenceSites({
      config, constellation: c, satellites: c.size, users, actorCount: c.size + users.length, userHome,
      firstInference: c.size + users.length, minAltitudeKm: Math.min(...c.shells.map((s) => s.altitudeKm)), userRequests: perUser
    }, pos)
  }
  const users: Array<GroundStation> = []
  const userHome = new Int32Array(config.users)
  for (let u = 0; u < config.users; u++) {
    // Under a random satellite at t = 0, jittered by up to 2 deg, so every user starts covered.
    const s = Math.floor(uniformFloat64(rng) * c.size)
    const under = subSatellitePoint(pos, s, 0)
    const lat = under.latDeg + (uniformFloat64(rng) - 0.5) * 4
    const lon = under.lonDeg + (uniformFloat64(rng) - 0.5) * 4
    users.push({ name: `user-${u}`, latDeg: Math.max(-89, Math.min(89, lat)), lonDeg: lon })
    userHome[u] = s
  }
  return withInferenceSites({
    config, constellation: c, satellites: c.size, users, actorCount: c.size + users.length, userHome,
    firstInference: c.size + users.length,
    minAltitudeKm: Math.min(...c.shells.map((s) => s.altitudeKm)),
    userRequests: []
  }, pos)
}

/**
 * The inference actors are ground actors too (LLM on the ground, as in the paper's ground setting): they
 * follow the workload's users, at the sub-satellite point at t = 0 of the first shell's middle satellite
 * (plane P/2, slot N/2: the middle of the 19x5 patch), so they start covered by the constellation.
 */
const withInferenceSites = (w: World, pos: Float64Array): World => {
  const n = w.config.inferenceActors
  if (n === 0) return w
  const shell = w.constellation.shells[0]!
  const centre = Math.floor(shell.planes / 2) * shell.satsPerPlane + Math.floor(shell.satsPerPlane / 2)
  const site = subSatellitePoint(pos, centre, 0)
  const users = [...w.users, ...Array.from({ length: n }, (_, k) => ({ name: `inference-${k}`, ...site }))]
  const userHome = new Int32Array(users.length)
  userHome.set(w.userHome)
  userHome.fill(centre, w.users.length)
  return { ...w, users, userHome, actorCount: w.satellites + users.length }
}

/**
 * Shard boundaries over satellites: `bounds[k]..bounds[k+1]` for shard k, each cut at a plane start, with
 * about the same number of satellites per shard.
 */
export const shardBounds = (w: World, shards: number): Int32Array => {
  const c = w.constellation
  const planeStarts: Array<number> = []
  c.shells.forEach((s, k) => {
    for (let p = 0; p < s.planes; p++) planeStarts.push(c.shellStart[k]! + p * s.satsPerPlane)
  })
  const bounds = new Int32Array(shards + 1)
  bounds[shards] = c.size
  for (let k = 1; k < shards; k++) {
    const target = (k * c.size) / shards
    let best = planeStarts[0]!
    for (const p of planeStarts) if (Math.abs(p - target) < Math.abs(best - target)) best = p
    bounds[k] = Math.max(best, bounds[k - 1]!)
  }
  return bounds
}

/** Owner shard of every actor. */
export const ownership = (w: World, bounds: Int32Array): Int32Array => {
  const owner = new Int32Array(w.actorCount)
  for (let k = 0; k + 1 < bounds.length; k++) owner.fill(k, bounds[k]!, bounds[k + 1]!)
  for (let u = 0; u < w.users.length; u++) owner[w.satellites + u] = owner[w.userHome[u]!]!
  return owner
}
