/**
 * A satellite: hosts a chunk store, beacons its four ISL neighbours every beacon interval (so neighbours
 * learn which links are alive), and answers cache gets and puts from ground users. Supervision: restart
 * with an empty store, as a rebooted satellite would.
 * When shares carry their bytes (the payload wire), a satellite checks each chunk's CRC as bytes arrive:
 * a corrupted put is not stored (nor acknowledged, so the writer sends it again), and a migrated share
 * is handed over only once its receiver acknowledges it intact (the sender keeps it and sends it again
 * on a refusal, up to HANDOFF_ATTEMPTS sends), so link bit errors never settle into the stores.
 * Migration comes as orders for many shares and trains of shares (manifests.ts): a satellite sends each
 * order's shares as one train (shares with bytes one to a train), and stores a train's shares one at a
 * time, as they arrive.
 * As a block key's directory it records who wrote the block and, for anchored placements, the anchors
 * of copies readers placed near themselves; a lookup is answered with the one nearest the asker.
 */
import { frameIntact } from "../cache/integrity.js"
import { type PayloadWire, type SharePayload, wireSlot } from "../cache/payload-wire.js"
import { ChunkStore, type Entry, type EvictionPolicy } from "../cache/store.js"
import { match } from "../runtime/protocol.js"
import { ENTRY, MAX_TRAIN_SHARES } from "./manifests.js"
import { Sky, skySpecs, Tag } from "./protocol.js"
import type { SkyBehaviour, SkyContext } from "./sky-context.js"

export interface SatelliteState {
  /** Shares held: block key -> size, and the share's bytes when the run carries them (see PayloadWire). */
  readonly store: ChunkStore<SharePayload>
  /** Replay protocol: block key -> ground user that wrote it (this satellite is the key's directory). */
  readonly directory: Map<number, number>
  /** Anchors of copies readers placed near themselves (DirPut `replica`), by block key: at most MAX_REPLICAS, oldest first. */
  readonly replicas: Map<number, Array<number>>
  /**
   * Per +Grid neighbour (prev slot, next slot, prev plane, next plane), from its last beacon: its write
   * load, and the larger of its own two in-plane neighbours' (0 until heard), as of the beacon's sending.
   * With its own, they make the load of this satellite's rotation box (boxLoad).
   */
  readonly neighbourWritten: Float64Array
  readonly neighbourSlotNeighboursWritten: Float64Array
  /** When each neighbour sent its last beacon (0 until heard). */
  readonly neighbourHeardAt: Float64Array
  /** With bytes on the wire: shares sent to another satellite and not yet acknowledged ("key:to" -> sends, keep a copy). */
  readonly handoffs: Map<string, { sends: number; readonly keep: boolean }>
  /** Trains still arriving, by manifest id. */
  readonly trains: Map<number, Train>
  /** Without a wire: when the first of their next shares arrives (catchUp); infinity if none is arriving. */
  trainsDue: number
}

/**
 * A train of shares arriving (MigrateData): its manifest rows, the next share's index; its head (first
 * share) arrived at `head`, and each next share a step later.
 */
interface Train {
  readonly from: number
  readonly hops: number
  readonly rows: Float64Array
  next: number
  readonly head: number
  readonly step: number
}

/** When the next share of a train arrives. */
const due = (t: Train): number => t.head + t.next * t.step
const arrived = (t: Train): boolean => t.next * ENTRY >= t.rows.length

/** The satellite's timers (Tick.timer): its next beacon; the next share of a train arrives (id: the manifest). */
const TRAIN_TIMER = 1

/** Sends of a migrated share before the sender gives up (and keeps it). */
const HANDOFF_ATTEMPTS = 3

/** Every chunk of a share matches its CRC (checked without the tenant's key). */
const intact = (share: SharePayload) => share.chunks.every(frameIntact)

export const BEACON_BYTES = 64
export const CONTROL_BYTES = 64

/**
 * The largest write load in this satellite's rotation box now, as best it knows: its own, its four ISL
 * neighbours', and its plane neighbours' in-plane neighbours' (the box's corners on a Walker grid), heard
 * by beacons up to two intervals ago. Loads only grow, and a comparison between two boxes (client.ts)
 * is thrown off by their ages (a box heard 60 s ago looks lighter by a minute of writes, the same order
 * as the differences it should find), so each is carried forward to now at this satellite's own mean
 * write rate (a neighbour not heard yet counts as loaded like this satellite).
 */
const boxLoad = (state: SatelliteState, now: number): number => {
  const rate = meanWriteRate(state, now)
  let load = state.store.writtenBytes
  for (let slot = 0; slot < 4; slot++) {
    load = Math.max(load, heardLoad(state, state.neighbourWritten, slot, now, rate), slot >= 2 ? heardLoad(state, state.neighbourSlotNeighboursWritten, slot, now, rate) : 0)
  }
  return load
}

/** The larger of this satellite's in-plane neighbours' write loads, carried forward to now (see boxLoad). */
const slotNeighboursLoad = (state: SatelliteState, now: number): number => {
  const rate = meanWriteRate(state, now)
  return Math.max(heardLoad(state, state.neighbourWritten, 0, now, rate), heardLoad(state, state.neighbourWritten, 1, now, rate))
}

/** Bytes a second this satellite's store has taken, on average since the run began. */
const meanWriteRate = (state: SatelliteState, now: number): number => (now > 0 ? state.store.writtenBytes / now : 0)

/**
 * Copies of one block a directory keeps the anchors of (DirPut `replica`): enough to cover every
 * populated region's satellites, so that copies are made once per region rather than again whenever
 * readers elsewhere pushed the region's copy out (docs/decisions.md: 8 kept made ~6,100 copies of the
 * system prompt's block over the trace, 64 keep ~150).
 */
export const MAX_REPLICAS = 64

/** Of a block's own anchor (-1: none) and its copies', the one fewest hops from `near` (ties: the own, then the older copy). */
const nearest = (ctx: SkyContext, near: number, own: number, copies: ReadonlyArray<number>): number => {
  let best = own
  let hops = own >= 0 ? ctx.hops(near, own) : Number.POSITIVE_INFINITY
  for (const c of copies) {
    const h = ctx.hops(near, c)
    if (h < hops) {
      best = c
      hops = h
    }
  }
  return best
}

/** A load heard from the neighbour in `slot`, plus what `rate` adds from its sending to now. */
const heardLoad = (state: SatelliteState, loads: Float64Array, slot: number, now: number, rate: number): number =>
  loads[slot]! + rate * (now - state.neighbourHeardAt[slot]!)

export const satellite = (opts: {
  capacityBytes: number
  beaconIntervalSeconds: number
  /** The ISLs' rate: a train's shares arrive one step (the largest share's bytes at this rate) apart. */
  islBandwidthBitsPerSecond: number
  policy?: EvictionPolicy
  /** Beacons carry write loads (read only where a strategy chooses anchors by load); else they carry zeros and nothing is noted. */
  beaconLoads?: boolean
  wire?: PayloadWire
  /** With a wire: actors from this id on put shares with their bytes; those below (replay clients) put sizes only. */
  firstByteWriter?: number
}): SkyBehaviour<SatelliteState> => {
  const wire = opts.wire
  const firstByteWriter = opts.firstByteWriter ?? 0
  const beacon = (state: SatelliteState, ctx: SkyContext) => {
    const written = opts.beaconLoads ? state.store.writtenBytes : 0
    const slotNeighboursWritten = opts.beaconLoads ? slotNeighboursLoad(state, ctx.now) : 0
    for (let slot = 0; slot < 4; slot++) {
      const n = ctx.neighbour(slot)
      if (n >= 0) Sky.Beacon.send(ctx, n, BEACON_BYTES, { link: slot, written, slotNeighboursWritten })
    }
    Sky.Tick.after(ctx, opts.beaconIntervalSeconds, { timer: 0, id: 0 })
  }
  /** Send shares to satellite `to` as one train (rows [key, share, bytes, sizeOnly]; their bytes staged on the wire). */
  const sendTrain = (ctx: SkyContext, to: number, rows: ReadonlyArray<number>) => {
    let total = 0
    let step = 0
    for (let k = 0; k < rows.length; k += ENTRY) {
      total += rows[k + 2]!
      step = Math.max(step, rows[k + 2]!)
    }
    Sky.MigrateData.send(ctx, to, total, { manifest: ctx.postManifest(to, Float64Array.from(rows)), stepBytes: step })
  }
  /** A share's row of a train (its bytes staged): beside a wire, a share without bytes (a replay client's) says so. */
  const addToTrain = (train: Array<number>, to: number, key: number, share: Entry<SharePayload>, index: number): void => {
    if (share.payload && wire) wire.stage(to, wireSlot.migrate(key, to), share.payload)
    train.push(key, index, share.bytes, wire !== undefined && share.payload === undefined ? 1 : 0)
  }
  /** The next share of a train arrives: stored, or with bytes checked first and acknowledged. */
  const receiveShare = (state: SatelliteState, ctx: SkyContext, train: Train) => {
    const k = ENTRY * train.next++
    const rows = train.rows
    const key = rows[k]!, share = rows[k + 1]!, bytes = rows[k + 2]!
    const payload = wire?.take(wireSlot.migrate(key, ctx.self), train.hops, ctx.self)
    if (!wire || rows[k + 3] === 1) return void state.store.put(key, bytes, undefined)
    if (payload === undefined) return // a duplicate of a share sent again
    const ok = intact(payload)
    if (ok) state.store.put(key, bytes, payload)
    else ctx.count("corruptMigrationsRefused")
    Sky.MigrateAck.send(ctx, train.from, CONTROL_BYTES, { key, accepted: ok, share })
  }
  /**
   * Without a wire, shares carry no bytes and arrive without answering: each is stored when the
   * satellite next handles anything at or after its arrival (every delivery starts here), in arrival
   * order, as a timer per share would, at a timer per train (at its tail) instead of per share.
   */
  const catchUp = (state: SatelliteState, ctx: SkyContext) => {
    for (;;) {
      let first: Train | undefined
      let id = 0
      for (const [k, t] of state.trains) if (first === undefined || due(t) < due(first)) (first = t), (id = k)
      if (first === undefined || due(first) > ctx.now) {
        state.trainsDue = first === undefined ? Number.POSITIVE_INFINITY : due(first)
        return
      }
      receiveShare(state, ctx, first)
      if (arrived(first)) state.trains.delete(id)
    }
  }
  const handle = match<typeof skySpecs, SatelliteState, SkyContext>(skySpecs, {
    Tick: (state, m, ctx) => {
      if (m.timer !== TRAIN_TIMER) return beacon(state, ctx)
      const train = state.trains.get(m.id)
      // Arrived whole (catchUp), or gone with a restart: what was still arriving is lost with the store.
      if (train === undefined) return
      // With a wire, share by share: each is checked and answered when it arrives.
      receiveShare(state, ctx, train)
      if (arrived(train)) state.trains.delete(m.id)
      else Sky.Tick.after(ctx, train.step, { timer: TRAIN_TIMER, id: m.id })
    },
    // The sender's slot toward us is the mirror of ours toward it: 0 <-> 1, 2 <-> 3.
    Beacon: (state, m) => {
      if (!opts.beaconLoads) return
      state.neighbourWritten[m.link ^ 1] = m.written
      state.neighbourSlotNeighboursWritten[m.link ^ 1] = m.slotNeighboursWritten
      state.neighbourHeardAt[m.link ^ 1] = m.sentAt
    },
    LoadGet: (state, m, ctx) => Sky.LoadReply.send(ctx, m.origin, CONTROL_BYTES, { requestId: m.requestId, load: boxLoad(state, ctx.now) }),
    CacheGet: (state, m, ctx) => {
      const size = state.store.get(m.key)
      const hit = size !== undefined
      Sky.CacheGetReply.send(ctx, m.origin, hit ? size : CONTROL_BYTES, { key: m.key, requestId: m.requestId, requestSentAt: m.sentAt, hit })
    },
    CachePut: (state, m, ctx) => {
      const stored = state.store.put(m.key, m.bytes)
      Sky.CachePutAck.send(ctx, m.origin, CONTROL_BYTES, { key: m.key, requestId: m.requestId, requestSentAt: m.sentAt, stored })
    },
    DirGet: (state, m, ctx) => {
      const own = state.directory.get(m.key) ?? -1
      const copies = m.near >= 0 ? state.replicas.get(m.key) : undefined
      const locator = copies === undefined ? own : nearest(ctx, m.near, own, copies)
      Sky.DirReply.send(ctx, m.origin, CONTROL_BYTES, { key: m.key, requestId: m.requestId, locator, block: m.block })
    },
    DirPut: (state, m) => {
      if (!m.replica) return void state.directory.set(m.key, m.locator)
      let copies = state.replicas.get(m.key)
      if (copies === undefined) state.replicas.set(m.key, (copies = []))
      if (copies.includes(m.locator)) return
      // The oldest copy has drifted furthest from the readers that placed it: it goes first.
      if (copies.push(m.locator) > MAX_REPLICAS) copies.shift()
    },
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
    // A train's head has arrived: its first share is here, each next one a step later (trainTimer).
    MigrateData: (state, m, ctx) => {
      const rows = ctx.takeManifest(m.manifest)
      if (rows === undefined) return ctx.count("manifestsMissing")
      const train: Train = { from: m.origin, hops: m.hops, rows, next: 0, head: m.time, step: (m.stepBytes * 8) / opts.islBandwidthBitsPerSecond }
      receiveShare(state, ctx, train)
      if (arrived(train)) return
      state.trains.set(m.manifest, train)
      state.trainsDue = Math.min(state.trainsDue, due(train))
      // Without a wire the tail's timer only bounds when the train is stored whole (see catchUp).
      Sky.Tick.after(ctx, wire ? train.step : (rows.length / ENTRY - 1) * train.step, { timer: TRAIN_TIMER, id: m.manifest })
    },
    MigrateOrder: (state, m, ctx) => {
      const rows = ctx.takeManifest(m.manifest)
      if (rows === undefined) return ctx.count("manifestsMissing")
      const train: Array<number> = []
      const gone: Array<number> = []
      let moved = 0
      for (let k = 0; k < rows.length; k += ENTRY) {
        const key = rows[k]!, index = rows[k + 1]!, keep = rows[k + 2] === 1
        // Without a wire nothing is acknowledged: a share that moves leaves now (take: read and delete in one).
        const leaves = !keep && wire === undefined
        const share = leaves ? state.store.take(key) : state.store.read(key)
        // Evicted (or lost with the store): the writer is told, so it stops ordering moves of a block that is gone.
        if (share === undefined) {
          gone.push(key, index, 0, 0)
          continue
        }
        moved += share.bytes
        // With bytes, kept until the receiver acknowledges it intact (MigrateAck).
        if (share.payload && wire) state.handoffs.set(`${key}:${m.target}`, { sends: 1, keep })
        else if (!keep && !leaves) state.store.delete(key)
        addToTrain(train, m.target, key, share, index)
      }
      if (moved > 0) {
        ctx.count("migrationBytes", moved)
        ctx.countOverTime("migrationBytes", moved)
      }
      if (gone.length > 0) Sky.ShareGone.send(ctx, m.origin, CONTROL_BYTES * (gone.length / ENTRY), { manifest: ctx.postManifest(m.origin, Float64Array.from(gone)) })
      // Shares with bytes go one to a message: each is lost, corrupted and acknowledged on its own.
      const cap = ENTRY * (wire ? 1 : MAX_TRAIN_SHARES)
      if (train.length > cap) for (let k = 0; k < train.length; k += cap) sendTrain(ctx, m.target, train.slice(k, k + cap))
      else if (train.length > 0) sendTrain(ctx, m.target, train)
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
      // Refused (corrupted on the way): send it again, a train of one.
      h.sends++
      ctx.count("migrationResends")
      const again: Array<number> = []
      addToTrain(again, m.origin, m.key, share, m.share)
      sendTrain(ctx, m.origin, again)
    }
  })
  return {
    kind: "satellite",
    supervision: "restart",
    // Beacons only note the neighbours' loads; DirPut only writes the directory.
    silentTags: [Tag.Beacon, Tag.DirPut],
    init: () => ({
      store: new ChunkStore<SharePayload>({ capacityBytes: opts.capacityBytes, policy: opts.policy ?? "lru" }),
      directory: new Map(),
      replicas: new Map(),
      neighbourWritten: new Float64Array(4),
      neighbourSlotNeighboursWritten: new Float64Array(4),
      neighbourHeardAt: new Float64Array(4),
      handoffs: new Map(),
      trains: new Map(),
      trainsDue: Number.POSITIVE_INFINITY
    }),
    footprint: (state) => ({ items: state.store.size, bytes: state.store.usedBytes, evictions: state.store.evictions }),
    // Beacons start at a per-satellite offset so the constellation does not pulse in lockstep.
    start: (_self, _state, ctx) => {
      if (opts.beaconIntervalSeconds > 0) Sky.Tick.after(ctx, ctx.random() * opts.beaconIntervalSeconds, { timer: 0, id: 0 })
    },
    handle: wire ? handle : (state, env, ctx) => {
      if (state.trainsDue <= ctx.now) catchUp(state, ctx)
      handle(state, env, ctx)
    }
  }
}
