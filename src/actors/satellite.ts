/**
 * A satellite: hosts a chunk store, beacons its four ISL neighbours every beacon interval (so neighbours
 * learn which links are alive), and answers cache gets and puts from ground users. Supervision: restart
 * with an empty store, as a rebooted satellite would.
 * When shares carry their bytes (the payload wire), a satellite checks each chunk's CRC as bytes arrive:
 * a corrupted put is not stored (nor acknowledged, so the writer sends it again), and a migrated share
 * is handed over only once its receiver acknowledges it intact (the sender keeps it and sends it again
 * on a refusal, up to HANDOFF_ATTEMPTS sends), so link bit errors never settle into the stores.
 */
import { frameIntact } from "../cache/integrity.js"
import { type PayloadWire, type SharePayload, wireSlot } from "../cache/payload-wire.js"
import { ChunkStore, type Entry, type EvictionPolicy } from "../cache/store.js"
import { match } from "../runtime/protocol.js"
import { Sky, skySpecs, Tag } from "./protocol.js"
import type { SkyBehaviour, SkyContext } from "./sky-context.js"

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

export const satellite = (opts: {
  capacityBytes: number
  beaconIntervalSeconds: number
  policy?: EvictionPolicy
  wire?: PayloadWire
  /** With a wire: actors from this id on put shares with their bytes; those below (replay clients) put sizes only. */
  firstByteWriter?: number
}): SkyBehaviour<SatelliteState> => {
  const wire = opts.wire
  const firstByteWriter = opts.firstByteWriter ?? 0
  const beacon = (ctx: SkyContext) => {
    for (let slot = 0; slot < 4; slot++) {
      const n = ctx.neighbour(slot)
      if (n >= 0) Sky.Beacon.send(ctx, n, BEACON_BYTES, { link: slot })
    }
    Sky.Tick.after(ctx, opts.beaconIntervalSeconds, { timer: 0, id: 0 })
  }
  /** Send a share to satellite `to` (its bytes staged on the wire when it has them). */
  const sendShareTo = (ctx: SkyContext, to: number, key: number, share: Entry<SharePayload>, index: number) => {
    if (share.payload && wire) wire.stage(to, wireSlot.migrate(key, to), share.payload)
    // Beside a wire, a share without bytes (a replay client's) says so: the receiver must not wait for any.
    Sky.MigrateData.send(ctx, to, share.bytes, { key, share: index, sizeOnly: wire !== undefined && share.payload === undefined })
  }
  const handle = match<typeof skySpecs, SatelliteState, SkyContext>(skySpecs, {
    Tick: (_state, _m, ctx) => beacon(ctx),
    // The sender's slot toward us is the mirror of ours toward it: 0 <-> 1, 2 <-> 3.
    Beacon: (state, m) => void (state.lastHeard[m.link ^ 1] = m.time),
    CacheGet: (state, m, ctx) => {
      const size = state.store.get(m.key)
      const hit = size !== undefined
      Sky.CacheGetReply.send(ctx, m.origin, hit ? size : CONTROL_BYTES, { key: m.key, requestId: m.requestId, requestSentAt: m.sentAt, hit })
    },
    CachePut: (state, m, ctx) => {
      const stored = state.store.put(m.key, m.bytes)
      Sky.CachePutAck.send(ctx, m.origin, CONTROL_BYTES, { key: m.key, requestId: m.requestId, requestSentAt: m.sentAt, stored })
    },
    DirGet: (state, m, ctx) =>
      Sky.DirReply.send(ctx, m.origin, CONTROL_BYTES, { key: m.key, requestId: m.requestId, locator: state.directory.get(m.key) ?? -1, block: m.block }),
    DirPut: (state, m) => void state.directory.set(m.key, m.locator),
    // A writer's heartbeat (health.ts): a satellite that is up answers.
    Ping: (_state, m, ctx) => Sky.Pong.send(ctx, m.origin, CONTROL_BYTES, {}),
    BlockGet: (state, m, ctx) => {
      // A satellite holds at most one share of a block, so the block key names it.
      const share = state.store.read(m.key)
      if (share?.payload && wire) wire.stage(m.origin, wireSlot.reply(m.origin, m.requestId, m.ask), share.payload)
      Sky.BlockReply.send(ctx, m.origin, share?.bytes ?? CONTROL_BYTES, { key: m.key, requestId: m.requestId, hit: share !== undefined, ask: m.ask })
    },
    BlockPut: (state, m, ctx) => {
      const payload = wire?.take(wireSlot.put(m.key, m.share, ctx.self), m.hops, ctx.self)
      if (payload && !intact(payload)) return ctx.count("corruptPutsRefused")
      // With bytes on the wire, a byte writer's put whose bytes were already taken is a duplicate of a retransmission.
      if (!(wire && payload === undefined && m.origin >= firstByteWriter)) state.store.put(m.key, m.bytes, payload)
      if (m.acked) Sky.BlockPutAck.send(ctx, m.origin, CONTROL_BYTES, { key: m.key, share: m.share })
    },
    MigrateData: (state, m, ctx) => {
      const payload = wire?.take(wireSlot.migrate(m.key, ctx.self), m.hops, ctx.self)
      if (!wire || m.sizeOnly) return void state.store.put(m.key, m.bytes, undefined)
      if (payload === undefined) return // a duplicate of a share sent again
      const ok = intact(payload)
      if (ok) state.store.put(m.key, m.bytes, payload)
      else ctx.count("corruptMigrationsRefused")
      Sky.MigrateAck.send(ctx, m.origin, CONTROL_BYTES, { key: m.key, accepted: ok, share: m.share })
    },
    MigrateOrder: (state, m, ctx) => {
      const share = state.store.read(m.key)
      // Evicted (or lost with the store): the writer is told, so it stops ordering moves of a block that is gone.
      if (share === undefined) return void Sky.ShareGone.send(ctx, m.origin, CONTROL_BYTES, { key: m.key, share: m.share })
      ctx.count("migrationBytes", share.bytes)
      ctx.countOverTime("migrationBytes", share.bytes)
      // With bytes, kept until the receiver acknowledges it intact (MigrateAck).
      if (share.payload && wire) state.handoffs.set(`${m.key}:${m.target}`, { sends: 1, keep: m.keep })
      else if (!m.keep) state.store.delete(m.key)
      sendShareTo(ctx, m.target, m.key, share, m.share)
    },
    MigrateAck: (state, m, ctx) => {
      const slot = `${m.key}:${m.origin}`
      const h = state.handoffs.get(slot)
      if (h === undefined) return
      const share = state.store.read(m.key)
      if (m.accepted || share?.payload === undefined || h.sends >= HANDOFF_ATTEMPTS) {
        state.handoffs.delete(slot)
        if (m.accepted && !h.keep) state.store.delete(m.key)
        return
      }
      // Refused (corrupted on the way): send it again.
      h.sends++
      ctx.count("migrationResends")
      sendShareTo(ctx, m.origin, m.key, share, m.share)
    }
  })
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
    start: (_self, _state, ctx) => Sky.Tick.after(ctx, ctx.random() * opts.beaconIntervalSeconds, { timer: 0, id: 0 }),
    handle
  }
}
