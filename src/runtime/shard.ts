import { Cause, Effect, Exit } from "effect"
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64"
import type { RandomGenerator } from "pure-rand/types/RandomGenerator"
import { ActorFailure, SilentTagSent, type ActorContext, type Behaviour, type Envelope, type Histogram } from "../actors/actor.js"
import { checkRecord, MAX_TAG, Tag } from "../actors/messages.js"
import type { SatelliteState } from "../actors/satellite.js"
import { type ActorKind, behaviourFor, type HostedServices } from "../actors/registry.js"
import type { RoutingShare } from "../actors/routing-share.js"
import { TopologyActor } from "../actors/topology.js"
import { serverSatellites } from "../cache/placement.js"
import { propagationSeconds } from "../topology/index.js"
import { EventQueue } from "./event-queue.js"
import { Faults } from "./faults.js"
import { isLinkLevel, SatelliteService } from "./satellite-service.js"
import type { Mailboxes } from "./mailbox.js"
import { DropReason, encodeHistogram, SERIES_BUCKET_SECONDS, ShardMetrics, type ShardReport, dropCounts, tagCounts } from "./metrics.js"
import { F, I, RecordBlock } from "./record.js"
import { streamRng } from "./random.js"
import { foldDelivery } from "./trace-hash.js"
import { isUser, kindOf, type World } from "./world.js"

/**
 * One shard of a run: the actors of a contiguous range of orbital planes (and the ground users homed
 * there), their event queue, and a replica of the topology actor. Transport-agnostic: it takes inbound
 * records from mailboxes, runs a window [T, end) of virtual time, and leaves outbound records in
 * mailboxes; whoever drives it (a piscina worker, or a test running all shards in one thread) decides how
 * windows are agreed. That is the interface a cluster entity would implement too.
 */
/** One ISL or ground hop, as observed by the topology actor (for tests and traces). */
export interface HopRecord {
  readonly origin: number
  readonly originSeq: number
  readonly from: number
  readonly to: number
  /** ISL id, or -1 for a ground leg. */
  readonly link: number
  readonly depart: number
  readonly arrival: number
  readonly bytes: number
}

/** One delivery to an actor (timers excluded). */
export interface DeliveryRecord {
  readonly origin: number
  readonly originSeq: number
  readonly dst: number
  readonly tag: number
  readonly sentAt: number
  readonly time: number
  readonly hops: number
}

export interface EngineObservers {
  readonly onHop?: (h: HopRecord) => void
  readonly onDelivery?: (d: DeliveryRecord) => void
}

export class ShardEngine {
  readonly queue = new EventQueue(256)
  readonly topology: TopologyActor
  readonly metrics = new ShardMetrics()
  /** Per-actor trace-hash lanes (only owned actors are non-zero). */
  readonly hashes: Uint32Array
  /** Earliest arrival time of anything this shard sent another shard in the current window. */
  minSent = Number.POSITIVE_INFINITY
  /** Earliest output time (see earliestOutput) of what this shard sent other shards in the current window. */
  private minSentOutput = Number.POSITIVE_INFINITY
  private readonly seq: Int32Array
  private readonly states: Array<unknown>
  private readonly stopped: Uint8Array
  private readonly received: Float64Array
  private readonly rngs: Array<RandomGenerator | undefined>
  private readonly behaviours: Record<ActorKind, Behaviour<unknown> | undefined>
  private readonly busyUntil: Float64Array
  private readonly lastArrival: Float64Array
  private readonly uplinkBusy: Float64Array
  private readonly uplinkLast: Float64Array
  private readonly downlink = new Map<number, [busy: number, last: number]>()
  /** Satellites' service time and bounded mailboxes (overload model); undefined when off. */
  private readonly service: SatelliteService | undefined
  private readonly observers: EngineObservers
  private readonly scratch = new RecordBlock(1)
  private readonly env: Envelope = { time: 0, sentAt: 0, origin: 0, originSeq: 0, dst: 0, tag: 0, bytes: 0, hops: 0, p0: 0, p1: 0, p2: 0, aux: 0 }
  private readonly ctx: ActorContext & { now: number; self: number }
  private parity = 0
  private current = -1
  /** Per tag, 1 if its delivery to a satellite (resp. a ground user) cannot send: see Behaviour.silentTags. */
  private readonly silentSatellite = new Uint8Array(MAX_TAG + 1)
  private readonly silentUser = new Uint8Array(MAX_TAG + 1)
  /** The delivery being handled is of a silent tag: a send or timer now is a SilentTagSent defect. */
  private silentNow = false

  constructor(
    readonly world: World,
    readonly index: number,
    readonly owner: Int32Array,
    readonly mailboxes: Mailboxes,
    o: { readonly observers?: EngineObservers; readonly hosted?: HostedServices; readonly routing?: RoutingShare | undefined } = {}
  ) {
    const cfg = world.config
    const hosted = o.hosted
    this.observers = o.observers ?? {}
    this.topology = new TopologyActor(world, owner, o.routing)
    const n = world.actorCount
    this.hashes = new Uint32Array(2 * n)
    this.seq = new Int32Array(n)
    this.states = new Array(n)
    this.stopped = new Uint8Array(n)
    this.received = new Float64Array(n)
    this.rngs = new Array(n)
    const links = this.topology.snapshot.graph.linkCount
    this.busyUntil = new Float64Array(2 * links)
    this.lastArrival = new Float64Array(2 * links)
    this.uplinkBusy = new Float64Array(world.users.length)
    this.uplinkLast = new Float64Array(world.users.length)
    this.service = SatelliteService.fromConfig(cfg, world.satellites)
    const kc = { config: cfg, satellites: world.satellites, userRequests: world.userRequests, ...(hosted ? { hosted } : {}) }
    this.behaviours = {
      satellite: behaviourFor("satellite", kc),
      ground: cfg.workload === "standard" ? behaviourFor("ground", kc) : undefined,
      client: cfg.workload === "replay" ? behaviourFor("client", kc) : undefined,
      inference: cfg.inferenceActors > 0 ? behaviourFor("inference", kc) : undefined
    }
    this.declareSilent(this.silentSatellite, this.behaviours.satellite, (tag) => this.service === undefined || isLinkLevel(tag))
    this.declareSilent(this.silentUser, this.behaviours.ground ?? this.behaviours.client, () => true)
    const self = this
    const graph = this.topology.snapshot.graph
    this.ctx = {
      now: 0,
      self: 0,
      send: (dst, tag, bytes, p0 = 0, p1 = 0, p2 = 0, aux = 0) => {
        if (self.silentNow) self.silentViolation(tag)
        self.send(self.ctx.self, self.ctx.now, dst, tag, bytes, p0, p1, p2, aux)
      },
      after: (delay, tag, aux = 0) => {
        if (self.silentNow) self.silentViolation(tag)
        self.timer(self.ctx.self, self.ctx.now + delay, tag, aux)
      },
      neighbour: (slot) => (self.ctx.self < world.satellites ? graph.neighbours[4 * self.ctx.self + slot]! : -1),
      record: (h: Histogram, seconds) => (h === "retrieval" ? self.metrics.retrieval : self.metrics.put).recordValue(Math.max(1, Math.round(seconds * 1e6))),
      random: () => uniformFloat64(self.rngOf(self.ctx.self)),
      count: (name, n = 1) => self.metrics.counters.set(name, (self.metrics.counters.get(name) ?? 0) + n),
      countOverTime: (name, n) => {
        let s = self.metrics.series.get(name)
        if (s === undefined) self.metrics.series.set(name, (s = new Map()))
        const bucket = Math.floor(self.ctx.now / SERIES_BUCKET_SECONDS) * SERIES_BUCKET_SECONDS
        s.set(bucket, (s.get(bucket) ?? 0) + n)
      },
      servingOf: (user) => self.topology.servingOf(user),
      placement: (centre, servers) => self.placementAround(centre, servers),
      satelliteUp: (sat) => self.faults === undefined || !self.faults.isDown(sat, self.ctx.now)
    }
  }

  private readonly placements = new Map<number, ReadonlyArray<number>>()

  /**
   * A behaviour's silent tags, those `safe` allows: with the overload model on, a satellite answers a
   * refused message with Busy, so only link-level tags (never refused) stay silent there.
   */
  private declareSilent(table: Uint8Array, b: Behaviour<unknown> | undefined, safe: (tag: number) => boolean): void {
    for (const tag of b?.silentTags ?? []) if (safe(tag)) table[tag] = 1
  }

  /** Whether delivering `tag` to `actor` cannot send (its behaviour declared it silent). */
  private isSilent(actor: number, tag: number): boolean {
    return actor < this.world.satellites ? this.silentSatellite[tag] === 1 : isUser(this.world, actor) && this.silentUser[tag] === 1
  }

  /** Queued record `slot` is a delivery (not a relay, not a timer) of a silent tag: it cannot send. */
  private readonly silentDelivery = (slot: number): boolean => {
    const p = this.queue.pool
    const at = p.getI(slot, I.at)
    return at === p.getI(slot, I.dst) && p.getI(slot, I.hops) !== -1 && this.isSilent(at, p.getI(slot, I.tag))
  }

  private silentViolation(sent: number): never {
    const actor = this.ctx.self
    throw new SilentTagSent({ actor, kind: kindOf(this.world, actor), tag: this.env.tag, sent })
  }

  /** The run's placement strategy around a centre (pure in (centre, S), so cached for the run). */
  private placementAround(centre: number, servers: number): ReadonlyArray<number> {
    const key = centre * 65_536 + servers
    let p = this.placements.get(key)
    if (p === undefined) {
      const strategy = this.world.config.replay.strategy
      if (strategy === "baseline") throw new Error("the baseline placement hashes keys; it has no centre")
      p = serverSatellites(strategy, this.world.constellation, this.topology.snapshot.graph, centre, servers)
      this.placements.set(key, p)
    }
    return p
  }

  private behaviourOf(actor: number): Behaviour<unknown> {
    return this.behaviours[kindOf(this.world, actor)]!
  }

  private rngOf(actor: number): RandomGenerator {
    let r = this.rngs[actor]
    if (r === undefined) {
      r = streamRng(this.world.config.seed, actor)
      this.rngs[actor] = r
    }
    return r
  }

  /** Create owned actors' state and their start-up timers. */
  start(): void {
    this.topology.enterEpochOf(0)
    for (let a = 0; a < this.world.actorCount; a++) {
      if (this.owner[a] !== this.index) continue
      const b = this.behaviourOf(a)
      this.states[a] = b.init(a)
      this.ctx.self = a
      this.ctx.now = 0
      b.start?.(a, this.states[a], this.ctx)
    }
  }

  /** Fault injection by an in-process host (see Faults); off unless set, one branch per hop when off. */
  private faults?: Faults

  injectFaults(o: { lossRate: number; seed: number }): void {
    this.faults = new Faults(o.lossRate, o.seed, this.world.actorCount, this.world.users.length)
  }

  /** A satellite crashes at `now`: its state (and store) is lost; it takes nothing for `downSeconds`. */
  crashSatellite(actor: number, now: number, downSeconds: number): void {
    if (!this.faults) throw new Error("crashSatellite: call injectFaults first")
    this.states[actor] = this.behaviourOf(actor).init(actor)
    this.faults.down(actor, now + downSeconds)
    this.metrics.supervisionCount++
  }

  /** Ground actor `user`'s radio is out until `until` (virtual s): nothing goes up or comes down. */
  groundOutage(user: number, until: number): void {
    if (!this.faults) throw new Error("groundOutage: call injectFaults first")
    this.faults.radioOut(user, until)
  }

  /** Wake an owned actor at virtual time `time` (>= now) with a timer: how a host hands an actor work. */
  wake(actor: number, time: number, tag: number, aux = 0): void {
    if (this.owner[actor] !== this.index) throw new RangeError(`actor ${actor} is not on shard ${this.index}`)
    this.timer(actor, time, tag, aux)
  }

  /** Owned satellites' actor state (for tests and memory accounting). */
  stateOf(actor: number): unknown {
    return this.states[actor]
  }

  private nextSeq(actor: number): number {
    const s = this.seq[actor]!
    this.seq[actor] = s + 1
    return s
  }

  private timer(self: number, time: number, tag: number, aux: number): void {
    const q = this.queue
    const r = q.alloc()
    const p = q.pool
    p.setF(r, F.time, time)
    p.setF(r, F.sentAt, this.ctx.now)
    p.setF(r, F.p0, 0)
    p.setF(r, F.p1, 0)
    p.setF(r, F.p2, 0)
    const seq = this.nextSeq(self)
    p.setI(r, I.at, self)
    p.setI(r, I.src, self)
    p.setI(r, I.seq, seq)
    p.setI(r, I.dst, self)
    p.setI(r, I.tag, tag)
    p.setI(r, I.hops, -1) // -1 marks a timer
    p.setI(r, I.bytes, 0)
    p.setI(r, I.origin, self)
    p.setI(r, I.originSeq, seq)
    p.setI(r, I.aux, aux)
    q.push(r)
    this.metrics.timersSet++
  }

  private send(self: number, now: number, dst: number, tag: number, bytes: number, p0: number, p1: number, p2: number, aux: number): void {
    const s = this.scratch
    const seq = this.nextSeq(self)
    s.setF(0, F.time, now)
    s.setF(0, F.sentAt, now)
    s.setF(0, F.p0, p0)
    s.setF(0, F.p1, p1)
    s.setF(0, F.p2, p2)
    s.setI(0, I.at, self)
    s.setI(0, I.src, self)
    s.setI(0, I.seq, seq)
    s.setI(0, I.dst, dst)
    s.setI(0, I.tag, tag)
    s.setI(0, I.hops, 0)
    s.setI(0, I.bytes, bytes)
    s.setI(0, I.origin, self)
    s.setI(0, I.originSeq, seq)
    s.setI(0, I.aux, aux)
    s.setI(0, I.route, -1)
    s.setI(0, I.spare, 0)
    this.metrics.sent++
    // Injected loss: the message never arrives (one draw per message, end to end).
    if (this.faults?.lost()) return this.drop(DropReason.lost)
    this.hop(s, 0, now, seq)
  }

  private drop(reason: number): void {
    this.metrics.dropped[reason]!++
  }

  /**
   * The topology actor's decision for a message sitting at `at` at time `now`: its next hop and arrival,
   * with per-link serialization, FIFO queueing and propagation; or a drop with a reason. The record is
   * then queued here or placed in the owner shard's mailbox.
   */
  private hop(b: RecordBlock, r: number, now: number, seq: number): void {
    const w = this.world
    const topo = this.topology
    const snap = topo.snapshot
    const at = b.getI(r, I.at)
    const dst = b.getI(r, I.dst)
    const tag = b.getI(r, I.tag)
    const bytes = b.getI(r, I.bytes)
    const cfg = w.config
    let next: number
    let arrival: number
    let depart = now
    let usedLink = -1
    if (b.getI(r, I.hops) >= cfg.maxHops) return this.drop(DropReason.ttl)
    const f = this.faults
    if (f !== undefined) {
      if (at >= w.satellites && f.isRadioOut(at - w.satellites, now)) return this.drop(DropReason.noSatellite)
      if (isUser(w, dst) && f.isRadioOut(dst - w.satellites, now)) return this.drop(DropReason.noSatellite)
    }
    if (at === dst) {
      next = dst
      arrival = now
    } else if (at >= w.satellites) {
      // Uplink from a ground user to its serving satellite.
      const u = at - w.satellites
      next = topo.servingOf(u)
      if (next < 0) return this.drop(DropReason.noSatellite)
      const ser = (bytes * 8) / cfg.groundBandwidthBitsPerSecond
      depart = Math.max(now, this.uplinkBusy[u]!)
      this.uplinkBusy[u] = depart + ser
      arrival = Math.max(depart + ser + propagationSeconds(topo.groundRangeKm(u, next)) + cfg.perHopProcessingSeconds, this.uplinkLast[u]!)
      this.uplinkLast[u] = arrival
    } else {
      let link: number
      const userDst = isUser(w, dst)
      const u = dst - w.satellites
      const target = userDst ? topo.servingOf(u) : dst
      if (userDst && target < 0) return this.drop(DropReason.noSatellite)
      if (userDst && target === at) {
        // Downlink to the user.
        const key = at * w.users.length + u
        const q = this.downlink.get(key) ?? [0, 0]
        const ser = (bytes * 8) / cfg.groundBandwidthBitsPerSecond
        depart = Math.max(now, q[0])
        q[0] = depart + ser
        arrival = Math.max(depart + ser + propagationSeconds(topo.groundRangeKm(u, at)) + cfg.perHopProcessingSeconds, q[1])
        q[1] = arrival
        this.downlink.set(key, q)
        next = dst
      } else {
        if (tag === Tag.Beacon) {
          // Link-local: over the one link to that neighbour, or not at all.
          link = snap.graph.neighbourLink[4 * at + b.getI(r, I.aux)]!
          if (link < 0 || snap.up[link] === 0) return this.drop(DropReason.linkDown)
          next = dst
        } else {
          // Requests between satellites follow the tree of their ingress satellite, everything bound
          // for a ground user the tree of the user's serving satellite (see TopologyActor.toward).
          // I.route: -1 unset; r >= 0 the tree root; r <= -2 detoured (root -2 - r), see TopologyActor.toward.
          let route = b.getI(r, I.route)
          if (route === -1) {
            route = userDst ? target : at
            b.setI(r, I.route, route)
          }
          const detoured = route <= -2
          const root = detoured ? -2 - route : route
          const h = topo.toward(at, target, userDst ? target : root, detoured)
          if (h.next < 0) return this.drop(DropReason.unreachable)
          if (h.detoured && !detoured) b.setI(r, I.route, -2 - root)
          next = h.next
          link = h.link
        }
        const d = 2 * link + (snap.graph.linkA[link] === at ? 0 : 1)
        const ser = (bytes * 8) / cfg.islBandwidthBitsPerSecond
        depart = Math.max(now, this.busyUntil[d]!)
        usedLink = link
        this.busyUntil[d] = depart + ser
        arrival = Math.max(depart + ser + snap.linkDelay[link]!, this.lastArrival[d]!)
        this.lastArrival[d] = arrival
      }
    }
    if (this.observers.onHop && next !== at) {
      this.observers.onHop({ origin: b.getI(r, I.origin), originSeq: b.getI(r, I.originSeq), from: at, to: next, link: usedLink, depart, arrival, bytes })
    }
    b.setF(r, F.time, arrival)
    b.setI(r, I.src, at)
    b.setI(r, I.seq, seq)
    b.setI(r, I.at, next)
    b.setI(r, I.hops, b.getI(r, I.hops) + (next === at ? 0 : 1))
    const owner = this.owner[next]!
    if (owner === this.index) {
      const slot = this.queue.alloc()
      this.queue.pool.copyFrom(b, r, slot)
      this.queue.push(slot)
    } else {
      const [mb, k] = this.mailboxes.reserve(this.index, owner, this.parity)
      mb.copyFrom(b, r, k)
      if (arrival < this.minSent) this.minSent = arrival
      // A silent delivery there cannot send on: it bounds nothing.
      const out = next === dst && this.isSilent(next, tag) ? Number.POSITIVE_INFINITY : arrival + this.topology.toCut[next]!
      if (out < this.minSentOutput) this.minSentOutput = out
    }
  }

  /** Move records other shards left for this one (window parity p) into the queue, checking each. */
  ingest(p: number, notBefore: number): void {
    const cfg = this.world.config
    for (let from = 0; from < this.mailboxes.shards; from++) {
      if (from === this.index) continue
      const [mb, n] = this.mailboxes.pending(from, this.index, p)
      for (let k = 0; k < n; k++) {
        const bad = checkRecord(mb, k, this.world.actorCount, notBefore, cfg.maxHops)
        if (bad !== undefined || this.owner[mb.getI(k, I.at)] !== this.index) {
          const field = bad ?? "at"
          this.metrics.invalidFields[field] = (this.metrics.invalidFields[field] ?? 0) + 1
          this.drop(DropReason.invalid)
          continue
        }
        const slot = this.queue.alloc()
        this.queue.pool.copyFrom(mb, k, slot)
        this.queue.push(slot)
      }
      this.mailboxes.clear(from, this.index, p)
    }
  }

  /**
   * Run every event before `end`; cross-shard output goes to mailboxes of parity `outParity`. Deliveries
   * to behaviours with a synchronous core (`handle`) run inline in stageDelivery; a behaviour without one
   * has its `receive` Effect run here. A failure in either is supervised and the window goes on.
   */
  runWindow(end: number, outParity: number): void {
    this.parity = outParity
    this.minSent = Number.POSITIVE_INFINITY
    this.minSentOutput = Number.POSITIVE_INFINITY
    this.metrics.windows++
    while (this.stageDelivery(end)) {
      const exit = Effect.runSyncExit(this.deliverStaged())
      if (Exit.isFailure(exit)) this.supervise(this.current, exit.cause)
    }
    this.silentNow = false
  }

  /**
   * The earliest virtual time at which anything this shard holds (its queue, and what it sent other
   * shards in the window just run) could reach an actor of another shard this epoch: min over events of
   * time + topology.toCut[actor], deliveries of silent tags left out (they cannot send). No shard can
   * receive anything before the least of these over shards.
   */
  earliestOutput(): number {
    return Math.min(this.queue.minTimePlus(this.topology.toCut, this.silentDelivery), this.minSentOutput)
  }

  /** Pop events until one is a delivery to a live actor before `end`; false when the window is done. */
  private stageDelivery(end: number): boolean {
    const q = this.queue
    const p = q.pool
    const env = this.env
    const m = this.metrics
    while (q.size > 0 && q.peekTime() < end) {
      const slot = q.pop()
      const at = p.getI(slot, I.at)
      const time = p.getF(slot, F.time)
      if (at !== p.getI(slot, I.dst)) {
        // A relay: the satellite at `at` hands it on.
        m.forwarded++
        this.hop(p, slot, time, this.nextSeq(at))
        q.release(slot)
        continue
      }
      const timer = p.getI(slot, I.hops) === -1
      if (this.stopped[at] || (!timer && this.faults !== undefined && this.faults.isDown(at, time))) {
        if (!timer) this.drop(DropReason.actorStopped)
        q.release(slot)
        continue
      }
      if (this.service !== undefined && !timer && at < this.world.satellites) {
        const arrival = this.service.arrive(p, slot, at, time)
        if (arrival === "wait") {
          q.push(slot)
          continue
        }
        if (arrival === "refuse") {
          // Backpressure: dropped with its reason, and the sender told (never a silent loss).
          this.drop(DropReason.mailboxFull)
          this.send(at, time, p.getI(slot, I.origin), Tag.Busy, 64, p.getF(slot, F.p0), p.getF(slot, F.p1), p.getI(slot, I.tag), p.getI(slot, I.aux))
          q.release(slot)
          continue
        }
      }
      env.time = time
      env.sentAt = p.getF(slot, F.sentAt)
      env.origin = p.getI(slot, I.origin)
      env.originSeq = p.getI(slot, I.originSeq)
      env.dst = at
      env.tag = p.getI(slot, I.tag)
      env.bytes = p.getI(slot, I.bytes)
      env.hops = p.getI(slot, I.hops)
      env.p0 = p.getF(slot, F.p0)
      env.p1 = p.getF(slot, F.p1)
      env.p2 = p.getF(slot, F.p2)
      env.aux = p.getI(slot, I.aux)
      q.release(slot)
      if (timer) m.timersFired++
      else {
        this.observers.onDelivery?.({ origin: env.origin, originSeq: env.originSeq, dst: at, tag: env.tag, sentAt: env.sentAt, time, hops: env.hops })
        m.delivered++
        m.deliveredByTag[env.tag]!++
        if (env.tag === Tag.CacheGetReply) env.aux === 1 ? m.getHits++ : m.getMisses++
      }
      foldDelivery(this.hashes, at, time, env.origin, env.originSeq, env.tag, env.bytes)
      this.ctx.self = at
      this.ctx.now = time
      this.current = at
      this.silentNow = !timer && this.isSilent(at, env.tag)
      const b = this.behaviourOf(at)
      if (b.handle === undefined) return true
      // Fast path: the behaviour's synchronous core, run here, still inside the window's Effect.
      try {
        this.injectCrash(at)
        b.handle(this.states[at], env, this.ctx)
      } catch (e) {
        this.supervise(at, Cause.die(e))
      }
    }
    return false
  }

  /** Fault injection for tests: the configured actor fails at its n-th delivery. */
  private injectCrash(at: number): void {
    const n = ++this.received[at]!
    if (at === this.world.config.crashActor && n === this.world.config.crashAtMessage) {
      throw new ActorFailure({ actor: at, reason: `injected crash at message ${n}` })
    }
  }

  private deliverStaged(): Effect.Effect<void, ActorFailure> {
    const at = this.current
    try {
      this.injectCrash(at)
    } catch (e) {
      return Effect.fail(e as ActorFailure)
    }
    return this.behaviourOf(at).receive(this.states[at], this.env, this.ctx)
  }

  private supervise(actor: number, cause: Cause.Cause<unknown>): void {
    const b = this.behaviourOf(actor)
    const err = Cause.squash(cause) as { reason?: string; message?: string }
    // Not the actor's failure but a broken promise the window bounds relied on: stop the run.
    if (err instanceof SilentTagSent) throw err
    const reason = err?.reason ?? err?.message ?? String(err)
    const action = b.supervision
    if (action === "restart") this.states[actor] = b.init(actor)
    else this.stopped[actor] = 1
    this.metrics.supervisionCount++
    if (this.metrics.supervision.length < 100) this.metrics.supervision.push({ actor, time: this.ctx.now, action, reason })
  }

  /** Messages (not timers) still queued: in flight when the run ends. */
  inFlight(): number {
    let n = 0
    for (const s of this.queue.slots()) if (this.queue.pool.getI(s, I.hops) !== -1) n++
    return n
  }

  report(loop: { wallSeconds: number; syncSeconds: number; workSeconds: number }): ShardReport {
    const m = this.metrics
    const owned: Array<number> = []
    let storedChunks = 0
    let evictions = 0
    const occupancy: Array<readonly [number, number]> = []
    for (let a = 0; a < this.world.actorCount; a++) {
      if (this.owner[a] !== this.index) continue
      owned.push(a, this.hashes[2 * a]!, this.hashes[2 * a + 1]!)
      if (a < this.world.satellites) {
        const st = this.states[a] as SatelliteState
        storedChunks += st.store.size
        evictions += st.store.evictions
        if (st.store.usedBytes > 0) occupancy.push([a, st.store.usedBytes])
      }
    }
    return {
      shard: this.index, sent: m.sent, delivered: m.delivered, forwarded: m.forwarded, timersSet: m.timersSet, timersFired: m.timersFired,
      deliveredByTag: tagCounts(m.deliveredByTag), dropped: dropCounts(m.dropped), inFlight: this.inFlight(),
      getHits: m.getHits, getMisses: m.getMisses, windows: m.windows,
      wallSeconds: loop.wallSeconds, syncSeconds: loop.syncSeconds, workSeconds: loop.workSeconds,
      retrievalHistogram: encodeHistogram(m.retrieval), putHistogram: encodeHistogram(m.put),
      supervision: m.supervision, supervisionCount: m.supervisionCount, invalidFields: m.invalidFields,
      counters: Object.fromEntries(m.counters),
      actorHashes: Uint32Array.from(owned), storedChunks, evictions, occupancy,
      series: Object.fromEntries([...m.series].map(([name, b]) => [name, Object.fromEntries(b)])),
      peakMailbox: this.service?.peak ?? 0, peakQueueRecords: this.queue.pool.capacity
    }
  }
}
