/**
 * A behaviour alone, against a fake context: the cheapest test an actor design allows. The fake records
 * what the behaviour sends, the timers it sets and what it counts, as structured messages read back
 * through the protocol table; deliveries are built from named fields the same way. Time, neighbours,
 * serving satellites, placement and health are whatever the test sets.
 */
import { ENTRY } from "../../src/actors/manifests.js"
import { fromEnvelope, type Message, Sky, type SkySpecs } from "../../src/actors/protocol.js"
import type { SkyBehaviour, SkyContext } from "../../src/actors/sky-context.js"
import type { Effect } from "effect"
import type { Envelope } from "../../src/runtime/behaviour.js"
import { FiberRuntime } from "../../src/runtime/fibers.js"
import type { FieldsOf } from "../../src/runtime/protocol.js"

export interface Sent {
  readonly dst: number
  readonly bytes: number
  readonly message: Message
}

/** What a behaviour sent, as the message it is (the envelope it would arrive in, read by the protocol). */
const messageOf = (time: number, self: number, dst: number, tag: number, bytes: number, p0: number, p1: number, p2: number, aux: number): Message =>
  fromEnvelope({ time, sentAt: time, origin: self, originSeq: 0, dst, tag, bytes, hops: 0, p0, p1, p2, aux })

export class FakeContext implements SkyContext {
  now = 0
  self = 0
  readonly sent: Array<Sent> = []
  readonly timers: Array<{ readonly at: number; readonly message: Message }> = []
  readonly counters = new Map<string, number>()
  readonly recorded: Array<readonly [string, number]> = []
  neighbours: ReadonlyArray<number> = [-1, -1, -1, -1]
  serving = new Map<number, number>()
  /** Placement around a centre: by default the centre and the next S - 1 ids. */
  place: (centre: number, servers: number) => ReadonlyArray<number> = (centre, servers) => Array.from({ length: servers }, (_, k) => centre + k)
  private draws = 0
  /** Fibers of ActorContext.run, on this context's clock: `advanceTo` fires their timers in time order. */
  private readonly fiberTimers: Array<{ readonly time: number; readonly id: number }> = []
  readonly failures: Array<unknown> = []
  private readonly fibers = new FiberRuntime({
    now: () => this.now,
    self: () => this.self,
    timer: (_actor, time, id) => void this.fiberTimers.push({ time, id }),
    failed: (_actor, cause) => void this.failures.push(cause)
  })

  run(program: Effect.Effect<void>): void {
    this.fibers.fork(program)
    this.fibers.flush()
  }

  /** Let virtual time pass to `time`, waking the fibers whose sleeps end by then (in time, then set, order). */
  advanceTo(time: number): void {
    for (;;) {
      let next = -1
      for (let k = 0; k < this.fiberTimers.length; k++) if (this.fiberTimers[k]!.time <= time && (next < 0 || this.fiberTimers[k]!.time < this.fiberTimers[next]!.time)) next = k
      if (next < 0) break
      const [t] = this.fiberTimers.splice(next, 1)
      this.now = t!.time
      this.fibers.wake(t!.id)
    }
    this.now = time
  }

  /** After a delivery: run what it resumed (the engine does this after every event). */
  settle(): void {
    this.fibers.flush()
  }

  send(dst: number, tag: number, bytes: number, p0 = 0, p1 = 0, p2 = 0, aux = 0): void {
    this.sent.push({ dst, bytes, message: messageOf(this.now, this.self, dst, tag, bytes, p0, p1, p2, aux) })
  }
  after(delay: number, tag: number, p0 = 0, p1 = 0, p2 = 0, aux = 0): void {
    this.timers.push({ at: this.now + delay, message: messageOf(this.now, this.self, this.self, tag, 0, p0, p1, p2, aux) })
  }
  record(histogram: string, seconds: number): void {
    this.recorded.push([histogram, seconds])
  }
  /** A fixed, evenly spread sequence: enough for behaviours that draw. */
  random(): number {
    return ((this.draws++ * 0.618_033_988_75) % 1 + 1) % 1
  }
  count(counter: string, n = 1): void {
    this.counters.set(counter, (this.counters.get(counter) ?? 0) + n)
  }
  countOverTime(series: string, n: number): void {
    this.count(`${series}@time`, n)
  }
  /** Anchored writes: by default around the serving satellite itself. */
  anchors: (serving: number, key: number) => ReadonlyArray<number> = (serving) => [serving]
  anchorsOf(serving: number, key: number): ReadonlyArray<number> {
    return this.anchors(serving, key)
  }
  neighbour(slot: number): number {
    return this.neighbours[slot] ?? -1
  }
  servingOf(user: number): number {
    return this.serving.get(user) ?? -1
  }
  /** ISL hops between satellites: how far apart their ids are. */
  hops(a: number, b: number): number {
    return Math.abs(a - b)
  }
  placement(centre: number, servers: number): ReadonlyArray<number> {
    return this.place(centre, servers)
  }
  /** Manifests posted and not yet taken, by id (ids count up from 0: a fake has one sender's view). */
  readonly manifests = new Map<number, Float64Array>()
  postManifest(_to: number, rows: Float64Array): number {
    const id = this.posted++
    this.manifests.set(id, rows)
    return id
  }
  private posted = 0
  takeManifest(id: number): Float64Array | undefined {
    const rows = this.manifests.get(id)
    this.manifests.delete(id)
    return rows
  }
  /** The rows of a sent message's manifest, in rows of ENTRY numbers (left in place, for assertions). */
  rowsOf(id: number): Array<Array<number>> {
    const rows = this.manifests.get(id)
    if (rows === undefined) throw new Error(`no manifest ${id}`)
    return Array.from({ length: rows.length / ENTRY }, (_, k) => [...rows.subarray(ENTRY * k, ENTRY * (k + 1))])
  }

  /** Messages sent since the last call, and forget them. */
  take(): Array<Sent> {
    return this.sent.splice(0)
  }
  /** Sent messages of one kind, with their fields. */
  of<K extends keyof SkySpecs>(tag: K): Array<{ readonly dst: number; readonly bytes: number; readonly message: Extract<Message, { _tag: K }> }> {
    return this.sent.filter((s) => s.message._tag === tag) as never
  }
}

/** The envelope of message `tag` with `fields`, from `origin`, delivered at ctx.now: laid out by the message's own typed send. */
export const envelopeOf = <K extends keyof SkySpecs>(
  ctx: FakeContext, tag: K, fields: FieldsOf<SkySpecs[K]>, o: { readonly origin: number; readonly bytes?: number; readonly sentAt?: number; readonly hops?: number }
): Envelope => {
  const env: Envelope = { time: ctx.now, sentAt: o.sentAt ?? ctx.now, origin: o.origin, originSeq: 0, dst: ctx.self, tag: 0, bytes: o.bytes ?? 64, hops: o.hops ?? 1, p0: 0, p1: 0, p2: 0, aux: 0 }
  const capture = { send: (_dst: number, code: number, _bytes: number, p0 = 0, p1 = 0, p2 = 0, aux = 0) => Object.assign(env, { tag: code, p0, p1, p2, aux }) }
  ;(Sky[tag].send as (c: typeof capture, dst: number, bytes: number, f: FieldsOf<SkySpecs[K]>) => void)(capture, ctx.self, env.bytes, fields)
  return env
}

/** Deliver message `tag` to a behaviour's state. */
export const deliver = <S, K extends keyof SkySpecs>(
  b: SkyBehaviour<S>, state: S, ctx: FakeContext, tag: K, fields: FieldsOf<SkySpecs[K]>, o: { readonly origin: number; readonly bytes?: number; readonly sentAt?: number; readonly hops?: number }
): void => {
  b.handle(state, envelopeOf(ctx, tag, fields, o), ctx)
  ctx.settle()
}
