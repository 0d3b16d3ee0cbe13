import type { Envelope } from "../runtime/behaviour.js"
import type { SkyBehaviour, SkyContext } from "./sky-context.js"
import { Tag } from "./messages.js"
import { CONTROL_BYTES } from "./satellite.js"

/**
 * A ground user issuing cache requests: Poisson arrivals, each a get or a put of one chunk-sized value
 * under one of its own keys, sent to the key's home satellite (key-homed placement: the standard
 * workload's placement-unaware baseline; the cache protocol's strategies replace it). Latency from send
 * to reply goes into the run's histograms.
 */
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
  const handle = (state: GroundState, msg: Envelope, ctx: SkyContext): void => {
    switch (msg.tag) {
      case Tag.Tick: {
        const user = ctx.self - o.firstUserId
        const key = user * o.keysPerUser + Math.floor(ctx.random() * o.keysPerUser)
        const home = homeOf(key, o.satellites)
        const id = state.nextRequest++
        if (ctx.random() < o.putFraction) ctx.send(home, Tag.CachePut, o.chunkBytes, key, id)
        else ctx.send(home, Tag.CacheGet, CONTROL_BYTES, key, id)
        ctx.after(nextArrival(ctx), Tag.Tick)
        return
      }
      case Tag.CacheGetReply:
        ctx.count(msg.aux === 1 ? "getHits" : "getMisses")
        ctx.record("retrieval", msg.time - msg.p2)
        return
      case Tag.CachePutAck:
        ctx.record("put", msg.time - msg.p2)
        return
    }
  }
  return {
    kind: "ground",
    supervision: "restart",
    // Replies are only counted and recorded.
    silentTags: [Tag.CacheGetReply, Tag.CachePutAck],
    init: () => ({ nextRequest: 0 }),
    start: (_self, _state, ctx) => {
      if (o.requestRatePerUser > 0) ctx.after(nextArrival(ctx), Tag.Tick)
    },
    handle
  }
}
