import { Data, Schema } from "effect"
import { F, I, type RecordBlock } from "../runtime/record.js"

/**
 * The messages actors exchange. Each has a tag (its binary code in an 80-byte record), a version, and an
 * Effect Schema that is the contract at every edge where messages arrive as data (a file, a socket, the
 * control plane, tests): `decodeMessage` validates and names the bad field. Records crossing a worker
 * boundary are checked by `checkRecord`, the same contract in a form cheap enough for millions a second.
 */
export const MESSAGE_VERSION = 1

export const Tag = {
  /** A timer an actor set for itself. */
  Tick: 1,
  /** A satellite's periodic hello to one ISL neighbour; link-local, dropped if the link is down. */
  Beacon: 2,
  CacheGet: 3,
  CacheGetReply: 4,
  CachePut: 5,
  CachePutAck: 6,
  /** Replay protocol: ask a block key's directory satellite who wrote it. */
  DirGet: 7,
  DirReply: 8,
  DirPut: 9,
  /** One server's share of a block. */
  BlockGet: 10,
  BlockReply: 11,
  BlockPut: 12,
  /** Tell a server to hand its share of a block to another satellite (migration). */
  MigrateOrder: 13,
  MigrateData: 14,
  /** A satellite's mailbox was full: the message (tag `rejected`) was refused, not lost (backpressure). */
  Busy: 15,
  /** A migration's receiver to its sender: the share arrived intact and is stored, or was refused (corrupted). */
  MigrateAck: 16
} as const
export type TagCode = (typeof Tag)[keyof typeof Tag]
export const tagNames: Record<number, string> = Object.fromEntries(Object.entries(Tag).map(([k, v]) => [v, k]))
export const MAX_TAG = Math.max(...Object.values(Tag))

const Time = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
const ActorId = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Bytes = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Key = Schema.Finite

const envelope = {
  v: Schema.Literal(MESSAGE_VERSION),
  time: Time,
  sentAt: Time,
  from: ActorId,
  to: ActorId,
  seq: Schema.Int,
  bytes: Bytes
}

export const TickMessage = Schema.TaggedStruct("Tick", { ...envelope, timer: Schema.Int })
export const BeaconMessage = Schema.TaggedStruct("Beacon", { ...envelope, link: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 3 })) })
export const CacheGetMessage = Schema.TaggedStruct("CacheGet", { ...envelope, key: Key, requestId: Schema.Finite })
export const CacheGetReplyMessage = Schema.TaggedStruct("CacheGetReply", { ...envelope, key: Key, requestId: Schema.Finite, hit: Schema.Boolean, requestSentAt: Time })
export const CachePutMessage = Schema.TaggedStruct("CachePut", { ...envelope, key: Key, requestId: Schema.Finite })
export const CachePutAckMessage = Schema.TaggedStruct("CachePutAck", { ...envelope, key: Key, requestId: Schema.Finite, stored: Schema.Boolean, requestSentAt: Time })

const Share = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
export const DirGetMessage = Schema.TaggedStruct("DirGet", { ...envelope, key: Key, requestId: Schema.Finite, block: Share })
export const DirReplyMessage = Schema.TaggedStruct("DirReply", { ...envelope, key: Key, requestId: Schema.Finite, block: Share, writer: Schema.Int })
export const DirPutMessage = Schema.TaggedStruct("DirPut", { ...envelope, key: Key, writer: Share })
export const BlockGetMessage = Schema.TaggedStruct("BlockGet", { ...envelope, key: Key, requestId: Schema.Finite, share: Share })
export const BlockReplyMessage = Schema.TaggedStruct("BlockReply", { ...envelope, key: Key, requestId: Schema.Finite, share: Share, hit: Schema.Boolean })
export const BlockPutMessage = Schema.TaggedStruct("BlockPut", { ...envelope, key: Key, share: Share })
/** keep: copy the share to the target and keep it (re-placing a lost copy) instead of moving it. */
export const MigrateOrderMessage = Schema.TaggedStruct("MigrateOrder", { ...envelope, key: Key, share: Share, target: Share, keep: Schema.Boolean })
export const MigrateDataMessage = Schema.TaggedStruct("MigrateData", { ...envelope, key: Key, share: Share })
export const BusyMessage = Schema.TaggedStruct("Busy", { ...envelope, key: Key, requestId: Schema.Finite, share: Schema.Int, rejected: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 16 })) })
export const MigrateAckMessage = Schema.TaggedStruct("MigrateAck", { ...envelope, key: Key, share: Share, accepted: Schema.Boolean })

export const Message = Schema.Union([
  TickMessage, BeaconMessage, CacheGetMessage, CacheGetReplyMessage, CachePutMessage, CachePutAckMessage, DirGetMessage, DirReplyMessage,
  DirPutMessage, BlockGetMessage, BlockReplyMessage, BlockPutMessage, MigrateOrderMessage, MigrateDataMessage, BusyMessage, MigrateAckMessage
])
export type Message = typeof Message.Type

/** A message that failed validation; `field` names what was wrong. */
export class InvalidMessage extends Data.TaggedError("InvalidMessage")<{ readonly field: string; readonly message: string }> {}

const members = {
  Tick: TickMessage, Beacon: BeaconMessage, CacheGet: CacheGetMessage, CacheGetReply: CacheGetReplyMessage,
  CachePut: CachePutMessage, CachePutAck: CachePutAckMessage, DirGet: DirGetMessage, DirReply: DirReplyMessage,
  DirPut: DirPutMessage, BlockGet: BlockGetMessage, BlockReply: BlockReplyMessage, BlockPut: BlockPutMessage,
  MigrateOrder: MigrateOrderMessage, MigrateData: MigrateDataMessage, Busy: BusyMessage, MigrateAck: MigrateAckMessage
} as const

/**
 * Validate unknown data as a Message (structured edges). The tag picks the member schema first, so an
 * error names the field of that message rather than "no member of the union matched".
 */
export const decodeMessage = (input: unknown): Message => {
  const tag = (input as { _tag?: unknown } | null)?._tag
  if (typeof tag !== "string" || !Object.hasOwn(members, tag)) {
    throw new InvalidMessage({ field: "_tag", message: `unknown message tag ${JSON.stringify(tag)} (known: ${Object.keys(members).join(", ")})` })
  }
  try {
    return Schema.decodeUnknownSync(members[tag as keyof typeof members] as Schema.Codec<Message, unknown>)(input)
  } catch (e) {
    const text = String((e as Error).message ?? e)
    const path = /at \[(.*?)\]/.exec(text)?.[1]?.replace(/"/g, "") ?? "message"
    throw new InvalidMessage({ field: path, message: text.split("\n")[0]! })
  }
}

/** Write a structured message into record r (the first hop's fields are set by the router). */
export const toRecord = (m: Message, block: RecordBlock, r: number): void => {
  block.setF(r, F.time, m.time)
  block.setF(r, F.sentAt, m.sentAt)
  block.setI(r, I.origin, m.from)
  block.setI(r, I.src, m.from)
  block.setI(r, I.at, m.from)
  block.setI(r, I.dst, m.to)
  block.setI(r, I.seq, m.seq)
  block.setI(r, I.originSeq, m.seq)
  block.setI(r, I.bytes, m.bytes)
  block.setI(r, I.hops, 0)
  block.setI(r, I.tag, Tag[m._tag])
  block.setF(r, F.p0, "key" in m ? m.key : 0)
  block.setF(r, F.p1, "requestId" in m ? m.requestId : "target" in m ? m.target : 0)
  block.setF(r, F.p2, "requestSentAt" in m ? m.requestSentAt : "writer" in m && m._tag === "DirReply" ? m.writer : "hit" in m && m._tag === "BlockReply" ? Number(m.hit) : m._tag === "MigrateOrder" ? Number(m.keep) : m._tag === "Busy" ? m.rejected : m._tag === "MigrateAck" ? Number(m.accepted) : 0)
  block.setI(r, I.aux, auxOf(m))
}

/** The int payload slot: timer kind, link slot, hit flag, block index, share, or writer, by message. */
const auxOf = (m: Message): number => {
  switch (m._tag) {
    case "Tick": return m.timer
    case "Beacon": return m.link
    case "CacheGetReply": return Number(m.hit)
    case "CachePutAck": return Number(m.stored)
    case "DirGet": case "DirReply": return m.block
    case "DirPut": return m.writer
    case "BlockGet": case "BlockReply": case "BlockPut": case "MigrateOrder": case "MigrateData": case "Busy": case "MigrateAck": return m.share
    default: return 0
  }
}

/** Read record r as a structured message, validated by the Schema. */
export const fromRecord = (block: RecordBlock, r: number): Message => {
  const tag = block.getI(r, I.tag)
  const name = tagNames[tag]
  if (name === undefined) throw new InvalidMessage({ field: "tag", message: `unknown message tag ${tag}` })
  const base = {
    _tag: name, v: MESSAGE_VERSION, time: block.getF(r, F.time), sentAt: block.getF(r, F.sentAt), from: block.getI(r, I.origin),
    to: block.getI(r, I.dst), seq: block.getI(r, I.originSeq), bytes: block.getI(r, I.bytes)
  }
  const aux = block.getI(r, I.aux)
  const key = block.getF(r, F.p0), requestId = block.getF(r, F.p1), requestSentAt = block.getF(r, F.p2)
  const p2 = requestSentAt
  const extra: Record<string, unknown> =
    name === "Tick" ? { timer: aux } :
    name === "Beacon" ? { link: aux } :
    name === "CacheGetReply" ? { key, requestId, hit: aux === 1, requestSentAt } :
    name === "CachePutAck" ? { key, requestId, stored: aux === 1, requestSentAt } :
    name === "DirGet" ? { key, requestId, block: aux } :
    name === "DirReply" ? { key, requestId, block: aux, writer: p2 } :
    name === "DirPut" ? { key, writer: aux } :
    name === "BlockGet" ? { key, requestId, share: aux } :
    name === "BlockReply" ? { key, requestId, share: aux, hit: p2 === 1 } :
    name === "BlockPut" || name === "MigrateData" ? { key, share: aux } :
    name === "MigrateOrder" ? { key, share: aux, target: requestId, keep: p2 === 1 } :
    name === "Busy" ? { key, requestId, share: aux, rejected: p2 } :
    name === "MigrateAck" ? { key, share: aux, accepted: p2 === 1 } :
    { key, requestId }
  return decodeMessage({ ...base, ...extra })
}
