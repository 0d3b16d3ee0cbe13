/**
 * The emulation behind the live view: a constellation on the live host (one in-process shard, paced by
 * the caller), its workload, and an inference actor for the prompt box. It advances when told, keeps
 * what the view draws (arcs of the requests delivered since a viewer's last frame), and answers the
 * viewers' questions (a satellite's store, a prompt). Frames are built per viewer (frames.ts).
 */
import { constellationName, defaultRunConfig, type RunConfig } from "../../src/actors/config.js"
import { ConstellationKvCache } from "../../src/actors/constellation-kv.js"
import { replyHit, Tag } from "../../src/actors/protocol.js"
import type { SatelliteState } from "../../src/actors/satellite.js"
import type { Envelope } from "../../src/runtime/behaviour.js"
import type { DeliveryRecord } from "../../src/runtime/shard.js"
import { latencySummary } from "../../src/runtime/metrics.js"
import { ModelPool } from "../../src/inference/model-pool.js"
import { cachedTurn } from "../../src/inference/session.js"
import { ephemerisOf, type Ephemeris, subSatellitePoints } from "../../src/topology/index.js"
import { ArcRing } from "./arc-ring.js"

/** Arc kinds, as the page colours them. */
export const ArcKind = { hit: 0, miss: 1, migration: 2, put: 3 } as const

export interface LiveOptions {
  readonly preset: string
  readonly catalog: RunConfig["catalog"]
  readonly seed: number
  readonly workload: "standard" | "replay"
  readonly strategy: string
  readonly trace: string
  readonly requests: number
  readonly users: number
  readonly model: string
  /** Each satellite's store, MiB (the panel's evictions count once it fills). */
  readonly capacityMb: number
}

export class LiveSession {
  readonly kv: ConstellationKvCache
  readonly satellites: number
  private readonly ephemeris: Ephemeris
  private readonly positions: Float64Array
  /** What the viewers draw: arcs delivered, kept for those that have not had them yet. */
  readonly arcs = new ArcRing()
  /** Per satellite: BlockReply hits it served (the panel's "hits"). */
  private readonly hits: Float64Array
  speed: number
  paused = false
  private model: ModelPool | undefined
  /** Prompts being answered: closing waits for them. */
  private readonly answering = new Set<Promise<unknown>>()

  constructor(readonly o: LiveOptions, speed: number) {
    this.speed = speed
    const run: Partial<RunConfig> = {
      preset: o.preset, catalog: o.catalog, workload: o.workload, users: o.workload === "standard" ? o.users : 0,
      replay: { ...defaultRunConfig.replay, strategy: o.strategy, tracePath: o.trace, requests: o.requests }
    }
    this.kv = ConstellationKvCache.make({
      preset: o.preset, seed: o.seed, strategy: o.strategy, capacityBytesPerSatellite: o.capacityMb * 2 ** 20, namespace: { modelId: o.model, tenantSalt: "live" }, run
    }, {
      onDelivery: (_d: DeliveryRecord, env: Envelope) => this.observe(env)
    })
    this.satellites = this.kv.world.satellites
    this.hits = new Float64Array(this.satellites)
    this.ephemeris = ephemerisOf(this.kv.world.constellation)
    this.positions = new Float64Array(3 * this.satellites)
  }

  private observe(env: Envelope): void {
    let kind: number
    // The replay and inference protocol's share replies and the standard workload's.
    if (env.tag === Tag.BlockReply || env.tag === Tag.CacheGetReply) {
      kind = replyHit(env) ? ArcKind.hit : ArcKind.miss
      if (kind === ArcKind.hit && env.origin < this.satellites) this.hits[env.origin]!++
    } else if (env.tag === Tag.MigrateData) kind = ArcKind.migration
    else if (env.tag === Tag.BlockPut || env.tag === Tag.CachePut) kind = ArcKind.put
    else return
    this.arcs.push(env.origin, env.dst, kind)
  }

  get now(): number {
    return this.kv.now
  }

  /**
   * Move the emulation on by `wallSeconds` of wall time at the current speed (nothing while paused). A
   * prompt does not hold it up: the constellation moves, and the page draws, while the model thinks (the
   * cache runs a tick between the turn's lookup and store jobs, never inside one).
   */
  tick(wallSeconds: number): Promise<void> {
    if (this.paused || wallSeconds <= 0) return Promise.resolve()
    return this.kv.advance(wallSeconds * this.speed)
  }

  /** Sub-satellite latitude and longitude of every satellite now, degrees, packed [lat0, lon0, ...]. */
  latLon(): Float64Array {
    const t = this.now
    this.ephemeris.positionsAt(t, this.positions)
    return subSatellitePoints(this.positions, this.satellites, this.ephemeris.earthRotationAngleAt(t))
  }

  /** Links up this epoch (the topology actor's link state). */
  get linksUp(): Uint8Array {
    return this.kv.engine.network.snapshot.up
  }

  /** Occupancy of every satellite's store, 0..255 of its capacity. */
  occupancy(out: Uint8Array): Uint8Array {
    const capacity = this.kv.world.config.capacityBytesPerSatellite
    for (let s = 0; s < this.satellites; s++) {
      const state = this.kv.engine.stateOf(s) as SatelliteState | undefined
      out[s] = state ? Math.min(255, Math.ceil((255 * state.store.usedBytes) / capacity)) : 0
    }
    return out
  }

  /** The serving satellite of every ground actor (users, then the inference actor), -1 if none. */
  serving(out: Int32Array): Int32Array {
    for (let u = 0; u < out.length; u++) out[u] = this.kv.engine.network.servingOf(u)
    return out
  }

  /** What the page needs once: constellation, links, shells, ground actors. */
  describe() {
    const w = this.kv.world
    const c = w.constellation
    const g = this.kv.engine.network.snapshot.graph
    return {
      type: "init" as const,
      constellation: constellationName(w.config),
      satellites: this.satellites,
      shells: c.shells.map((s, k) => ({ name: s.name, from: c.shellStart[k]!, to: c.shellStart[k + 1]! })),
      linkA: Array.from(g.linkA),
      linkB: Array.from(g.linkB),
      users: w.users.map((u) => ({ name: u.name ?? "", lat: u.latDeg, lon: u.lonDeg })),
      capacityBytes: w.config.capacityBytesPerSatellite,
      workload: this.o.workload,
      strategy: this.o.strategy
    }
  }

  /** Counters and the retrieval latency distribution (the hdr histogram's percentiles 1..99.9), for the stats panel. */
  stats() {
    const e = this.kv.engine
    const counters = Object.fromEntries(e.metrics.counters)
    const h = e.metrics.histograms.get("retrieval")!
    const report = e.report({ wallSeconds: 0, syncSeconds: 0, workSeconds: 0 })
    return {
      type: "stats" as const, time: this.now, speed: this.speed, paused: this.paused, delivered: report.delivered,
      counters, storedBytes: report.occupancy.reduce((n, [, bytes]) => n + bytes, 0), retrieval: latencySummary(h)
    }
  }

  /** A satellite's store, for its panel. */
  inspect(satellite: number) {
    if (!(Number.isInteger(satellite) && satellite >= 0 && satellite < this.satellites)) return { type: "error" as const, message: `no satellite ${satellite}` }
    const state = this.kv.engine.stateOf(satellite) as SatelliteState
    const c = this.kv.world.constellation
    return {
      type: "satellite" as const, satellite, shell: c.shells[c.shellOf[satellite]!]!.name, plane: c.planeOf[satellite]!, slot: c.slotOf[satellite]!,
      name: c.catalog?.names[satellite] ?? `sat-${satellite}`,
      blocks: state.store.size, bytes: state.store.usedBytes, capacityBytes: state.store.capacityBytes, hits: this.hits[satellite]!, evictions: state.store.evictions
    }
  }

  /**
   * The inference actor answers with the model; its KV goes to and comes from the constellation. Prompts
   * of several viewers may run at once: the model's worker takes their calls in turn (each call timed on
   * the worker, so waiting for it is not counted as prefill), and the cache batches their jobs.
   */
  prompt(text: string) {
    const answer = (async () => {
      this.model ??= new ModelPool(this.o.model, { threads: 1 })
      const tokens = await this.model.encode(text)
      const turn = await cachedTurn(this.model, this.kv, tokens, { maxNewTokens: 16 })
      return {
        type: "answer" as const, text: await this.model.decode(turn.tokens), promptTokens: turn.promptTokens, cachedTokens: turn.cachedTokens,
        satellites: [...turn.satellites], fetchMs: turn.fetchMs, prefillMs: turn.prefillMs, ttftMs: turn.ttftMs, storedBlocks: turn.storedBlocks
      }
    })()
    this.answering.add(answer)
    const done = () => void this.answering.delete(answer)
    answer.then(done, done)
    return answer
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.answering)
    await this.model?.close()
    await this.kv.close()
  }
}
