/**
 * An actor is a behaviour (state + message -> new state and effects) with a supervision policy. It never
 * reads the wall clock or shared state: time, sending and metrics come through the ActorContext the
 * engine passes in, which is what makes a run a pure function of its config and seed.
 *
 * The engine passes the same Envelope and ActorContext objects to every delivery (their fields change),
 * so a delivery allocates nothing; a behaviour copies what it keeps. A world may add its own services to
 * the context (`ShardWorld.extendContext`): a behaviour's context type is `ActorContext & X`.
 */
import { Data, type Effect } from "effect"

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

/**
 * A delivered message as the engine carries it: the record's slots, whose meaning a world's protocol
 * module gives (behaviours read them through that module's typed views). Reused between deliveries.
 */
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

export interface ActorContext {
  readonly now: number
  readonly self: number
  /** Send through the world's network: routed and delayed by it. Slots as the world's protocol lays them out. */
  send(dst: number, tag: number, bytes: number, p0?: number, p1?: number, p2?: number, aux?: number): void
  /** A timer: deliver `tag` to self after `delaySeconds` of virtual time, slots as for send. */
  after(delaySeconds: number, tag: number, p0?: number, p1?: number, p2?: number, aux?: number): void
  /** Record a latency (seconds) in one of the world's named run histograms (World.histograms). */
  record(histogram: string, seconds: number): void
  /** Uniform random number in [0, 1) from this actor's own seeded stream. */
  random(): number
  /** Add to a named run counter (summed over shards in the run's report). */
  count(counter: string, n?: number): void
  /** Add to a named counter over virtual time (10-s buckets in the run's report): for plots over time. */
  countOverTime(series: string, n: number): void
  /**
   * Run an Effect program as a fiber of this actor, in virtual time (runtime/fibers.ts): Effect.sleep,
   * timeouts, retries with a Schedule and races all happen in this actor's events. It ends with the
   * actor's state (restart, crash); a failure is supervised like a failing handler.
   */
  run(program: Effect.Effect<void>): void
}

export type SupervisionPolicy = "restart" | "stop"

/** What an actor's state holds, for the run's report (stores: items, bytes, evictions). */
export interface Footprint {
  readonly items: number
  readonly bytes: number
  readonly evictions: number
}

export interface Behaviour<S, C extends ActorContext = ActorContext> {
  readonly kind: string
  readonly supervision: SupervisionPolicy
  /** Fresh state (at start, and after a restart). */
  init(self: number): S
  /** Timers to set at the start of the run. */
  start?(self: number, state: S, ctx: C): void
  /** Handle one delivery (a message or a timer). A throw is a failure, supervised by the policy. */
  handle(state: S, msg: Envelope, ctx: C): void
  /**
   * Tags whose delivery only changes this actor's state: no send, no timer. Declare the frequent ones
   * (beacons, acknowledgements that are only counted): the engine's window bound (earliest output time,
   * see ShardEngine.earliestOutput) then ignores them, so shards synchronise less often. A declared tag
   * whose handling sends stops the run with SilentTagSent.
   */
  readonly silentTags?: ReadonlyArray<number>
  /** What the state holds, for the report; none = nothing worth reporting. */
  footprint?(state: S): Footprint
}
