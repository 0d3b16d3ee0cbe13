import { frameIntact } from "../cache/integrity.js"
import { type PayloadWire, type SharePayload, wireSlot } from "../cache/payload-wire.js"
import { ChunkStore, type Entry, type EvictionPolicy } from "../cache/store.js"
import type { Envelope } from "../runtime/behaviour.js"
import type { SkyBehaviour, SkyContext } from "./sky-context.js"
import { Tag } from "./messages.js"

/**
 * A satellite: hosts a chunk store, beacons its four ISL neighbours every beacon interval (so neighbours
 * learn which links are alive), and answers cache gets and puts from ground users. Supervision: restart
 * with an empty store, as a rebooted satellite would.
 * When shares carry their bytes (the payload wire), a satellite checks each chunk's CRC as bytes arrive:
 * a corrupted put is not stored (nor acknowledged, so the writer sends it again), and a migrated share
 * is handed over only once its receiver acknowledges it intact (the sender keeps it and sends it again
 * on a refusal, up to HANDOFF_ATTEMPTS sends), so link bit errors never settle into the stores.
 */
export interface SatelliteState {
  /** Shares held: block key -> size, and the share's bytes when the run carries them (see PayloadWire). */
  readonly store: ChunkStore<SharePayload>
  /** Replay protocol: block key -> ground user that wrote it (this satellite is the key's directory). */
  readonly directory: Map<number, number>
  /** Virtual time each +Grid neighbour was last heard from (prev slot, next slot, prev plane, next plane). */
  readonly lastHeard: Float64Array
  /** With bytes on the wire: shares sent to another satellite and not yet acknowledged ("key:to" -> sends, keep a copy). */
  readonly handoffs: Map<string, { sends: number; readonly keep: boolean }>
}

/** Sends of a migrated share before the sender gives up (and keeps it). */
const HANDOFF_ATTEMPTS = 3

/** Every chunk of a share matches its CRC (checked without the tenant's key). */
const intact = (share: SharePayload) => share.chunks.every(frameIntact)

export const BEACON_BYTES = 64
export const CONTROL_BYTES = 64

export const satellite = (opts: { capacityBytes: number; beaconIntervalSeconds: number; policy?: EvictionPolicy; wire?: PayloadWire }): SkyBehaviour<SatelliteState> => {
  const wire = opts.wire
  const beacon = (ctx: SkyContext) => {
    for (let slot = 0; slot < 4; slot++) {
      const n = ctx.neighbour(slot)
      if (n >= 0) ctx.send(n, Tag.Beacon, BEACON_BYTES, 0, 0, 0, slot)
    }
    ctx.after(opts.beaconIntervalSeconds, Tag.Tick)
  }
  /** Send a share to satellite `to` (its bytes staged on the wire when it has them). */
  const sendShareTo = (ctx: SkyContext, to: number, key: number, share: Entry<SharePayload>, aux: number) => {
    if (share.payload && wire) wire.stage(wireSlot.migrate(key, to), share.payload)
    ctx.send(to, Tag.MigrateData, share.bytes, key, 0, 0, aux)
  }
  const handle = (state: SatelliteState, msg: Envelope, ctx: SkyContext): void => {
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
      case Tag.DirGet:
        ctx.send(msg.origin, Tag.DirReply, CONTROL_BYTES, msg.p0, msg.p1, state.directory.get(msg.p0) ?? -1, msg.aux)
        return
      case Tag.DirPut:
        state.directory.set(msg.p0, msg.aux)
        return
      case Tag.BlockGet: {
        // A satellite holds at most one share of a block, so the block key names it.
        const share = state.store.read(msg.p0)
        if (share?.payload && wire) wire.stage(wireSlot.reply(msg.origin, msg.p1, msg.aux), share.payload)
        ctx.send(msg.origin, Tag.BlockReply, share?.bytes ?? CONTROL_BYTES, msg.p0, msg.p1, share === undefined ? 0 : 1, msg.aux)
        return
      }
      case Tag.BlockPut: {
        const payload = wire?.take(wireSlot.put(msg.p0, msg.aux, ctx.self), msg.hops)
        if (payload && !intact(payload)) return ctx.count("corruptPutsRefused")
        // With bytes on the wire, a put whose bytes were already taken is a duplicate of a retransmission.
        if (!(wire && payload === undefined)) state.store.put(msg.p0, msg.bytes, payload)
        // p1 = 1: the sender wants an acknowledgement (it retransmits unacknowledged shares).
        if (msg.p1 === 1) ctx.send(msg.origin, Tag.CachePutAck, CONTROL_BYTES, msg.p0, 0, 0, msg.aux)
        return
      }
      case Tag.MigrateData: {
        const payload = wire?.take(wireSlot.migrate(msg.p0, ctx.self), msg.hops)
        if (!wire) return void state.store.put(msg.p0, msg.bytes, undefined)
        if (payload === undefined) return // a duplicate of a share sent again
        const ok = intact(payload)
        if (ok) state.store.put(msg.p0, msg.bytes, payload)
        else ctx.count("corruptMigrationsRefused")
        ctx.send(msg.origin, Tag.MigrateAck, CONTROL_BYTES, msg.p0, 0, ok ? 1 : 0, msg.aux)
        return
      }
      case Tag.MigrateOrder: {
        const share = state.store.read(msg.p0)
        if (share === undefined) return
        ctx.count("migrationBytes", share.bytes)
        ctx.countOverTime("migrationBytes", share.bytes)
        // p2 = 1: a copy for a satellite that lost its own (re-placement); this one keeps its share.
        const keep = msg.p2 === 1
        // With bytes, kept until the receiver acknowledges it intact (MigrateAck).
        if (share.payload && wire) state.handoffs.set(`${msg.p0}:${msg.p1}`, { sends: 1, keep })
        else if (!keep) state.store.delete(msg.p0)
        sendShareTo(ctx, msg.p1, msg.p0, share, msg.aux)
        return
      }
      case Tag.MigrateAck: {
        const slot = `${msg.p0}:${msg.origin}`
        const h = state.handoffs.get(slot)
        if (h === undefined) return
        const share = state.store.read(msg.p0)
        if (msg.p2 === 1 || share?.payload === undefined || h.sends >= HANDOFF_ATTEMPTS) {
          state.handoffs.delete(slot)
          if (msg.p2 === 1 && !h.keep) state.store.delete(msg.p0)
          return
        }
        // Refused (corrupted on the way): send it again.
        h.sends++
        ctx.count("migrationResends")
        sendShareTo(ctx, msg.origin, msg.p0, share, msg.aux)
        return
      }
    }
  }
  return {
    kind: "satellite",
    supervision: "restart",
    // Beacons only refresh lastHeard; DirPut only writes the directory.
    silentTags: [Tag.Beacon, Tag.DirPut],
    init: () => ({
      store: new ChunkStore<SharePayload>({ capacityBytes: opts.capacityBytes, policy: opts.policy ?? "lru" }),
      directory: new Map(),
      lastHeard: new Float64Array(4).fill(-1),
      handoffs: new Map()
    }),
    footprint: (state) => ({ items: state.store.size, bytes: state.store.usedBytes, evictions: state.store.evictions }),
    // Beacons start at a per-satellite offset so the constellation does not pulse in lockstep.
    start: (_self, _state, ctx) => ctx.after(ctx.random() * opts.beaconIntervalSeconds, Tag.Tick),
    handle
  }
}
