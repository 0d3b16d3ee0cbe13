/**
 * A world's message protocol, declared once: each message's tag code and its named, typed fields, each in
 * one payload slot of the 96-byte record (p0, p1, p2: float64; aux: int32). From that one declaration
 * come typed sends and timers (`Msg.send(ctx, dst, bytes, { key, requestId })`), a typed handler match
 * whose views read the slots by name (`m.key`), the structured form of a delivered message
 * (`envelopeReaderOf`) and the Effect Schema of every message (decode, with the bad field named). Behaviours never see a slot: a wrong field
 * name or type does not compile. The records on the wire are the engine's own: nothing is copied or
 * allocated per message (a view is one object per message type, pointed at the delivery's envelope).
 */
import { Data, Schema, SchemaIssue } from "effect"
import type { ActorContext, Envelope } from "./behaviour.js"

export type Slot = "p0" | "p1" | "p2" | "aux"
/** number: any finite float64 (p-slots only); int: an integer; flag: a boolean stored as 0 / 1. */
export type FieldKind = "number" | "int" | "flag"

export interface Field<K extends FieldKind = FieldKind> {
  readonly slot: Slot
  readonly kind: K
  /** Valid values of an int field (inclusive), checked by the Schema. */
  readonly range?: { readonly min: number; readonly max: number }
}

export const field = {
  number: (slot: "p0" | "p1" | "p2"): Field<"number"> => ({ slot, kind: "number" }),
  int: (slot: Slot, range?: { readonly min: number; readonly max: number }): Field<"int"> => ({ slot, kind: "int", ...(range ? { range } : {}) }),
  flag: (slot: Slot): Field<"flag"> => ({ slot, kind: "flag" })
}

export interface MessageSpec {
  readonly code: number
  readonly fields: Readonly<Record<string, Field>>
}

type FieldValue<F> = F extends Field<"flag"> ? boolean : number
export type FieldsOf<M extends MessageSpec> = { readonly [K in keyof M["fields"]]: FieldValue<M["fields"][K]> }

/** What a handler sees of a delivery: the envelope's header and the message's fields by name. */
export type View<M extends MessageSpec> = FieldsOf<M> & {
  readonly time: number
  readonly sentAt: number
  /** The actor that sent it (not the last hop). */
  readonly origin: number
  readonly dst: number
  readonly bytes: number
  readonly hops: number
}

/** One message type of a protocol: its code, typed send and timer, and its Schema. */
export interface MessageType<Name extends string, M extends MessageSpec> {
  readonly name: Name
  readonly code: number
  /** Send to `dst` through the world's network, `bytes` on the wire. */
  send(ctx: Sender, dst: number, bytes: number, fields: FieldsOf<M>): void
  /** Deliver this message to self after `delaySeconds` (a timer). */
  after(ctx: ActorContext, delaySeconds: number, fields: FieldsOf<M>): void
  /** A host hands `actor` this message now (HostContext.wake, in a live host's request). */
  wake(host: Waker, actor: number, fields: FieldsOf<M>): void
  readonly schema: Schema.Codec<unknown, unknown>
}

/** What sends: an actor's context, or the engine answering for an actor (Admission.refusal). */
export type Sender = Pick<ActorContext, "send">

/** What hosts wake actors through (world.ts HostContext). */
export interface Waker {
  wake(actor: number, tag: number, p0: number, p1: number, p2: number, aux: number): void
}

/** A message that failed validation; `field` names what was wrong. */
export class InvalidMessage extends Data.TaggedError("InvalidMessage")<{ readonly field: string; readonly message: string }> {}

const Time = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
const ActorId = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const envelopeSchema = { time: Time, sentAt: Time, from: ActorId, to: ActorId, seq: Schema.Int, bytes: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)) }
const fieldSchema = (f: Field) =>
  f.kind === "flag" ? Schema.Boolean
  : f.kind === "number" ? Schema.Finite
  : f.range ? Schema.Int.check(Schema.isBetween({ minimum: f.range.min, maximum: f.range.max }))
  : Schema.Int

type Specs = Readonly<Record<string, MessageSpec>>
export type Protocol<P extends Specs> = { readonly [K in keyof P & string]: MessageType<K, P[K]> }

/** A structured message of protocol P: `_tag`, the envelope (time, sentAt, from, to, seq, bytes) and its fields. */
export type MessageOf<P extends Specs> = {
  [K in keyof P & string]: { readonly _tag: K; readonly time: number; readonly sentAt: number; readonly from: number; readonly to: number; readonly seq: number; readonly bytes: number } & FieldsOf<P[K]>
}[keyof P & string]

/**
 * The per-message code is generated from the declaration (new Function), one function per message and
 * slot layout: a closure shared by every message would see every field name at one property access and
 * V8 would make that access megamorphic (a dictionary lookup per field per message, measurable on the
 * engine's hot path). Generated, each send and each view getter reads its fields by name, monomorphic.
 * Field names are checked to be identifiers first.
 */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** The expression that puts `slot` of a fields object `f` into a record (0 where no field uses it). */
const slotExpression = (specFields: Readonly<Record<string, Field>>, slot: Slot): string => {
  const entry = Object.entries(specFields).find(([, f]) => f.slot === slot)
  if (entry === undefined) return "0"
  const [name, f] = entry
  return f.kind === "flag" ? `(f.${name} ? 1 : 0)` : `f.${name}`
}

type SlotSender = (ctx: Sender, dst: number, bytes: number, f: unknown) => void
type SlotTimer = (ctx: Pick<ActorContext, "after">, delay: number, f: unknown) => void
type SlotWaker = (host: Waker, actor: number, f: unknown) => void

const generated = (spec: MessageSpec): { send: SlotSender; after: SlotTimer; wake: SlotWaker } => {
  const [e0, e1, e2, ea] = (["p0", "p1", "p2", "aux"] as const).map((s) => slotExpression(spec.fields, s))
  const slots = `${e0}, ${e1}, ${e2}, ${ea}`
  const code = spec.code
  return {
    send: new Function("ctx", "dst", "bytes", "f", `ctx.send(dst, ${code}, bytes, ${slots})`) as SlotSender,
    after: new Function("ctx", "delay", "f", `ctx.after(delay, ${code}, ${slots})`) as SlotTimer,
    wake: new Function("host", "actor", "f", `host.wake(actor, ${code}, ${slots})`) as SlotWaker
  }
}

const checkSpecs = (specs: Specs): void => {
  const codes = new Set<number>()
  for (const [name, spec] of Object.entries(specs)) {
    if (!Number.isInteger(spec.code) || spec.code < 1 || codes.has(spec.code)) throw new RangeError(`protocol: message ${name} has a bad or duplicate code ${spec.code}`)
    codes.add(spec.code)
    const slots = Object.values(spec.fields).map((f) => f.slot)
    if (new Set(slots).size !== slots.length) throw new RangeError(`protocol: message ${name} puts two fields in one slot`)
    for (const field of Object.keys(spec.fields)) if (!IDENTIFIER.test(field)) throw new RangeError(`protocol: message ${name} has a field named "${field}" (not an identifier)`)
  }
}

export const defineProtocol = <P extends Specs>(specs: P): Protocol<P> => {
  checkSpecs(specs)
  const out: Record<string, MessageType<string, MessageSpec>> = {}
  for (const [name, spec] of Object.entries(specs)) {
    const g = generated(spec)
    out[name] = {
      name,
      code: spec.code,
      send: g.send,
      after: g.after,
      wake: g.wake,
      schema: Schema.TaggedStruct(name, {
        ...envelopeSchema,
        ...Object.fromEntries(Object.entries(spec.fields).map(([k, f]) => [k, fieldSchema(f)]))
      }) as unknown as Schema.Codec<unknown, unknown>
    }
  }
  return out as Protocol<P>
}

type Handler<S, C, M extends MessageSpec> = (state: S, m: View<M>, ctx: C) => void
export type Handlers<P extends Specs, S, C> = { readonly [K in keyof P & string]?: Handler<S, C, P[K]> }

/** A view per message: a generated class whose getters read its fields from the envelope it points at. */
const viewOf = (spec: MessageSpec): { env: Envelope } => {
  const getters = Object.entries(spec.fields).map(([name, f]) => `get ${name}() { return ${f.kind === "flag" ? `this.env.${f.slot} === 1` : `this.env.${f.slot}`} }`)
  const View = new Function(`return class {
    constructor() { this.env = undefined }
    get time() { return this.env.time }
    get sentAt() { return this.env.sentAt }
    get origin() { return this.env.origin }
    get dst() { return this.env.dst }
    get bytes() { return this.env.bytes }
    get hops() { return this.env.hops }
    ${getters.join("\n    ")}
  }`)() as new () => { env: Envelope }
  return new View()
}

/**
 * A behaviour's handle from handlers by message name: deliveries of other tags are ignored. Each
 * handler gets the message's typed view (valid during the call only: copy what you keep).
 */
export const match = <P extends Specs, S, C extends ActorContext>(protocol: P, handlers: Handlers<P, S, C>): ((state: S, msg: Envelope, ctx: C) => void) => {
  const max = Math.max(...Object.values(protocol).map((s) => s.code))
  const table: Array<Handler<S, C, MessageSpec> | undefined> = new Array(max + 1).fill(undefined)
  const views: Array<{ env: Envelope } | undefined> = new Array(max + 1).fill(undefined)
  for (const [name, h] of Object.entries(handlers) as Array<[string, Handler<S, C, MessageSpec> | undefined]>) {
    const spec = protocol[name]
    if (spec === undefined) throw new RangeError(`match: no message "${name}" in this protocol (it has: ${Object.keys(protocol).join(", ")})`)
    table[spec.code] = h
    views[spec.code] = viewOf(spec)
  }
  return (state, msg, ctx) => {
    const h = table[msg.tag]
    if (h === undefined) return
    const v = views[msg.tag]!
    v.env = msg
    h(state, v as unknown as View<MessageSpec>, ctx)
  }
}

/** Message names by tag code, for reports. */
export const tagNamesOf = (specs: Specs): ReadonlyArray<string | undefined> => {
  const names: Array<string | undefined> = []
  for (const [name, spec] of Object.entries(specs)) names[spec.code] = name
  return Array.from({ length: names.length }, (_, k) => names[k])
}

/** Validate unknown data as a message of the protocol; the error names the bad field. */
export const decoderOf = <P extends Specs>(protocol: Protocol<P>) => (input: unknown): MessageOf<P> => {
  const tag = (input as { _tag?: unknown } | null)?._tag
  if (typeof tag !== "string" || !Object.hasOwn(protocol, tag)) {
    throw new InvalidMessage({ field: "_tag", message: `unknown message tag ${JSON.stringify(tag)} (known: ${Object.keys(protocol).join(", ")})` })
  }
  try {
    return Schema.decodeUnknownSync(protocol[tag]!.schema)(input) as MessageOf<P>
  } catch (e) {
    const issue = Schema.isSchemaError(e) ? SchemaIssue.makeFormatterStandardSchemaV1()(e.issue).issues[0] : undefined
    throw new InvalidMessage({ field: issue?.path?.map(String).join(".") || "message", message: issue?.message ?? String(e) })
  }
}

/** A delivered envelope as a structured message, validated by its Schema (message logs, sockets). */
export const envelopeReaderOf = <P extends Specs>(protocol: Protocol<P>, specs: P) => {
  const byCode = new Map(Object.entries(specs).map(([name, spec]) => [spec.code, [name, spec] as const]))
  const decode = decoderOf(protocol)
  return (env: Envelope): MessageOf<P> => {
    const found = byCode.get(env.tag)
    if (found === undefined) throw new InvalidMessage({ field: "tag", message: `unknown message tag ${env.tag}` })
    const [name, spec] = found
    const fields: Record<string, unknown> = {}
    for (const [k, f] of Object.entries(spec.fields)) fields[k] = f.kind === "flag" ? env[f.slot] === 1 : env[f.slot]
    return decode({ _tag: name, time: env.time, sentAt: env.sentAt, from: env.origin, to: env.dst, seq: env.originSeq, bytes: env.bytes, ...fields })
  }
}
