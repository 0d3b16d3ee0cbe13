/**
 * What a viewer may send the live view, one JSON text message each, decoded with Effect Schema: anything
 * else (binary, oversized, not JSON, not one of these) is refused and counted, never acted on.
 */
import { Schema } from "effect"

export const ClientMessage = Schema.Union([
  /** Frame `seq` has been drawn: the server sends a viewer at most a few frames it has not acknowledged. */
  Schema.Struct({ type: Schema.Literal("ack"), seq: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)) }),
  /** Frames per second this viewer wants (the emulation runs on whatever it asks). */
  Schema.Struct({ type: Schema.Literal("rate"), fps: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 60 })) }),
  Schema.Struct({ type: Schema.Literal("pause") }),
  Schema.Struct({ type: Schema.Literal("resume") }),
  /** Virtual seconds per wall second. */
  Schema.Struct({ type: Schema.Literal("speed"), x: Schema.Finite.check(Schema.isBetween({ minimum: 0.01, maximum: 10_000 })) }),
  Schema.Struct({ type: Schema.Literal("inspect"), satellite: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)) }),
  Schema.Struct({ type: Schema.Literal("prompt"), text: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(500)) })
])
export type ClientMessage = typeof ClientMessage.Type

/** Longer text messages are refused before they are parsed. */
export const MAX_CLIENT_MESSAGE_BYTES = 4096

const decode = Schema.decodeUnknownOption(ClientMessage)

/** A client's text message, or why it was refused. */
export const parseClientMessage = (raw: string | Uint8Array): { ok: true; message: ClientMessage } | { ok: false; reason: string } => {
  if (typeof raw !== "string") return { ok: false, reason: "binary message" }
  if (raw.length > MAX_CLIENT_MESSAGE_BYTES) return { ok: false, reason: `message of ${raw.length} characters (limit ${MAX_CLIENT_MESSAGE_BYTES})` }
  let json: unknown
  try {
    json = JSON.parse(raw)
  } catch {
    return { ok: false, reason: "not JSON" }
  }
  const m = decode(json)
  return m._tag === "Some" ? { ok: true, message: m.value } : { ok: false, reason: "not a known message" }
}
