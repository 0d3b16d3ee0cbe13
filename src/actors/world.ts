/**
 * SkyMemory's world (runtime/world.ts World), built deterministically from the config alone: the
 * constellation, the ground users and their places, actor numbering and kinds, how actors are split over
 * shards, and for each shard its topology actor (the network), behaviours and overload model.
 *
 * Actor ids: satellites 0 .. S-1 (constellation order: shell, plane, slot), then ground users
 * S .. S+U-1, then inference actors. Shards own contiguous ranges of satellites cut at plane boundaries
 * (most ISL traffic stays inside a shard); a ground user lives on the shard of the satellite it first sees.
 *
 * The worker pool builds it in every worker from this module's URL and the config (`skyWorldSource`).
 */
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64"
import { type PlacementStrategy, strategyNamed } from "../cache/strategies.js"
import { conversationsOf } from "../cache/trace.js"
import type { ActorContext } from "../runtime/behaviour.js"
import type { WorldSource } from "../runtime/build.js"
import type { EngineReport } from "../runtime/report.js"
import { streamRng } from "../runtime/random.js"
import type { HostContext, ShardSpec, ShardWorld, World } from "../runtime/world.js"
import { Catalog, Constellation, ephemerisOf, gridHops, type GroundStation, highestSatellite, preset, servingSatellite, subSatellitePoint, walkerDelta, walkerStar } from "../topology/index.js"
import { cityPicker } from "./cities.js"
import { ConfigError, makeRunConfig, type RunConfig } from "./config.js"
import { Kind, kindNames } from "./kinds.js"
import { tagNames } from "./protocol.js"
import { admissionDropReasons, SatelliteService } from "./overload.js"
import { behaviourFor } from "./registry.js"
import { InferenceHost } from "./inference-host.js"
import { RoutingShare } from "./network/routing-share.js"
import type { SkyServices } from "./sky-context.js"
import { linkDropReasons, TopologyActor } from "./network/topology-actor.js"
import { readTrace } from "./trace-file.js"
import { Manifests } from "./manifests.js"
import { readSideFrame, sendToOwner, SideFrame } from "./side-frames.js"
import { type RunReport, skyReport } from "./report.js"

/** The constellation and its users: what the topology actor and the behaviours are built from. */
export interface SkyWorld extends World<TopologyActor> {
  readonly config: RunConfig
  /** The run's placement strategy (config.replay.strategy, resolved among the built-ins and the run's plug-ins). */
  readonly strategy: PlacementStrategy
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
  /** The prompt's length in tokens (the trace's input_length). */
  readonly inputTokens: number
}

/** The world's data, before the engine-facing part is added (see sky). */
type SkyData = Omit<SkyWorld, keyof World<TopologyActor> | "strategy"> & { readonly config: RunConfig; readonly actorCount: number }

/** Side-channel room per window for migration manifests alone (a few KB each; no bytes of shares). */
const MANIFEST_SIDE_BYTES = 4 * 2 ** 20

/** Replay users: one per conversation, at a city drawn by population, with its requests. */
const replayUsers = (config: RunConfig, rng: ReturnType<typeof streamRng>) => {
  const { requests } = readTrace(config.replay.tracePath, { limit: config.replay.requests })
  const conv = conversationsOf(requests)
  const n = requests.length === 0 ? 0 : Math.max(...conv) + 1
  const perUser: Array<Array<ReplayRequest>> = Array.from({ length: n }, () => [])
  requests.forEach((r, i) => perUser[conv[i]!]!.push({ time: r.timestamp / 1000 / config.replay.rateScale, hashIds: r.hash_ids, inputTokens: r.input_length }))
  const picker = cityPicker(config.replay.minCityPopulation)
  return { users: perUser.map(() => picker.pick(rng)), perUser }
}

/** The run's constellation: its catalog (loaded once per thread), else its custom shells, else its preset. */
export const constellationOfConfig = (config: Pick<RunConfig, "catalog" | "shells" | "preset">): Constellation.Constellation => {
  const k = config.catalog
  if (k.path !== "") return Catalog.loadCatalog(k.path, { at: k.at, lenient: k.lenient }).constellation
  return Constellation.make(
    config.shells.length > 0
      ? config.shells.map((s) => (s.pattern === "star" ? walkerStar : walkerDelta)({ ...s, name: `custom-${s.pattern}` }))
      : preset(config.preset)
  )
}

/** The constellation, users and actors of a run, from its config. */
const skyData = (config: RunConfig): SkyData => {
  const c = constellationOfConfig(config)
  const rng = streamRng(config.seed, -1)
  const pos = new Float64Array(3 * c.size)
  const ephemeris = ephemerisOf(c)
  ephemeris.positionsAt(0, pos)
  const theta = ephemeris.earthRotationAngleAt(0)
  if (config.workload === "replay") {
    const { users, perUser } = replayUsers(config, rng)
    // Home: the satellite highest over the user at t = 0, below the horizon too (a user far from a patch of
    // planes has none above it), which decides its shard.
    const userHome = Int32Array.from(users, (u) => highestSatellite(u, pos, c.size, theta))
    return withInferenceSites({
      config, constellation: c, satellites: c.size, users, actorCount: c.size + users.length, userHome,
      firstInference: c.size + users.length, minAltitudeKm: Math.min(...c.shells.map((s) => s.altitudeKm)), userRequests: perUser
    }, pos, theta)
  }
  const users: Array<GroundStation> = []
  const userHome = new Int32Array(config.users)
  for (let u = 0; u < config.users; u++) {
    // Under a random satellite at t = 0, jittered by up to 2 deg, so every user starts covered.
    const s = Math.floor(uniformFloat64(rng) * c.size)
    const under = subSatellitePoint(pos, s, theta)
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
  }, pos, theta)
}

/**
 * The inference actors are ground actors too (LLM on the ground, as in the paper's ground setting): they
 * follow the workload's users, at config.inferenceSite (a front end's ground station), or else at the
 * sub-satellite point at t = 0 of the first shell's middle satellite (plane P/2, slot N/2: the middle of
 * the 19x5 patch), so they start covered by the constellation.
 */
const withInferenceSites = (w: SkyData, pos: Float64Array, theta: number): SkyData => {
  const n = w.config.inferenceActors
  if (n === 0) return w
  const c = w.constellation
  const middle = Math.floor(c.shells[0]!.planes / 2)
  const chosen = w.config.inferenceSite
  // A site no satellite serves at the start could reach none: every value put from it would be lost
  // and every read would miss, with no error to say why (paper-19x5's patch covers a few countries).
  if (chosen && servingSatellite(chosen, pos, c.size, theta, w.config.elevationMaskDeg) < 0) {
    throw new ConfigError("inferenceSite", `no satellite is ${w.config.elevationMaskDeg} deg or more above ${chosen.latDeg},${chosen.lonDeg} at the start, so nothing stored from there could be reached; choose a site under the constellation`)
  }
  // Home (its shard): the given site's highest satellite at t = 0, else the middle satellite it sits under.
  const centre = chosen ? highestSatellite(chosen, pos, c.size, theta) : c.planeStart[middle]! + Math.floor(Constellation.planeSize(c, middle) / 2)
  const site = chosen ?? subSatellitePoint(pos, centre, theta)
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
export const shardBounds = (w: Pick<SkyWorld, "constellation">, shards: number): Int32Array => {
  const c = w.constellation
  const planeStarts = Array.from(c.planeStart.subarray(0, c.planeCount))
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
export const ownership = (w: Pick<SkyWorld, "actorCount" | "satellites" | "users" | "userHome">, bounds: Int32Array): Int32Array => {
  const owner = new Int32Array(w.actorCount)
  for (let k = 0; k + 1 < bounds.length; k++) owner.fill(k, bounds[k]!, bounds[k + 1]!)
  for (let u = 0; u < w.users.length; u++) owner[w.satellites + u] = owner[w.userHome[u]!]!
  return owner
}

export interface WorldOptions {
  /** Placement strategies beyond the built-ins (cache/strategies.ts) that config.replay.strategy may name. */
  readonly strategies?: ReadonlyArray<PlacementStrategy>
}

/** SkyMemory's world for a run. */
export const makeWorld = (config: RunConfig, o: WorldOptions = {}): SkyWorld => {
  const strategy = strategyNamed(config.replay.strategy, o.strategies)
  const data = skyData(config)
  const kinds = new Uint8Array(data.actorCount)
  const userKind = config.workload === "replay" ? Kind.client : Kind.ground
  kinds.fill(userKind, data.satellites, data.firstInference)
  kinds.fill(Kind.inference, data.firstInference)
  const world: SkyWorld = {
    ...data,
    strategy,
    kindNames,
    kinds,
    tagNames,
    dropReasons: { network: linkDropReasons, admission: admissionDropReasons },
    histograms: ["retrieval", "put", "ttft", "coldTtft"],
    ownership: (shards) => ownership(world, shardBounds(world, shards)),
    sharedBytes: (shards) => RoutingShare.bytesFor(world, shards),
    // Inference actors carry real bytes between shards, and migrations their manifests: room for them
    // beside the records.
    ...(data.firstInference < data.actorCount ? { sideChannelBytes: config.inference.sideChannelBytes }
      : config.workload === "replay" ? { sideChannelBytes: MANIFEST_SIDE_BYTES }
      : {}),
    makeShard: (spec) => skyShard(world, spec)
  }
  return world
}

/** One shard's part: its topology actor, the run's behaviours, the overload model, and the sky services. */
const skyShard = (world: SkyWorld, spec: ShardSpec): ShardWorld<TopologyActor> => {
  const cfg = world.config
  const network = new TopologyActor(world, spec.owner, RoutingShare.of(spec.shared, world, spec.index, spec.shards))
  // A behaviour for each kind this run has actors of (World.kinds), in kindNames order.
  const present = new Set(world.kinds)
  const host = present.has(Kind.inference) ? new InferenceHost(cfg, spec, network) : undefined
  const kc = { config: cfg, strategy: world.strategy, satellites: world.satellites, userRequests: world.userRequests, ...(host ? { host } : {}) }
  const behaviours = kindNames.map((kind, k) => (present.has(k) ? behaviourFor(kind, kc) : undefined))
  const placements = new Map<number, ReadonlyArray<number>>()
  const graph = network.snapshot.graph
  const geometry = { constellation: world.constellation, graph }
  const strategy = world.strategy
  const admission = SatelliteService.fromConfig(cfg, world.satellites)
  const manifests = new Manifests(world.actorCount, spec.shards === 1 ? undefined : sendToOwner(spec, SideFrame.manifest))
  const receive = (frame: Uint8Array) => {
    const { kind, body } = readSideFrame(frame)
    if (kind === SideFrame.manifest) return manifests.receive(body)
    if (!host) throw new TypeError("a share's bytes reached a shard with no inference actors")
    host.receive(body)
  }
  return {
    network,
    behaviours,
    ...(admission ? { admission } : {}),
    receive,
    ...(host ? { serve: (request: unknown, h: HostContext) => host.serve(request, h) } : {}),
    extendContext: (ctx: ActorContext): SkyServices => ({
      postManifest: (to, rows) => manifests.post(ctx.self, to, rows),
      takeManifest: (id) => manifests.take(id),
      neighbour: (slot) => (ctx.self < world.satellites ? graph.neighbours[4 * ctx.self + slot]! : -1),
      servingOf: (user) => network.servingOf(user),
      hops: (a, b) => gridHops(geometry.constellation, graph, a, b),
      anchorsOf: (serving, key) => (strategy.kind === "centred" && strategy.anchors ? strategy.anchors(geometry, serving, key) : [serving]),
      // The run's placement strategy around a centre: pure in (centre, S), so cached for the run.
      placement: (centre, servers) => {
        const key = centre * 65_536 + servers
        let p = placements.get(key)
        if (p === undefined) {
          if (strategy.kind !== "centred") throw new Error(`the ${strategy.name} placement is keyed; it has no centre`)
          p = strategy.around(geometry, centre, servers)
          placements.set(key, p)
        }
        return p
      }
    })
  }
}

/** The world as the worker pool builds it: this module, and the config. */
export const skyWorldSource = (config: RunConfig): WorldSource<RunConfig> => ({ module: import.meta.url, config })

/** The worker pool's entry (runtime/worker.ts WorldModule): a config that crossed a thread is decoded again. */
export const makeWorldFrom = (config: unknown): SkyWorld => makeWorld(makeRunConfig(config as Partial<Record<keyof RunConfig, unknown>>))

/** A whole run's report as SkyMemory gives it (runtime/run-task.ts WorldModule.reportOf). */
export const reportOf = (world: World, report: EngineReport): RunReport => skyReport(world as SkyWorld, report)
