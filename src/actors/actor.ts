import { Data, Effect } from "effect"

/**
 * An actor is a behaviour (state + message -> Effect) with a supervision policy. It never reads the wall
 * clock or shared state: time, sending and metrics come through the ActorContext the engine passes in,
 * which is what makes a run a pure function of its config and seed.
 *
 * Use `Effect.sync` (or `Effect.fail` with an ActorFailure) to build receive's result: the engine runs a
 * whole window of deliveries inside one Effect, so a cheap effect per message keeps millions a second.
 * The engine passes the same Envelope and ActorContext objects to every delivery (their fields change),
 * so a behaviour may build its Effect once per actor and return it every time (see `cachedStep`).
 */
export class ActorFailure extends Data.TaggedError("ActorFailure")<{ readonly actor: number; readonly reason: string }> {}

/**
 * A behaviour sent a message or set a timer while handling a tag it declared silent (Behaviour.silentTags).
 * A defect in the behaviour, not a supervised failure: the engine's window bounds trusted the declaration,
 * so the run stops instead of risking an event delivered out of order.
 */
export class SilentTagSent extends Data.TaggedError("SilentTagSent")<{ readonly actor: number; readonly kind: string; readonly tag: number; readonly sent: number }> {
  override get message(): string {
    return `actor ${this.actor} (${this.kind}) declared tag ${this.tag} silent but sent tag ${this.sent} (or set a timer) while handling it`
  }
}

/** A delivered message, as the receiving actor sees it. Reused between deliveries: copy what you keep. */
export interface Envelope {
  time: number
  sentAt: number
  /** The actor that sent the message (not the last hop). */
  origin: number
  originSeq: number
  dst: number
  tag: number
  bytes: number
  hops: number
  p0: number
  p1: number
  p2: number
  aux: number
}

export type Histogram = "retrieval" | "put"

export interface ActorContext {
  readonly now: number
  readonly self: number
  /** Send through the topology actor: routed over the links that are up, delayed by physics and queues. */
  send(dst: number, tag: number, bytes: number, p0?: number, p1?: number, p2?: number, aux?: number): void
  /** A timer: deliver `tag` to self after `delaySeconds` of virtual time. */
  after(delaySeconds: number, tag: number, aux?: number): void
  /** ISL neighbour of this satellite in +Grid slot 0..3 (prev slot, next slot, prev plane, next plane), -1 if none. */
  neighbour(slot: number): number
  /** Record a latency (seconds) in a run histogram. */
  record(histogram: Histogram, seconds: number): void
  /** Uniform random number in [0, 1) from this actor's own seeded stream. */
  random(): number
  /** Add to a named run counter (summed over shards in the run's report). */
  count(counter: string, n?: number): void
  /** Add to a named counter over virtual time (10-s buckets in the run's report): for plots over time. */
  countOverTime(series: string, n: number): void
  /** Serving satellite of ground user `user` (0-based) now, -1 if none is above the mask. */
  servingOf(user: number): number
  /** The run's placement: the satellites of S servers around `centre` (distinct). */
  placement(centre: number, servers: number): ReadonlyArray<number>
  /**
   * Whether satellite `sat` is up, as the operator's health view has it (a crashed satellite stops
   * beaconing; its neighbours notice within a beacon interval, modelled here as at once).
   */
  satelliteUp(sat: number): boolean
}

export type SupervisionPolicy = "restart" | "stop"

export interface Behaviour<S> {
  readonly kind: string
  readonly supervision: SupervisionPolicy
  /** Fresh state (at start, and after a restart). */
  init(self: number): S
  /** Timers to set at the start of the run (delay seconds, tag, aux). */
  start?(self: number, state: S, ctx: ActorContext): void
  receive(state: S, msg: Envelope, ctx: ActorContext): Effect.Effect<void, ActorFailure>
  /**
   * The synchronous core of `receive`, for behaviours whose receive is exactly
   * `Effect.sync(() => handle(state, msg, ctx))`. The engine then calls it directly inside the window's
   * Effect instead of stepping the fiber once per delivery (measured: about 0.5 us saved per delivery,
   * a third of the engine's cost per message). A throw is the same failure as a failing receive.
   */
  handle?(state: S, msg: Envelope, ctx: ActorContext): void
  /**
   * Tags whose delivery only changes this actor's state: no send, no timer. Declare the frequent ones
   * (beacons, acknowledgements that are only counted): the engine's window bound (earliest output time,
   * see ShardEngine.earliestOutput) then ignores them, so shards synchronise less often. A declared tag
   * whose handling sends stops the run with SilentTagSent.
   */
  readonly silentTags?: ReadonlyArray<number>
}

/**
 * An actor's step effect, built once per state object: `Effect.sync(() => handle(state, msg, ctx))` over
 * the engine's reused envelope and context, so a delivery allocates nothing.
 */
export const cachedStep = <S extends object>(
  handle: (state: S, msg: Envelope, ctx: ActorContext) => void
): ((state: S, msg: Envelope, ctx: ActorContext) => Effect.Effect<void>) => {
  const steps = new WeakMap<S, { effect: Effect.Effect<void>; msg: Envelope; ctx: ActorContext }>()
  return (state, msg, ctx) => {
    let s = steps.get(state)
    if (s === undefined || s.msg !== msg || s.ctx !== ctx) {
      s = { effect: Effect.sync(() => handle(state, msg, ctx)), msg, ctx }
      steps.set(state, s)
    }
    return s.effect
  }
}
