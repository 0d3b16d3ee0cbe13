/**
 * One shard of a run: the actors of a range of ids its World gives it, their event queue, and its replica
 * of the world's network. Transport-agnostic: it takes inbound records from mailboxes, runs a window
 * [T, end) of virtual time, and leaves outbound records in mailboxes; whoever drives it (a piscina
 * worker, a test running all shards in one thread, a live host) decides how windows are agreed. It knows
 * actors, records and time, not what the actors or messages mean: that is the world's (runtime/world.ts).
 */
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64"
import type { RandomGenerator } from "pure-rand/types/RandomGenerator"
import { ActorFailure, type ActorContext, type Behaviour, type Envelope, SilentTagSent } from "./behaviour.js"
import { EventQueue } from "./event-queue.js"
import { FiberRuntime } from "./fibers.js"
import { Faults } from "./faults.js"
import type { Mailboxes } from "./mailbox.js"
import type { SideChannel } from "./side-channel.js"
import { DropReasons, encodeHistogram, SERIES_BUCKET_SECONDS, ShardMetrics, type ShardReport, dropCounts, tagCounts } from "./metrics.js"
import { checkRecord, F as RecordF, I as RecordI, RecordBlock } from "./record.js"
import { streamRng } from "./random.js"
import { SilentTags } from "./silent-tags.js"
import { foldDelivery } from "./trace-hash.js"
import { Admit, type Admission, type HostContext, type Network, type ShardWorld, type World } from "./world.js"

// Local copies of the record's field tables: the transpiled modules read an imported binding through
// a getter on every access, which showed at ~5% of a replay's CPU profile on this hot path.
const F = RecordF
const I = RecordI

/** One hop of a message, as the network decided it (for tests and traces). */
export interface HopRecord {
  readonly origin: number
  readonly originSeq: number
  readonly from: number
  readonly to: number
  /** The network's link id, or -1 for a hop it does not number. */
  readonly link: number
  /** When the hop was taken (the event at `from`); it departs after any queueing on its channel. */
  readonly time: number
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
  /** A message delivered; `env` is the engine's envelope of it (valid during the call only). */
  readonly onDelivery?: (d: DeliveryRecord, env: Envelope) => void
}

/** The tag of the engine's own timers that resume a sleeping fiber (p0: the wake id); never a message. */
const FIBER_WAKE = 0

export class ShardEngine<N extends Network = Network> {
  readonly queue = new EventQueue(256)
  readonly network: N
  readonly metrics: ShardMetrics
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
  private readonly behaviours: ReadonlyArray<Behaviour<unknown, ActorContext> | undefined>
  private readonly kinds: Uint8Array
  private readonly admission: Admission | undefined
  private readonly drops: DropReasons
  private readonly maxTag: number
  private readonly observers: EngineObservers
  private readonly scratch = new RecordBlock(1)
  private readonly env: Envelope = { time: 0, sentAt: 0, origin: 0, originSeq: 0, dst: 0, tag: 0, bytes: 0, hops: 0, p0: 0, p1: 0, p2: 0, aux: 0 }
  private readonly ctx: ActorContext & { now: number; self: number }
  private parity = 0
  private readonly side: SideChannel | undefined
  private readonly silent: SilentTags
  /** The delivery being handled is of a silent tag: a send or timer now is a SilentTagSent defect. */
  private silentNow = false

  constructor(
    readonly world: World<N>,
    readonly index: number,
    readonly owner: Int32Array,
    readonly mailboxes: Mailboxes,
    private readonly part: ShardWorld<N>,
    o: { readonly observers?: EngineObservers; readonly side?: SideChannel } = {}
  ) {
    this.observers = o.observers ?? {}
    this.side = o.side
    this.network = part.network
    this.behaviours = part.behaviours as ReadonlyArray<Behaviour<unknown, ActorContext> | undefined>
    this.admission = part.admission
    this.kinds = world.kinds
    this.drops = new DropReasons(world)
    this.maxTag = world.tagNames.length - 1
    this.metrics = new ShardMetrics(world.tagNames.length, this.drops.names.length, world.histograms)
    const n = world.actorCount
    this.hashes = new Uint32Array(2 * n)
    this.seq = new Int32Array(n)
    this.states = new Array(n)
    this.stopped = new Uint8Array(n)
    this.received = new Float64Array(n)
    this.rngs = new Array(n)
    this.silent = new SilentTags(world.kinds, world.tagNames.length, world.kindNames.map((_, kind) => this.behaviours[kind]), this.admission)
    const self = this
    const histograms = this.metrics.histograms
    const ctx: ActorContext & { now: number; self: number } = {
      now: 0,
      self: 0,
      send: (dst, tag, bytes, p0 = 0, p1 = 0, p2 = 0, aux = 0) => {
        if (self.silentNow) self.silentViolation(tag)
        self.send(ctx.self, ctx.now, dst, tag, bytes, p0, p1, p2, aux)
      },
      after: (delay, tag, p0 = 0, p1 = 0, p2 = 0, aux = 0) => {
        if (self.silentNow) self.silentViolation(tag)
        self.timer(ctx.self, ctx.now + delay, tag, p0, p1, p2, aux)
      },
      record: (name, seconds) => {
        const h = histograms.get(name)
        if (h === undefined) throw new RangeError(`no histogram "${name}" in this world (it has: ${[...histograms.keys()].join(", ")})`)
        h.recordValue(Math.max(1, Math.round(seconds * 1e6)))
      },
      random: () => uniformFloat64(self.rngOf(ctx.self)),
      count: (name, n = 1) => self.metrics.counters.set(name, (self.metrics.counters.get(name) ?? 0) + n),
      countOverTime: (name, n) => {
        let s = self.metrics.series.get(name)
        if (s === undefined) self.metrics.series.set(name, (s = new Map()))
        const bucket = Math.floor(ctx.now / SERIES_BUCKET_SECONDS) * SERIES_BUCKET_SECONDS
        s.set(bucket, (s.get(bucket) ?? 0) + n)
      },
      run: (program) => {
        self.fibers ??= new FiberRuntime({
          now: () => ctx.now,
          self: () => ctx.self,
          timer: (actor, time, id) => self.timer(actor, time, FIBER_WAKE, id, 0, 0, 0),
          failed: (actor, cause) => self.supervise(actor, cause)
        })
        self.fibers.fork(program)
      }
    }
    this.ctx = Object.assign(ctx, part.extendContext?.(ctx))
  }

  /** Whether delivering `tag` to `actor` cannot send (its behaviour declared it silent). */
  private isSilent(actor: number, tag: number): boolean {
    return this.silent.has(actor, tag)
  }

  /** Queued record `slot` is a delivery (not a relay, not a timer) of a silent tag: it cannot send. */
  private readonly silentDelivery = (slot: number): boolean => {
    const p = this.queue.pool
    const at = p.getI(slot, I.at)
    return at === p.getI(slot, I.dst) && p.getI(slot, I.hops) !== -1 && this.isSilent(at, p.getI(slot, I.tag))
  }

  private silentViolation(sent: number): never {
    const actor = this.ctx.self
    throw new SilentTagSent({ actor, kind: this.world.kindNames[this.kinds[actor]!]!, tag: this.env.tag, sent })
  }

  private behaviourOf(actor: number): Behaviour<unknown, ActorContext> {
    return this.behaviours[this.kinds[actor]!]!
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
    this.network.enterEpochOf(0)
    for (let a = 0; a < this.world.actorCount; a++) {
      if (this.owner[a] !== this.index) continue
      const b = this.behaviourOf(a)
      if (b === undefined) throw new RangeError(`actor ${a}: no behaviour for kind "${this.world.kindNames[this.kinds[a]!]}" in this run`)
      this.states[a] = b.init(a)
      this.ctx.self = a
      this.ctx.now = 0
      b.start?.(a, this.states[a], this.ctx)
    }
  }

  /** Fault injection by a host (see Faults); off unless set, one branch per message when off. */
  private faults?: Faults
  /** Actors' Effect programs (ActorContext.run); made on first use. */
  private fibers?: FiberRuntime

  injectFaults(o: { lossRate: number; seed: number }): void {
    this.faults = new Faults(o.lossRate, o.seed, this.world.actorCount)
  }

  /**
   * An actor crashes at `now`: its state is lost (fresh from init); it takes nothing for `downSeconds`.
   * Every shard of a run is told (what is up is everyone's view); the owner resets the state.
   */
  crashActor(actor: number, now: number, downSeconds: number): void {
    if (!this.faults) throw new Error("crashActor: call injectFaults first")
    this.faults.down(actor, now + downSeconds)
    if (this.owner[actor] !== this.index) return
    this.fibers?.interrupt(actor)
    this.states[actor] = this.behaviourOf(actor).init(actor)
    this.metrics.supervisionCount++
  }

  /** The parity of the window being run: where this shard's cross-shard output goes (records and side frames). */
  get outParity(): number {
    return this.parity
  }

  /** A live host's request to this shard's world (ShardWorld.serve), at virtual time `now`, between windows. */
  serve(request: unknown, now: number, signal: () => void): unknown {
    if (!this.part.serve) throw new Error("this world's shards take no host requests (ShardWorld.serve)")
    const host: HostContext = {
      now,
      wake: (actor, tag, p0 = 0, p1 = 0, p2 = 0, aux = 0) => this.wake(actor, now, tag, p0, p1, p2, aux),
      signal
    }
    return this.part.serve(request, host)
  }

  /** Wake an owned actor at virtual time `time` (>= now) with a timer: how a host hands an actor work. */
  wake(actor: number, time: number, tag: number, p0 = 0, p1 = 0, p2 = 0, aux = 0): void {
    if (this.owner[actor] !== this.index) throw new RangeError(`actor ${actor} is not on shard ${this.index}`)
    this.timer(actor, time, tag, p0, p1, p2, aux)
  }

  /** An owned actor's state (for tests and memory accounting). */
  stateOf(actor: number): unknown {
    return this.states[actor]
  }

  private nextSeq(actor: number): number {
    const s = this.seq[actor]!
    this.seq[actor] = s + 1
    return s
  }

  private timer(self: number, time: number, tag: number, p0: number, p1: number, p2: number, aux: number): void {
    const q = this.queue
    const r = q.alloc()
    const p = q.pool
    p.setF(r, F.time, time)
    p.setF(r, F.sentAt, this.ctx.now)
    p.setF(r, F.p0, p0)
    p.setF(r, F.p1, p1)
    p.setF(r, F.p2, p2)
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
    if (this.faults?.lost(self)) return this.drop(this.drops.lost)
    if (this.hop(s, 0, now, seq)) {
      const slot = this.queue.alloc()
      this.queue.pool.copyFrom(s, 0, slot)
      this.queue.push(slot)
    }
  }

  private readonly receiveFrame = (frame: Uint8Array): void => {
    if (!this.part.receive) throw new Error("a side frame reached a shard whose world reads none (ShardWorld.receive)")
    this.part.receive(frame)
  }

  private drop(reason: number): void {
    this.metrics.dropped[reason]!++
  }

  /**
   * One hop of the record at `r` of `b`, decided by the network and written into the record. True: the
   * next actor is this shard's, and the caller queues the record; false: it was placed in the owner
   * shard's mailbox, or dropped.
   */
  private hop(b: RecordBlock, r: number, now: number, seq: number): boolean {
    if (b.getI(r, I.hops) >= this.world.config.maxHops) {
      this.drop(this.drops.ttl)
      return false
    }
    const net = this.network
    const at = b.getI(r, I.at)
    const next = net.hop(b, r, now)
    if (next < 0) {
      this.drop(-1 - next)
      return false
    }
    const arrival = net.arrival
    if (this.observers.onHop && next !== at) {
      this.observers.onHop({ origin: b.getI(r, I.origin), originSeq: b.getI(r, I.originSeq), from: at, to: next, link: net.link, time: now, depart: net.depart, arrival, bytes: b.getI(r, I.bytes) })
    }
    b.setF(r, F.time, arrival)
    b.setI(r, I.src, at)
    b.setI(r, I.seq, seq)
    b.setI(r, I.at, next)
    b.setI(r, I.hops, b.getI(r, I.hops) + (next === at ? 0 : 1))
    const owner = this.owner[next]!
    if (owner === this.index) return true
    const [mb, k] = this.mailboxes.reserve(this.index, owner, this.parity)
    mb.copyFrom(b, r, k)
    if (arrival < this.minSent) this.minSent = arrival
    // A silent delivery there cannot send on: it bounds nothing.
    const out = next === b.getI(r, I.dst) && this.isSilent(next, b.getI(r, I.tag)) ? Number.POSITIVE_INFINITY : arrival + net.toCut[next]!
    if (out < this.minSentOutput) this.minSentOutput = out
    return false
  }

  /**
   * Move records other shards left for this one (window parity p) into the queue, checking each. With
   * deliverLate (an unsynchronised run) a record whose time has passed is moved to notBefore and counted.
   */
  ingest(p: number, notBefore: number, deliverLate = false): void {
    for (let from = 0; from < this.mailboxes.shards; from++) {
      if (from === this.index) continue
      // Bytes first: a record ingested below may need them on delivery.
      if (this.side) this.side.drain(from, this.index, p, this.receiveFrame)
      const [mb, n] = this.mailboxes.pending(from, this.index, p)
      for (let k = 0; k < n; k++) {
        if (deliverLate && mb.getF(k, F.time) < notBefore) {
          mb.setF(k, F.time, notBefore)
          this.metrics.lateArrivals++
        }
        const bad = checkRecord(mb, k, this.world.actorCount, this.maxTag, notBefore, this.world.config.maxHops)
        if (bad !== undefined || this.owner[mb.getI(k, I.at)] !== this.index) {
          const field = bad ?? "at"
          this.metrics.invalidFields[field] = (this.metrics.invalidFields[field] ?? 0) + 1
          this.drop(this.drops.invalid)
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
   * Run every event before `end`; cross-shard output goes to mailboxes of parity `outParity`. A failure
   * in a behaviour is supervised (restart or stop, its policy) and the window goes on.
   */
  runWindow(end: number, outParity: number): void {
    this.parity = outParity
    this.minSent = Number.POSITIVE_INFINITY
    this.minSentOutput = Number.POSITIVE_INFINITY
    this.metrics.windows++
    const q = this.queue
    const p = q.pool
    const env = this.env
    const m = this.metrics
    const admission = this.admission
    while (q.size > 0 && q.peekTime() < end) {
      const slot = q.peekSlot()
      const at = p.getI(slot, I.at)
      const time = p.getF(slot, F.time)
      if (at !== p.getI(slot, I.dst)) {
        // A relay: the actor at `at` hands it on.
        // The record stays at the top of the queue: rewritten in place and re-sifted if its next hop is
        // this shard's, removed otherwise.
        m.forwarded++
        if (this.hop(p, slot, time, this.nextSeq(at))) q.replaceTop()
        else q.release(q.pop())
        continue
      }
      q.pop()
      const timer = p.getI(slot, I.hops) === -1
      if (timer && this.faults !== undefined && !this.stopped[at] && this.faults.isDown(at, time)) {
        // A down actor does nothing, its timers included: each waits until it is up, so its periodic
        // work (a satellite's beacons) resumes then and nothing is sent meanwhile.
        p.setF(slot, F.time, this.faults.upAt(at))
        q.push(slot)
        continue
      }
      if (this.stopped[at] || (!timer && this.faults !== undefined && this.faults.isDown(at, time))) {
        if (!timer) this.drop(this.drops.actorStopped)
        q.release(slot)
        continue
      }
      if (admission !== undefined && !timer) {
        const a = admission.arrive(p, slot, at, time)
        if (a === Admit.wait) {
          q.push(slot)
          continue
        }
        if (a === Admit.refuse) {
          // Backpressure: dropped with its reason, and the sender told (never a silent loss).
          this.drop(this.drops.refused)
          admission.refusal(p, slot, { send: (dst, tag, bytes, p0 = 0, p1 = 0, p2 = 0, aux = 0) => this.send(at, time, dst, tag, bytes, p0, p1, p2, aux) })
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
        this.observers.onDelivery?.({ origin: env.origin, originSeq: env.originSeq, dst: at, tag: env.tag, sentAt: env.sentAt, time, hops: env.hops }, env)
        m.delivered++
        m.deliveredByTag[env.tag]!++
      }
      foldDelivery(this.hashes, at, time, env.origin, env.originSeq, env.tag, env.bytes)
      this.ctx.self = at
      this.ctx.now = time
      if (timer && env.tag === FIBER_WAKE) {
        this.silentNow = false
        this.fibers!.wake(env.p0)
        continue
      }
      this.silentNow = !timer && this.isSilent(at, env.tag)
      try {
        this.injectCrash(at)
        this.behaviourOf(at).handle(this.states[at], env, this.ctx)
      } catch (e) {
        this.supervise(at, e)
      }
      // Fiber steps the delivery queued (a reply completing what a program awaits), in the same event.
      if (this.fibers?.pending) this.fibers.flush()
    }
    this.silentNow = false
  }

  /**
   * The earliest virtual time at which anything this shard holds (its queue, and what it sent other
   * shards in the window just run) could reach an actor of another shard this epoch: min over events of
   * time + network.toCut[actor], deliveries of silent tags left out (they cannot send). No shard can
   * receive anything before the least of these over shards.
   */
  earliestOutput(): number {
    return Math.min(this.queue.minTimePlus(this.network.toCut, this.silentDelivery), this.minSentOutput)
  }

  /** Fault injection for tests: the configured actor fails at its n-th delivery. */
  private injectCrash(at: number): void {
    const n = ++this.received[at]!
    if (at === this.world.config.crashActor && n === this.world.config.crashAtMessage) {
      throw new ActorFailure({ actor: at, reason: `injected crash at message ${n}` })
    }
  }

  private supervise(actor: number, err: unknown): void {
    // Not the actor's failure but a broken promise the window bounds relied on: stop the run.
    if (err instanceof SilentTagSent) throw err
    const b = this.behaviourOf(actor)
    const e = err as { reason?: string; message?: string } | undefined
    const reason = e?.reason ?? e?.message ?? String(err)
    const action = b.supervision
    this.fibers?.interrupt(actor)
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
    let storedItems = 0
    let evictions = 0
    const occupancy: Array<readonly [number, number]> = []
    for (let a = 0; a < this.world.actorCount; a++) {
      if (this.owner[a] !== this.index) continue
      owned.push(a, this.hashes[2 * a]!, this.hashes[2 * a + 1]!)
      const f = this.behaviourOf(a).footprint?.(this.states[a])
      if (f === undefined) continue
      storedItems += f.items
      evictions += f.evictions
      if (f.bytes > 0) occupancy.push([a, f.bytes])
    }
    return {
      shard: this.index, sent: m.sent, delivered: m.delivered, forwarded: m.forwarded, timersSet: m.timersSet, timersFired: m.timersFired,
      deliveredByTag: tagCounts(m.deliveredByTag, this.world.tagNames), dropped: dropCounts(m.dropped, this.drops.names), inFlight: this.inFlight(),
      windows: m.windows,
      wallSeconds: loop.wallSeconds, syncSeconds: loop.syncSeconds, workSeconds: loop.workSeconds,
      histograms: Object.fromEntries([...m.histograms].map(([name, h]) => [name, encodeHistogram(h)])),
      supervision: m.supervision, supervisionCount: m.supervisionCount, invalidFields: m.invalidFields, lateArrivals: m.lateArrivals,
      counters: Object.fromEntries(m.counters),
      actorHashes: Uint32Array.from(owned), storedItems, evictions, occupancy,
      series: Object.fromEntries([...m.series].map(([name, b]) => [name, Object.fromEntries(b)])),
      peakMailbox: this.admission?.peak ?? 0, peakQueueRecords: this.queue.pool.capacity
    }
  }
}
