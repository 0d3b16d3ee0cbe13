/**
 * A world written by hand, for the engine's own tests: four actors, 0 and 1 on one shard and 2 and 3 on
 * the other in a 2-shard run, and a network in which every message takes exactly DELAY, which is also
 * the lookahead and every actor's distance to the other shard. Nothing of SkyMemory is in it: the engine
 * runs it as it runs satellites.
 *
 * At the start of every epoch an actor sends a Ping to its partner across the cut (self + 2), which
 * bounces it back and forth three more times: these are the tightest cases the window bound must hold.
 * - "busy": every actor pings, and ticks every TICK starting a thousandth of DELAY after the epoch's
 *   Pings arrive, so a window even 1% longer than the lookahead runs a tick before a Ping.
 * - "quiet": only actor 0 pings, and it ticks once an epoch, just after its Ping's first return. While
 *   its partner holds the Ping nothing else bounds a window: the bound then rests on what a shard has
 *   just sent across.
 * All times are binary fractions, so they add up exactly.
 */
import type { Behaviour } from "../../src/runtime/behaviour.js"
import { defineProtocol, field, match, tagNamesOf } from "../../src/runtime/protocol.js"
import { I, type RecordBlock } from "../../src/runtime/record.js"
import type { EngineConfig, Network, World } from "../../src/runtime/world.js"

export const EPOCH = 1 / 8
export const DELAY = 1 / 64
export const TICK = DELAY / 4
export const ACTORS = 4
export type PingMode = "busy" | "quiet"

const specs = {
  Tick: { code: 1, fields: {} },
  Burst: { code: 2, fields: {} },
  Ping: { code: 3, fields: { hop: field.int("aux") } }
}
const Ping = defineProtocol(specs)

class FixedDelay implements Network {
  private epoch = -1
  epochEnd = 0
  readonly lookahead: number
  readonly toCut: Float64Array
  /**
   * `overstate`: a broken network that claims its bounds are that many times what its delay is.
   * `failAt`: a network that throws on entering the epoch holding that time (a shard that fails mid-run).
   */
  constructor(overstate = 1, private readonly failAt = Infinity) {
    this.lookahead = DELAY * overstate
    this.toCut = new Float64Array(ACTORS).fill(DELAY * overstate)
  }
  readonly awaitsShared = false
  arrival = 0
  depart = 0
  readonly link = -1

  enterEpochOf(t: number): void {
    const e = Math.floor(t / EPOCH)
    if (e === this.epoch) return
    if (t >= this.failAt) throw new Error(`ping network failed at ${t} s`)
    this.epoch = e
    this.epochEnd = (e + 1) * EPOCH
  }
  adoptShared(): void {}
  hop(b: RecordBlock, r: number, now: number): number {
    this.depart = now
    this.arrival = now + DELAY
    return b.getI(r, I.dst)
  }
}

const pinger = (mode: PingMode): Behaviour<{ ticks: number }> => ({
  kind: "pinger",
  supervision: "stop",
  init: () => ({ ticks: 0 }),
  start: (self, _state, ctx) => {
    if (mode === "busy" || self === 0) Ping.Burst.after(ctx, 0, {})
    if (mode === "busy") Ping.Tick.after(ctx, DELAY + (DELAY * (self + 1)) / 1024, {})
    else if (self === 0) Ping.Tick.after(ctx, 2 * DELAY + DELAY / 1024, {})
  },
  handle: match(specs, {
    Burst: (_state, _m, ctx) => {
      Ping.Ping.send(ctx, (ctx.self + 2) % ACTORS, 64, { hop: 0 })
      Ping.Burst.after(ctx, EPOCH, {})
    },
    Tick: (state, _m, ctx) => {
      state.ticks++
      Ping.Tick.after(ctx, mode === "busy" ? TICK : EPOCH, {})
    },
    Ping: (_state, m, ctx) => {
      if (m.hop < 3) Ping.Ping.send(ctx, (ctx.self + 2) % ACTORS, 64, { hop: m.hop + 1 })
    }
  })
})

export interface PingConfig {
  readonly seconds: number
  readonly mode: PingMode
  /** The network overstates its lookahead and distances to the cut this many times (a broken bound). */
  readonly overstate?: number
  /** This shard's network throws on entering the epoch at this time (a shard failing mid-run). */
  readonly fail?: { readonly shard: number; readonly at: number }
}

export const makePingWorld = ({ seconds, mode, overstate, fail }: PingConfig): World<FixedDelay> => {
  const config: EngineConfig = { seed: 1, simSeconds: seconds, realtimeFactor: 0, maxHops: 8, mailboxCapacity: 64, crashActor: -1, crashAtMessage: 0, crashShard: -1, crashShardAt: 0 }
  const behaviour = pinger(mode)
  return {
    config,
    actorCount: ACTORS,
    kindNames: ["pinger"],
    kinds: new Uint8Array(ACTORS),
    tagNames: tagNamesOf(specs),
    dropReasons: { network: [], admission: [] },
    histograms: [],
    ownership: (shards) => Int32Array.from({ length: ACTORS }, (_, a) => Math.floor((a * shards) / ACTORS)),
    sharedBytes: () => 0,
    makeShard: (spec) => ({ network: new FixedDelay(overstate, spec.index === fail?.shard ? fail.at : Infinity), behaviours: [behaviour] })
  }
}

/** The pool's entry to this world (runtime/build.ts WorldSource). */
export const makeWorldFrom = (config: unknown): World => makePingWorld(config as PingConfig)
