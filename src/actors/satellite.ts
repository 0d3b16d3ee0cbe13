import { ChunkStore } from "../cache/store.js"
import { type ActorContext, type Behaviour, cachedStep, type Envelope } from "./actor.js"
import { Tag } from "./messages.js"

/**
 * A satellite: hosts a chunk store, beacons its four ISL neighbours every beacon interval (so neighbours
 * learn which links are alive), and answers cache gets and puts from ground users. Supervision: restart
 * with an empty store, as a rebooted satellite would.
 */
export interface SatelliteState {
  readonly store: ChunkStore
  /** Virtual time each +Grid neighbour was last heard from (prev slot, next slot, prev plane, next plane). */
  readonly lastHeard: Float64Array
}

export const BEACON_BYTES = 64
export const CONTROL_BYTES = 64

export const satellite = (opts: { capacityBytes: number; beaconIntervalSeconds: number }): Behaviour<SatelliteState> => {
  const beacon = (ctx: ActorContext) => {
    for (let slot = 0; slot < 4; slot++) {
      const n = ctx.neighbour(slot)
      if (n >= 0) ctx.send(n, Tag.Beacon, BEACON_BYTES, 0, 0, 0, slot)
    }
    ctx.after(opts.beaconIntervalSeconds, Tag.Tick)
  }
  const handle = (state: SatelliteState, msg: Envelope, ctx: ActorContext): void => {
    switch (msg.tag) {
      case Tag.Tick:
        return beacon(ctx)
      case Tag.Beacon:
        // The sender's slot toward us is the mirror of ours toward it: 0 <-> 1, 2 <-> 3.
        state.lastHeard[msg.aux ^ 1] = msg.time
        return
      case Tag.CacheGet: {
        const size = state.store.get(msg.p0)
        const hit = size !== undefined
        ctx.send(msg.origin, Tag.CacheGetReply, hit ? size : CONTROL_BYTES, msg.p0, msg.p1, msg.sentAt, hit ? 1 : 0)
        return
      }
      case Tag.CachePut: {
        const stored = state.store.put(msg.p0, msg.bytes)
        ctx.send(msg.origin, Tag.CachePutAck, CONTROL_BYTES, msg.p0, msg.p1, msg.sentAt, stored ? 1 : 0)
        return
      }
    }
  }
  return {
    kind: "satellite",
    supervision: "restart",
    init: () => ({ store: new ChunkStore(opts.capacityBytes), lastHeard: new Float64Array(4).fill(-1) }),
    // Beacons start at a per-satellite offset so the constellation does not pulse in lockstep.
    start: (_self, _state, ctx) => ctx.after(ctx.random() * opts.beaconIntervalSeconds, Tag.Tick),
    receive: cachedStep(handle),
    handle
  }
}
