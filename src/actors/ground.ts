/**
 * A ground user issuing cache requests: Poisson arrivals, each a get or a put of one chunk-sized value
 * under one of its own keys, sent to the key's home satellite (key-homed placement: the standard
 * workload's placement-unaware baseline; the cache protocol's strategies replace it). Latency from send
 * to reply goes into the run's histograms.
 */
import { match } from "../runtime/protocol.js"
import { Sky, skySpecs, Tag } from "./protocol.js"
import type { SkyBehaviour, SkyContext } from "./sky-context.js"
import { CONTROL_BYTES } from "./satellite.js"

export interface GroundState {
  nextRequest: number
}

export interface GroundOptions {
  readonly satellites: number
  readonly firstUserId: number
  readonly requestRatePerUser: number
  readonly keysPerUser: number
  readonly putFraction: number
  readonly chunkBytes: number
}

/** Home satellite of a key: a 32-bit integer mix of the key, modulo the constellation size. */
export const homeOf = (key: number, satellites: number): number => {
  let h = Math.imul(key ^ (key >>> 16), 0x45d9f3b)
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b)
  return ((h ^ (h >>> 16)) >>> 0) % satellites
}

export const ground = (o: GroundOptions): SkyBehaviour<GroundState> => {
  const nextArrival = (ctx: SkyContext) => -Math.log(1 - ctx.random()) / o.requestRatePerUser
  const handle = match<typeof skySpecs, GroundState, SkyContext>(skySpecs, {
    Tick: (state, _m, ctx) => {
      const user = ctx.self - o.firstUserId
      const key = user * o.keysPerUser + Math.floor(ctx.random() * o.keysPerUser)
      const home = homeOf(key, o.satellites)
      const requestId = state.nextRequest++
      if (ctx.random() < o.putFraction) Sky.CachePut.send(ctx, home, o.chunkBytes, { key, requestId })
      else Sky.CacheGet.send(ctx, home, CONTROL_BYTES, { key, requestId })
      Sky.Tick.after(ctx, nextArrival(ctx), { timer: 0, id: 0 })
    },
    CacheGetReply: (_state, m, ctx) => {
      ctx.count(m.hit ? "getHits" : "getMisses")
      ctx.record("retrieval", m.time - m.requestSentAt)
    },
    CachePutAck: (_state, m, ctx) => ctx.record("put", m.time - m.requestSentAt)
  })
  return {
    kind: "ground",
    supervision: "restart",
    // Replies are only counted and recorded.
    silentTags: [Tag.CacheGetReply, Tag.CachePutAck],
    init: () => ({ nextRequest: 0 }),
    start: (_self, _state, ctx) => {
      if (o.requestRatePerUser > 0) Sky.Tick.after(ctx, nextArrival(ctx), { timer: 0, id: 0 })
    },
    handle
  }
}
