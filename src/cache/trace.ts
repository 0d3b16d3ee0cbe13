/**
 * Request traces in the Mooncake format (one JSON object a line: timestamp ms, input_length,
 * output_length, hash_ids of the prompt's 512-token blocks, already chained). Parsing is pure: text in,
 * requests or a TraceError naming the file and line out.
 */
import { Schema, SchemaIssue } from "effect"

export const TraceRequest = Schema.Struct({
  timestamp: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)),
  input_length: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  output_length: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  hash_ids: Schema.Array(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)))
})
export type TraceRequest = typeof TraceRequest.Type

export class TraceError extends Error {
  readonly _tag = "TraceError"
  constructor(readonly file: string, readonly line: number, readonly reason: string) {
    super(`${file}:${line}: ${reason}`)
  }
  get field(): string {
    return `${this.file}:${this.line}`
  }
}

const decode = Schema.decodeUnknownSync(TraceRequest)

export const parseTraceLine = (text: string, file: string, line: number): TraceRequest => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new TraceError(file, line, "not valid JSON")
  }
  try {
    return decode(json)
  } catch (e) {
    const issue = Schema.isSchemaError(e) ? SchemaIssue.makeFormatterStandardSchemaV1()(e.issue).issues[0] : undefined
    const at = issue?.path?.map(String).join(".")
    throw new TraceError(file, line, `${at ? `field ${at}: ` : ""}${issue?.message ?? String(e)}`)
  }
}

export interface ParsedTrace {
  readonly requests: ReadonlyArray<TraceRequest>
  /** Lines skipped in lenient mode, with why. */
  readonly skipped: ReadonlyArray<TraceError>
}

/** Parse a whole trace; strict by default (the first bad line throws), lenient skips and counts. */
export const parseTrace = (text: string, file: string, opts: { lenient?: boolean; limit?: number } = {}): ParsedTrace => {
  const requests: Array<TraceRequest> = []
  const skipped: Array<TraceError> = []
  const lines = text.split("\n")
  for (let i = 0; i < lines.length && (opts.limit === undefined || requests.length < opts.limit); i++) {
    const l = lines[i]!.trim()
    if (l === "") continue
    try {
      requests.push(parseTraceLine(l, file, i + 1))
    } catch (e) {
      if (!opts.lenient || !(e instanceof TraceError)) throw e
      skipped.push(e)
    }
  }
  return { requests, skipped }
}

/**
 * The oracle: the block hit ratio of an unbounded cache that keeps every block ever seen, counted as
 * (sum over requests of leading blocks already seen) / (sum of blocks). No placement or eviction policy
 * can beat it.
 */
export const oracleHitRate = (requests: ReadonlyArray<TraceRequest>): { hitBlocks: number; blocks: number; hitRate: number } => {
  const seen = new Set<number>()
  let hit = 0
  let blocks = 0
  for (const r of requests) {
    let prefix = true
    for (const id of r.hash_ids) {
      if (prefix && seen.has(id)) hit++
      else prefix = false
    }
    for (const id of r.hash_ids) seen.add(id)
    blocks += r.hash_ids.length
  }
  return { hitBlocks: hit, blocks, hitRate: blocks > 0 ? hit / blocks : 0 }
}

/**
 * Conversations: the traces carry no user ids, so requests sharing their second block id are taken as
 * turns of one conversation of one user (the first block, a system prompt, is shared by everyone).
 * Returns a conversation number per request, in order of first appearance.
 */
export const conversationsOf = (requests: ReadonlyArray<TraceRequest>): Int32Array => {
  const ids = new Map<string, number>()
  const out = new Int32Array(requests.length)
  requests.forEach((r, i) => {
    const k = r.hash_ids.length >= 2 ? `b${r.hash_ids[1]}` : `r${i}`
    let id = ids.get(k)
    if (id === undefined) {
      id = ids.size
      ids.set(k, id)
    }
    out[i] = id
  })
  return out
}
