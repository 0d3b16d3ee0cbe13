/**
 * SkyMemory's message protocol, declared once (runtime/protocol.ts): each message's tag code and its
 * named fields in the record's payload slots. Behaviours send, time and match messages through `Sky`
 * (`Sky.BlockGet.send(ctx, sat, CONTROL_BYTES, { key, requestId, ask })`, `match(specs, { BlockReply:
 * (state, m, ctx) => m.hit ... })`); the slots appear only here. The Effect Schema of each message (its
 * structured form: decodeMessage, fromEnvelope) comes from the same declaration.
 *
 * Field meanings:
 * - key: a block key (cache/keys.ts); requestId: the asker's request number, echoed in the answer;
 * - requestSentAt: when the request was sent (echoed, so the asker can time the round trip);
 * - block: a block's index in its request; ask: the asker's index of one share ask (share-fetch.ts);
 * - share: a share's index in its block (0 .. S-1); locator: who wrote a block (a ground actor), or for
 *   anchored placements the satellite it was placed around, -1 if unknown;
 * - near: the asker's serving satellite (-1: none), so that a directory holding copies of a block
 *   (`replica`: a reader placed one near itself) answers with the copy nearest the asker;
 * - Tick: `timer` is the behaviour's own kind of timer, `id` what it refers to (a request, a lookup);
 * - written, load: a satellite's write load, the bytes its store has taken since the run began.
 */
import type { Envelope } from "../runtime/behaviour.js"
import { F, I, type RecordBlock } from "../runtime/record.js"
import { decoderOf, defineProtocol, envelopeReaderOf, field, type MessageOf, tagNamesOf } from "../runtime/protocol.js"

const { number, int, flag } = field

export const skySpecs = {
  /** A timer an actor set for itself. */
  Tick: { code: 1, fields: { timer: int("aux"), id: number("p0") } },
  /**
   * A satellite's periodic hello to one ISL neighbour (`link`: the sender's +Grid slot toward it); link-local.
   * It carries the sender's write load (`written`: bytes its store has taken) and the larger of its two
   * in-plane neighbours' as last heard (`slotNeighboursWritten`), so a satellite knows the load of its
   * rotation box (LoadGet).
   */
  Beacon: { code: 2, fields: { link: int("aux", { min: 0, max: 3 }), written: number("p0"), slotNeighboursWritten: number("p1") } },
  /** Standard workload: a ground user's get and put of one value at its key's home satellite. */
  CacheGet: { code: 3, fields: { key: number("p0"), requestId: number("p1") } },
  CacheGetReply: { code: 4, fields: { key: number("p0"), requestId: number("p1"), requestSentAt: number("p2"), hit: flag("aux") } },
  CachePut: { code: 5, fields: { key: number("p0"), requestId: number("p1") } },
  CachePutAck: { code: 6, fields: { key: number("p0"), requestId: number("p1"), requestSentAt: number("p2"), stored: flag("aux") } },
  /** Ask a block key's directory satellite who wrote it (the answer's locator: -1 if nobody). */
  DirGet: { code: 7, fields: { key: number("p0"), requestId: number("p1"), near: number("p2"), block: int("aux") } },
  DirReply: { code: 8, fields: { key: number("p0"), requestId: number("p1"), locator: number("p2"), block: int("aux") } },
  /** Record who wrote a block; `replica`: add a copy's anchor beside the block's own instead of replacing it. */
  DirPut: { code: 9, fields: { key: number("p0"), replica: flag("p1"), locator: int("aux") } },
  /** One server's share of a block. */
  BlockGet: { code: 10, fields: { key: number("p0"), requestId: number("p1"), ask: int("aux") } },
  BlockReply: { code: 11, fields: { key: number("p0"), requestId: number("p1"), hit: flag("p2"), ask: int("aux") } },
  /** `acked`: the writer wants a BlockPutAck (it retransmits unacknowledged shares). */
  BlockPut: { code: 12, fields: { key: number("p0"), acked: flag("p1"), share: int("aux") } },
  /**
   * Tell a server to hand shares to `target` (migration): its manifest's rows are [key, share, keep, 0]
   * (`keep`: copy it, and keep its own). One order per old and new server of a handover (manifests.ts).
   */
  MigrateOrder: { code: 13, fields: { manifest: number("p0"), target: int("p1") } },
  /**
   * Shares moving to their new server as one train: manifest rows [key, share, bytes, sizeOnly]
   * (`sizeOnly`: beside a wire, a share with no bytes). `stepBytes`: its largest share, the step the
   * network pipelines the train in (network/topology-actor.ts).
   */
  MigrateData: { code: 14, fields: { manifest: number("p0"), stepBytes: int("p1") } },
  /** A satellite's mailbox was full: the message of tag `rejected` was refused, not lost (backpressure); `ref` is its own aux field. */
  Busy: { code: 15, fields: { key: number("p0"), requestId: number("p1"), rejected: int("p2", { min: 1, max: 22 }), ref: int("aux") } },
  /** A migration's receiver to its sender: the share arrived intact and is stored, or was refused (corrupted). */
  MigrateAck: { code: 16, fields: { key: number("p0"), accepted: flag("p2"), share: int("aux") } },
  /** An acknowledged BlockPut arrived intact and is stored. */
  BlockPutAck: { code: 17, fields: { key: number("p0"), share: int("aux") } },
  /** A migration order found no share of these blocks here (evicted, or lost with the store): manifest rows [key, share, 0, 0]; its writer stops moving them. */
  ShareGone: { code: 18, fields: { manifest: number("p0") } },
  /** A heartbeat: a writer asks a satellite holding its shares whether it is up (health.ts); answered by Pong. */
  Ping: { code: 19, fields: {} },
  Pong: { code: 20, fields: {} },
  /** Ask a candidate anchor for its box's write load (a writer choosing where to place a block). */
  LoadGet: { code: 21, fields: { requestId: number("p1") } },
  /** The largest write load in the answering satellite's rotation box as it last heard (satellite.ts boxLoad). */
  LoadReply: { code: 22, fields: { requestId: number("p1"), load: number("p0") } }
} as const

export type SkySpecs = typeof skySpecs
export const Sky = defineProtocol(skySpecs)

/** Tag codes by name. */
export const Tag = Object.fromEntries(Object.entries(skySpecs).map(([k, v]) => [k, v.code])) as { readonly [K in keyof SkySpecs]: SkySpecs[K]["code"] }
export const tagNames = tagNamesOf(skySpecs)

/** A structured message: `_tag`, envelope (time, sentAt, from, to, seq, bytes), fields. */
export type Message = MessageOf<SkySpecs>
/** Validate unknown data as a Message; InvalidMessage names the bad field. */
export const decodeMessage = decoderOf(Sky)
/** A delivered envelope as a structured message, validated (the message log: experiments/scale.ts --messages). */
export const fromEnvelope = envelopeReaderOf(Sky, skySpecs)

/** Whether a share reply (BlockReply or CacheGetReply) found what it was asked for; false for any other message. */
export const replyHit = (env: Envelope): boolean =>
  env.tag === skySpecs.BlockReply.code ? env.p2 !== 0 : env.tag === skySpecs.CacheGetReply.code && env.aux !== 0

/** The +Grid slot a beacon in record r of b goes out on (the network sends it over that one link). */
export const beaconLink = (b: RecordBlock, r: number): number => b.getI(r, I.aux)

/** The step of a train in record r of b (MigrateData's stepBytes: the network pipelines the train in it). */
export const trainStepBytes = (b: RecordBlock, r: number): number => b.getF(r, F.p1)

/**
 * The Busy answer to a refused record: its key, request and ref slots echoed, with the refused tag.
 * (The overload model refuses records the engine holds, so it answers from the record itself.)
 */
export const busyFor = (pool: RecordBlock, slot: number): { readonly key: number; readonly requestId: number; readonly rejected: number; readonly ref: number } => ({
  key: pool.getF(slot, F.p0), requestId: pool.getF(slot, F.p1), rejected: pool.getI(slot, I.tag), ref: pool.getI(slot, I.aux)
})
