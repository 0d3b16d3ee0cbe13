import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { decodeMessage, fromEnvelope, type Message, replyHit, Sky, skySpecs, Tag, tagNames } from "../src/actors/protocol.js"
import type { Envelope } from "../src/runtime/behaviour.js"
import { type Field, InvalidMessage, match } from "../src/runtime/protocol.js"
import { checkRecord, F, I, RECORD_BYTES, RecordBlock } from "../src/runtime/record.js"

/** Record 0 of a block as the envelope the engine would deliver it in. */
const envelopeOfRecord = (b: RecordBlock): Envelope => ({
  time: b.getF(0, F.time), sentAt: b.getF(0, F.sentAt), origin: b.getI(0, I.origin), originSeq: b.getI(0, I.originSeq), dst: b.getI(0, I.dst),
  tag: b.getI(0, I.tag), bytes: b.getI(0, I.bytes), hops: b.getI(0, I.hops), p0: b.getF(0, F.p0), p1: b.getF(0, F.p1), p2: b.getF(0, F.p2), aux: b.getI(0, I.aux)
})

const envelope = { time: 2.5, sentAt: 1, from: 3, to: 7, seq: 11, bytes: 64 }

/** Values of a field as the declaration allows them (ints in aux are int32). */
const arbField = (f: Field): fc.Arbitrary<unknown> =>
  f.kind === "flag" ? fc.boolean()
  : f.kind === "number" ? fc.double({ noNaN: true, noDefaultInfinity: true })
  : f.range ? fc.integer({ min: f.range.min, max: f.range.max })
  : fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })

/** Every message the protocol declares, with arbitrary valid fields: generated from the table itself. */
const arbMessage: fc.Arbitrary<Message> = fc.oneof(
  ...Object.entries(skySpecs).map(([name, spec]) =>
    fc.record(Object.fromEntries(Object.entries(spec.fields).map(([k, f]) => [k, arbField(f as Field)]))).map((fields) => ({ ...envelope, _tag: name, ...fields }) as Message))
)

describe("the protocol table", () => {
  it("round-trips every declared message: laid out by its typed send, read back by fromEnvelope", () => {
    fc.assert(fc.property(arbMessage, (m) => {
      let env: Envelope | undefined
      const ctx = { send: (dst: number, tag: number, bytes: number, p0 = 0, p1 = 0, p2 = 0, aux = 0) => void (env = { time: m.time, sentAt: m.sentAt, origin: m.from, originSeq: m.seq, dst, tag, bytes, hops: 1, p0, p1, p2, aux }) }
      const { _tag, time: _t, sentAt: _s, from: _f, to, seq: _q, bytes, ...fields } = m
      ;(Sky[_tag].send as (c: typeof ctx, dst: number, bytes: number, f: unknown) => void)(ctx, to, bytes, fields)
      expect(env!.tag).toBe(Tag[_tag])
      expect(fromEnvelope(env!)).toEqual(m)
      // The live view's reading of share replies without decoding them (experiments/live/session.ts).
      expect(replyHit(env!)).toBe(_tag === "BlockReply" || _tag === "CacheGetReply" ? (fields as { hit: boolean }).hit : false)
    }), { numRuns: 2000 })
  })

  it("lays each field in its declared slot, so typed sends write the records the engine carries", () => {
    const sent: Array<Array<number>> = []
    const ctx = { send: (...a: Array<number>) => void sent.push(a) }
    Sky.MigrateOrder.send(ctx, 42, 64, { manifest: 7.5, target: 99 })
    Sky.BlockReply.send(ctx, 8, 100, { key: -1, requestId: 5, hit: false, ask: 12 })
    // dst, tag, bytes, p0, p1, p2, aux
    expect(sent).toEqual([[42, 13, 64, 7.5, 99, 0, 0], [8, 11, 100, -1, 5, 0, 12]])
  })

  it("a wrong field name or type does not compile (tsc checks the expected errors; npm test runs tsc)", () => {
    const sent: Array<unknown> = []
    const ctx = { send: (...a: Array<number>) => void sent.push(a) }
    // @ts-expect-error: BlockGet has no field "keys"
    Sky.BlockGet.send(ctx, 1, 64, { keys: 1, requestId: 1, ask: 0 })
    // @ts-expect-error: "hit" is a boolean
    Sky.BlockReply.send(ctx, 1, 64, { key: 1, requestId: 1, hit: 1, ask: 0 })
    // @ts-expect-error: "ask" is missing
    Sky.BlockGet.send(ctx, 1, 64, { key: 1, requestId: 1 })
    // Checked by tsc only: building it would refuse the unknown message name at run time too.
    const typeOnly = () => match(skySpecs, {
      // @ts-expect-error: a BlockReply view has no "share"
      BlockReply: (_s: null, m) => void sent.push(m.share),
      // @ts-expect-error: there is no message "BlockReplay"
      BlockReplay: () => undefined
    })
    expect(typeof typeOnly).toBe("function")
    // At run time the sends still happen (the types are the guard): three records.
    expect(sent).toHaveLength(3)
  })

  it("match hands each handler a view that reads the envelope's slots by name, and ignores other tags", () => {
    const seen: Array<string> = []
    const handle = match(skySpecs, {
      BlockReply: (_s: null, m) => void seen.push(`reply ${m.key} ${m.requestId} ${m.hit} ${m.ask} from ${m.origin}`),
      Beacon: (_s: null, m) => void seen.push(`beacon ${m.link} at ${m.time}`)
    })
    const env: Envelope = { time: 3, sentAt: 1, origin: 4, originSeq: 0, dst: 9, tag: Tag.BlockReply, bytes: 64, hops: 2, p0: 77, p1: 5, p2: 1, aux: 6 }
    handle(null, env, {} as never)
    handle(null, { ...env, tag: Tag.Beacon, aux: 2 }, {} as never)
    handle(null, { ...env, tag: Tag.DirPut }, {} as never)
    expect(seen).toEqual(["reply 77 5 true 6 from 4", "beacon 2 at 3"])
  })

  it("rejects invalid data with a typed error naming the field", () => {
    const bad = (input: unknown) => {
      try {
        decodeMessage(input)
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidMessage)
        return (e as InvalidMessage).field
      }
      throw new Error("accepted")
    }
    expect(bad({ ...envelope, _tag: "Beacon", link: 9 })).toBe("link")
    expect(bad({ ...envelope, _tag: "CacheGet", key: 1, requestId: 1, time: Number.NaN })).toBe("time")
    expect(bad({ ...envelope, _tag: "CacheGet", key: 1 })).toBe("requestId")
    expect(bad({ ...envelope, _tag: "BlockReply", key: 1, requestId: 1, ask: 0, hit: 1 })).toBe("hit")
    expect(bad({ ...envelope, _tag: "Nope" })).toBe("_tag")
  })

  it("the worker-boundary check names the first bad field, and accepts every field at its limit", () => {
    // A record at every limit: the last actor, the highest tag, sent and due at the window's start, at the hop limit, empty.
    const [actors, maxTag, notBefore, maxHops] = [100, 9, 5, 64]
    const edge = (change: (b: RecordBlock) => void = () => {}) => {
      const b = new RecordBlock(1)
      for (const f of [I.at, I.dst, I.src, I.origin]) b.setI(0, f, actors - 1)
      b.setI(0, I.tag, maxTag)
      b.setF(0, F.time, notBefore)
      b.setF(0, F.sentAt, notBefore)
      b.setI(0, I.hops, maxHops)
      b.setI(0, I.bytes, 0)
      change(b)
      return checkRecord(b, 0, actors, maxTag, notBefore, maxHops)
    }
    expect(edge()).toBeUndefined()
    expect(edge((b) => b.setI(0, I.tag, 1))).toBeUndefined()
    for (const f of [I.at, I.dst, I.src, I.origin]) expect(edge((b) => b.setI(0, f, 0))).toBeUndefined()
    expect(edge((b) => b.setI(0, I.hops, 0))).toBeUndefined()
    const cases: Array<[string, (b: RecordBlock) => void]> = [
      ["tag", (b) => b.setI(0, I.tag, maxTag + 1)],
      ["tag", (b) => b.setI(0, I.tag, 0)],
      ["at", (b) => b.setI(0, I.at, actors)],
      ["dst", (b) => b.setI(0, I.dst, -1)],
      ["src", (b) => b.setI(0, I.src, actors)],
      ["origin", (b) => b.setI(0, I.origin, -1)],
      ["time", (b) => b.setF(0, F.time, notBefore - 1e-9)],
      ["time", (b) => b.setF(0, F.time, Number.POSITIVE_INFINITY)],
      ["sentAt", (b) => b.setF(0, F.sentAt, notBefore + 1e-9)],
      ["sentAt", (b) => b.setF(0, F.sentAt, Number.NaN)],
      ["hops", (b) => b.setI(0, I.hops, maxHops + 1)],
      ["hops", (b) => b.setI(0, I.hops, -1)],
      ["bytes", (b) => b.setI(0, I.bytes, -1)]
    ]
    for (const [field, change] of cases) expect([field, edge(change)]).toEqual([field, field])
    // Two bad fields: the first in the check's order is named.
    expect(edge((b) => (b.setI(0, I.bytes, -1), b.setI(0, I.at, actors)))).toBe("at")
  })

  it("the worker-boundary check never throws on arbitrary bytes; a record it accepts decodes or is refused by name", () => {
    const MAX_TAG = tagNames.length - 1
    let decoded = 0
    fc.assert(fc.property(fc.uint8Array({ minLength: RECORD_BYTES, maxLength: RECORD_BYTES }), fc.integer({ min: 1, max: MAX_TAG }), (bytes, tag) => {
      const b = new RecordBlock(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + RECORD_BYTES))
      // Random bytes almost never pass; half the runs get a plausible header to reach the decoder.
      if (tag % 2 === 0) {
        for (const f of [I.at, I.dst, I.src, I.origin]) b.setI(0, f, tag)
        b.setI(0, I.tag, tag)
        b.setI(0, I.hops, 1)
        b.setI(0, I.bytes, 64)
        b.setF(0, F.time, 2)
        b.setF(0, F.sentAt, 1)
      }
      const r = checkRecord(b, 0, 100, MAX_TAG, 0, 64)
      expect(r === undefined || ["tag", "at", "dst", "src", "origin", "time", "sentAt", "hops", "bytes"].includes(r)).toBe(true)
      if (r !== undefined) return
      try {
        expect(fromEnvelope(envelopeOfRecord(b))._tag).toBe(tagNames[b.getI(0, I.tag)])
        decoded++
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidMessage)
      }
    }), { numRuns: 2000 })
    expect(decoded).toBeGreaterThan(100)
  })
})
