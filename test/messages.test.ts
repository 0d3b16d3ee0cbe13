import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { decodeMessage, fromRecord, InvalidMessage, MAX_TAG, type Message, toRecord } from "../src/actors/messages.js"
import { checkRecord, RECORD_BYTES, RecordBlock } from "../src/runtime/record.js"

const envelope = { v: 1 as const, time: 2.5, sentAt: 1, from: 3, to: 7, seq: 11, bytes: 64 }

const arbMessage: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ _tag: fc.constant("Tick" as const), timer: fc.integer({ min: -5, max: 5 }) }),
  fc.record({ _tag: fc.constant("Beacon" as const), link: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ _tag: fc.constant("CacheGet" as const), key: fc.integer(), requestId: fc.nat() }),
  fc.record({ _tag: fc.constant("CacheGetReply" as const), key: fc.integer(), requestId: fc.nat(), hit: fc.boolean(), requestSentAt: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ _tag: fc.constant("CachePut" as const), key: fc.integer(), requestId: fc.nat() }),
  fc.record({ _tag: fc.constant("CachePutAck" as const), key: fc.integer(), requestId: fc.nat(), stored: fc.boolean(), requestSentAt: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ _tag: fc.constant("DirGet" as const), key: fc.integer(), requestId: fc.nat(), block: fc.nat(1000) }),
  fc.record({ _tag: fc.constant("DirReply" as const), key: fc.integer(), requestId: fc.nat(), block: fc.nat(1000), writer: fc.integer({ min: -1, max: 5000 }) }),
  fc.record({ _tag: fc.constant("DirPut" as const), key: fc.integer(), writer: fc.nat(5000) }),
  fc.record({ _tag: fc.constant("BlockGet" as const), key: fc.integer(), requestId: fc.nat(), share: fc.nat(255) }),
  fc.record({ _tag: fc.constant("BlockReply" as const), key: fc.integer(), requestId: fc.nat(), share: fc.nat(255), hit: fc.boolean() }),
  fc.record({ _tag: fc.constant("BlockPut" as const), key: fc.integer(), share: fc.nat(255) }),
  fc.record({ _tag: fc.constant("MigrateOrder" as const), key: fc.integer(), share: fc.nat(255), target: fc.nat(10000), keep: fc.boolean() }),
  fc.record({ _tag: fc.constant("MigrateData" as const), key: fc.integer(), share: fc.nat(255) }),
  fc.record({ _tag: fc.constant("Busy" as const), key: fc.integer(), requestId: fc.nat(), share: fc.integer({ min: -1, max: 10000 }), rejected: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ _tag: fc.constant("MigrateAck" as const), key: fc.integer(), share: fc.nat(255), accepted: fc.boolean() })
).map((m) => ({ ...envelope, ...m }) as Message)

describe("messages", () => {
  it("round-trip through the binary record form", () => {
    fc.assert(fc.property(arbMessage, (m) => {
      const b = new RecordBlock(1)
      toRecord(m, b, 0)
      expect(fromRecord(b, 0)).toEqual(m)
    }))
  })

  it("invalid data is rejected with a typed error naming the field", () => {
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
    expect(bad({ ...envelope, _tag: "CacheGet", key: 1, requestId: 1, v: 2 })).toBe("v")
    expect(bad({ ...envelope, _tag: "CacheGet", key: 1 })).toBe("requestId")
  })

  it("the worker-boundary check never throws on arbitrary bytes, and names a field or accepts", () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: RECORD_BYTES, maxLength: RECORD_BYTES }), (bytes) => {
      const b = new RecordBlock(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + RECORD_BYTES))
      const r = checkRecord(b, 0, 100, MAX_TAG, 0, 64)
      expect(r === undefined || ["tag", "at", "dst", "src", "origin", "time", "sentAt", "hops", "bytes"].includes(r)).toBe(true)
      if (r === undefined) expect(() => fromRecord(b, 0)).not.toThrow(TypeError)
    }), { numRuns: 2000 })
  })
})
