/**
 * What the engine is given to run: a world. The engine itself knows actors, records, virtual time,
 * shards and windows; a world knows what the actors are, how messages travel between them and what the
 * message slots mean. SkyMemory's world is src/actors/world.ts; test/support/ping-world.ts is one
 * written by hand for the engine's tests.
 *
 * A World is built from a plain config in every thread that runs a shard (a worker imports the world's
 * module and calls its `makeWorldFrom`), so it holds functions, never anything that must cross a thread.
 */
import type { ActorContext, Behaviour } from "./behaviour.js"
import type { RecordBlock } from "./record.js"

/** The part of a run's config the engine reads. A world's config extends it. */
export interface EngineConfig {
  readonly seed: number
  readonly simSeconds: number
  /** 0 = as fast as possible (virtual time); f > 0 = paced so that 1 simulated second takes 1/f wall seconds. */
  readonly realtimeFactor: number
  /** A message that has taken this many hops is dropped (reason ttl). */
  readonly maxHops: number
  /** Records one shard may send another in one window. */
  readonly mailboxCapacity: number
  /** Fault injection for tests: actor id whose handler throws at its n-th message (-1 = none). */
  readonly crashActor: number
  readonly crashAtMessage: number
  /** Fault injection for tests: shard that throws outside any actor at this virtual time (-1 = none). */
  readonly crashShard: number
  readonly crashShardAt: number
  /**
   * A measurement, not a run (in-process and pool hosts): shards run whole epochs without waiting for
   * what others send them, and a record that arrives in a shard's past is delivered at the window's
   * start (ShardReport.lateArrivals). The results are not valid; the wall time bounds what any
   * synchronisation protocol could reach on this partition (docs/performance.md).
   */
  readonly unsynchronised?: boolean
}

/**
 * How messages travel: the world's link model, replicated once per shard. The engine hands it a record
 * sitting at an actor and gets back the next actor and the arrival time there (or a drop); it keeps the
 * per-link queues, epochs (windows never cross one) and the distances that bound windows.
 */
export interface Network {
  /** Move to the epoch containing t (no-op if already there). */
  enterEpochOf(t: number): void
  /** End of the current epoch (virtual s). */
  readonly epochEnd: number
  /** The smallest delay any message can have this epoch between two shards: the fallback window length. */
  readonly lookahead: number
  /**
   * Per actor, this epoch: the least delay before anything it does can reach an actor of another shard.
   * An event at actor a at time t bounds every shard's next window by t + toCut[a].
   */
  readonly toCut: Float64Array
  /** The epoch's work was split between shards: pass a barrier, then adoptShared, before routing. */
  readonly awaitsShared: boolean
  adoptShared(): void
  /**
   * One hop of record `r` of `b` (its actor `I.at`, destination `I.dst`, at virtual time `now`): the next
   * actor (>= 0, the destination itself when it is reached), with `arrival` (and `depart`, `link` for
   * observers) set; or -1 - reason for a drop, reason an index into World.dropReasons.network.
   */
  hop(b: RecordBlock, r: number, now: number): number
  readonly arrival: number
  readonly depart: number
  readonly link: number
}

/** The answer of an admission model to a message reaching its actor. */
export const Admit = { deliver: 0, wait: 1, refuse: 2 } as const

/**
 * Actors that take time to handle messages and have bounded mailboxes (an overload model). `arrive` is
 * asked for every message reaching its destination: deliver it now, let it wait (the record's time is set
 * to when its turn comes; the engine queues it again), or refuse it (dropped with the world's admission
 * reason, and answered through `refusal`).
 */
export interface Admission {
  arrive(pool: RecordBlock, slot: number, at: number, time: number): number
  /** Delivering `tag` to an actor of kind `kind` may be refused, hence answered: it cannot be silent. */
  mayRefuse(kind: number, tag: number): boolean
  /** The answer to a refused record, sent by `from` (the actor that refused it). */
  refusal(pool: RecordBlock, slot: number, from: Pick<ActorContext, "send">): void
  /** Deepest any mailbox got. */
  readonly peak: number
}

/** What a world gives one shard: its replica of the network, its behaviours, and their context. */
export interface ShardWorld<N extends Network = Network> {
  readonly network: N
  /** Per actor kind (World.kindNames order), its behaviour; undefined for kinds this run has none of. */
  readonly behaviours: ReadonlyArray<Behaviour<unknown, any> | undefined>
  readonly admission?: Admission
  /** Services the world adds to every behaviour's context (they may read ctx.self and ctx.now). */
  extendContext?(ctx: ActorContext): object
  /** A frame another shard sent this one through the side channel (ShardSpec.side), before its records. */
  receive?(frame: Uint8Array): void
  /**
   * A live host's request to this shard (jobs in, results out; structured-clonable both ways), between
   * windows: it may wake owned actors and change their state, never send messages.
   */
  serve?(request: unknown, host: HostContext): unknown
}

/** What a live host's request (ShardWorld.serve) is given: the shard's virtual time, and its levers. */
export interface HostContext {
  readonly now: number
  /** Wake an owned actor now with a timer (a protocol's MessageType.wake lays the slots out). */
  wake(actor: number, tag: number, p0?: number, p1?: number, p2?: number, aux?: number): void
  /** Tell the host that what it waits for has happened (LiveHost.advanceUntilSignal); seen after the window. */
  signal(): void
}

/** Bytes to another shard beside the records (runtime/side-channel.ts), in the window being run. */
export interface SideLink {
  send(toShard: number, frame: Uint8Array): void
}

export interface ShardSpec {
  readonly index: number
  readonly shards: number
  /** Owner shard of every actor. */
  readonly owner: Int32Array
  /** World.sharedBytes(shards) bytes every shard of the run sees (for work split between shards). */
  readonly shared: SharedArrayBuffer
  /** Frames to other shards (a world with sideChannelBytes > 0; otherwise sending throws). */
  readonly side: SideLink
}

export interface World<N extends Network = Network> {
  readonly config: EngineConfig
  readonly actorCount: number
  /** Names of the actor kinds; `kinds[actor]` indexes them. */
  readonly kindNames: ReadonlyArray<string>
  readonly kinds: Uint8Array
  /** Message names by tag code (index = tag; undefined = not a tag). */
  readonly tagNames: ReadonlyArray<string | undefined>
  /** The world's own drop reasons: its network's (reported first) and its admission model's (last). */
  readonly dropReasons: { readonly network: ReadonlyArray<string>; readonly admission: ReadonlyArray<string> }
  /** The latency histograms actors record into (ActorContext.record). */
  readonly histograms: ReadonlyArray<string>
  /** Owner shard of every actor, for a run of `shards` shards. */
  ownership(shards: number): Int32Array
  /** Bytes of shared memory the shards of a run split epoch work through (0: none). */
  sharedBytes(shards: number): number
  /** Bytes one shard may send another beside its records in one window (ShardSpec.side); 0 or absent: none. */
  readonly sideChannelBytes?: number
  makeShard(spec: ShardSpec): ShardWorld<N>
}
