/**
 * RESP, the Redis protocol, at a hostile edge: requests parsed incrementally (arrays of bulk strings, and
 * inline commands as redis-cli's and telnet's), every length checked against a limit before a byte of it
 * is buffered, and replies encoded for RESP2 or RESP3 (HELLO 3).
 *
 * Written here rather than taken from npm: the maintained parsers (redis-parser, the redis client's
 * decoder) read replies for clients and buffer whatever length a peer declares; a server must refuse an
 * oversized bulk length, an array where a bulk string belongs, or a line that never ends, before buffering
 * it. The grammar is a page of the Redis docs; the limits are the point.
 */

export interface RespLimits {
  /** Largest bulk string (one argument), bytes. */
  readonly maxBulkBytes: number
  /** Most arguments in one command. */
  readonly maxArgs: number
  /** Longest inline command line, bytes. */
  readonly maxInlineBytes: number
}

export const defaultLimits: RespLimits = { maxBulkBytes: 64 * 2 ** 20, maxArgs: 1024 * 1024, maxInlineBytes: 64 * 1024 }

/** A request the connection cannot recover from: answered with `-ERR Protocol error: ...`, then closed. */
export class ProtocolError extends Error {}

const CR = 13
const LF = 10
/** Lengths and counts are short: "*" or "$", at most 20 digits, CRLF. */
const MAX_HEADER_LINE = 32
/** An integer as Redis reads one (string2ll): "-" the only sign, no leading zero (so no "-0"), 19 digits at most. */
export const REDIS_INTEGER = /^(0|-?[1-9]\d{0,18})$/
/**
 * Before AUTH, as Redis 7: at most 10 arguments and 16 KiB an argument, so a client that has not
 * authenticated cannot make the server buffer a large command.
 */
export const UNAUTHENTICATED = { maxArgs: 10, maxBulkBytes: 16384 } as const

/**
 * Request parser: push bytes as they come, take complete commands. `authenticated` is asked as each
 * command is parsed (the command before it may have been AUTH); until it holds, UNAUTHENTICATED applies.
 *
 * Bytes pushed while a command is incomplete are kept as a list and joined only once what the command
 * waits for can be there: the rest of a bulk string of known length, or a newline ending a line; and a
 * command of many arguments resumes at the argument it stopped at, as Redis's parser does. Joining on
 * every push copied the received part of a large value again at every read: a 64-MiB value arriving in
 * 64-KiB reads took 16 s of the one thread every connection shares.
 */
export class RequestParser {
  private buf: Buffer = Buffer.alloc(0)
  private pos = 0
  /** Pushed after `buf`, not joined yet. */
  private chunks: Array<Buffer> = []
  private chunkBytes = 0
  /** The incomplete command needs this many buffered bytes before another try (0: none known). */
  private needBytes = 0
  /**
   * It waits for a line's end: chunks from `scanned` on have not been searched for one, and past
   * `lineLimit` buffered bytes the line is too long.
   */
  private waitsForLine = false
  private scanned = 0
  private lineLimit = 0
  /** A multibulk command's arguments so far, and how many are still to come. */
  private partial: { readonly args: Array<Buffer>; left: number } | undefined

  constructor(private readonly limits: RespLimits = defaultLimits, private readonly authenticated: () => boolean = () => true) {}

  /** Bytes received and not yet part of a complete command. */
  get buffered(): number {
    return this.buf.length - this.pos + this.chunkBytes
  }

  push(chunk: Uint8Array): void {
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    this.chunkBytes += chunk.byteLength
  }

  /** Whether the bytes pushed since the last try can complete the command it stopped at. */
  private mayProgress(): boolean {
    if (this.needBytes > 0) return this.buffered >= this.needBytes
    if (!this.waitsForLine) return true
    if (this.buffered > this.lineLimit) return true
    for (; this.scanned < this.chunks.length; this.scanned++) if (this.chunks[this.scanned]!.includes(LF)) return true
    return false
  }

  private join(): void {
    if (this.chunks.length === 0) return
    const rest = this.buf.subarray(this.pos)
    this.buf = rest.length === 0 && this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat([rest, ...this.chunks])
    this.pos = 0
    this.chunks = []
    this.chunkBytes = 0
    this.scanned = 0
  }

  /** The next complete command (its arguments), undefined until more bytes arrive; ProtocolError if malformed. */
  next(): Array<Buffer> | undefined {
    if (!this.mayProgress()) return undefined
    this.join()
    this.needBytes = 0
    this.waitsForLine = false
    for (;;) {
      if (this.pos >= this.buf.length) return undefined
      // An incomplete command leaves pos where it resumes (its first line, or the argument it stopped at).
      const cmd = this.partial !== undefined || this.buf[this.pos] === 0x2a /* * */ ? this.multibulk() : this.inline()
      if (cmd === undefined) return undefined
      // Empty commands (a bare newline, "*0") are skipped, as Redis does.
      if (cmd.length > 0) return cmd
    }
  }

  /** Incomplete at a line (at pos) that has no end yet: longer than `limit` bytes, it is refused. */
  private awaitLine(limit: number): undefined {
    this.waitsForLine = true
    this.lineLimit = limit
    return undefined
  }

  /** The line at pos (without CRLF) and moves past it; undefined if incomplete. */
  private headerLine(what: string): string | undefined {
    const end = this.buf.indexOf(LF, this.pos)
    if (end < 0) {
      if (this.buf.length - this.pos > MAX_HEADER_LINE) throw new ProtocolError(`${what} line too long`)
      return this.awaitLine(MAX_HEADER_LINE)
    }
    if (end - this.pos > MAX_HEADER_LINE || this.buf[end - 1] !== CR) throw new ProtocolError(`malformed ${what} line`)
    const line = this.buf.toString("latin1", this.pos + 1, end - 1)
    this.pos = end + 1
    return line
  }

  private count(text: string, what: string, max: number): number {
    if (!REDIS_INTEGER.test(text)) throw new ProtocolError(`invalid ${what}`)
    const n = Number(text)
    if (n > max) throw new ProtocolError(`${what} ${n} over the limit of ${max}`)
    return n
  }

  private multibulk(): Array<Buffer> | undefined {
    if (this.partial === undefined) {
      const header = this.headerLine("multibulk length")
      if (header === undefined) return undefined
      const n = this.count(header, "multibulk length", this.limits.maxArgs)
      if (n > UNAUTHENTICATED.maxArgs && !this.authenticated()) throw new ProtocolError("unauthenticated multibulk length")
      this.partial = { args: [], left: n }
    }
    const p = this.partial
    while (p.left > 0) {
      if (this.pos >= this.buf.length) return undefined
      if (this.buf[this.pos] !== 0x24 /* $ */) throw new ProtocolError(`expected '$', got '${String.fromCharCode(this.buf[this.pos]!)}'`)
      const lineStart = this.pos
      const line = this.headerLine("bulk length")
      if (line === undefined) return undefined
      const len = this.count(line, "bulk length", this.limits.maxBulkBytes)
      if (len < 0) throw new ProtocolError("invalid bulk length")
      if (len > UNAUTHENTICATED.maxBulkBytes && !this.authenticated()) throw new ProtocolError("unauthenticated bulk length")
      if (this.buf.length - this.pos < len + 2) {
        // Back to the length line, and no new try before the whole string can be there.
        this.needBytes = this.pos - lineStart + len + 2
        this.pos = lineStart
        return undefined
      }
      if (this.buf[this.pos + len] !== CR || this.buf[this.pos + len + 1] !== LF) throw new ProtocolError("bulk string not followed by CRLF")
      // A copy: the command may outlive the receive buffer (a value stored in orbit).
      p.args.push(Buffer.from(this.buf.subarray(this.pos, this.pos + len)))
      this.pos += len + 2
      p.left--
    }
    this.partial = undefined
    return p.args
  }

  private inline(): Array<Buffer> | undefined {
    const end = this.buf.indexOf(LF, this.pos)
    if (end < 0) {
      if (this.buf.length - this.pos > this.limits.maxInlineBytes) throw new ProtocolError("too big inline request")
      return this.awaitLine(this.limits.maxInlineBytes)
    }
    if (end - this.pos > this.limits.maxInlineBytes) throw new ProtocolError("too big inline request")
    const line = this.buf.toString("latin1", this.pos, end).replace(/\r$/, "")
    this.pos = end + 1
    const words = splitInline(line)
    if (words === undefined) throw new ProtocolError("unbalanced quotes in request")
    return words.map((w) => Buffer.from(w, "latin1"))
  }
}

const HEX = /^[0-9a-fA-F]{2}$/
const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", b: "\b", a: "\x07" }
/** Blanks between words (C's isspace); inside a word only these end it. */
const isBlank = (c: string | undefined) => c === " " || c === "\n" || c === "\r" || c === "\t" || c === "\v" || c === "\f"
const endsWord = (c: string | undefined) => c === undefined || c === " " || c === "\n" || c === "\r" || c === "\t"
/** What may follow a closing quote. */
const closes = (c: string | undefined) => c === undefined || isBlank(c)

/**
 * An inline command's words as Redis splits them (sdssplitargs): "double quotes" with \n \r \t \b \a
 * \xHH and \<any>, 'single quotes' with \', a closing quote followed by a blank or the end, a quote
 * that opens inside a word (a"b c" is one word). undefined: unbalanced quotes. One byte a character
 * (latin1). A NUL byte ends the words, where Redis differs: 7.0.15 looks for the line's end with
 * strchr, which stops at the NUL, so it answers nothing until 64 KiB more have come and then refuses
 * the request; here the client is answered. Written here: the one npm port (redis-splitargs) lacks
 * \xHH and reads \a as "a".
 */
export const splitInline = (text: string): Array<string> | undefined => {
  // The words end at a NUL byte, as a C string does (see above for how Redis itself fares).
  const nul = text.indexOf("\0")
  const line = nul < 0 ? text : text.slice(0, nul)
  const words: Array<string> = []
  let p = 0
  for (;;) {
    while (p < line.length && isBlank(line[p])) p++
    if (p === line.length) return words
    let word = ""
    let quote: '"' | "'" | undefined
    for (;;) {
      const c = line[p]
      if (quote !== undefined) {
        if (c === undefined) return undefined
        if (c === quote) {
          if (!closes(line[p + 1])) return undefined
          p++
          break
        }
        if (quote === '"' && c === "\\" && line[p + 1] === "x" && HEX.test(line.slice(p + 2, p + 4))) {
          word += String.fromCharCode(parseInt(line.slice(p + 2, p + 4), 16))
          p += 3
        } else if (quote === '"' && c === "\\" && p + 1 < line.length) word += ESCAPES[line[++p]!] ?? line[p]!
        else if (quote === "'" && c === "\\" && line[p + 1] === "'") word += line[++p]!
        else word += c
      } else if (endsWord(c)) break
      else if (c === '"' || c === "'") quote = c
      else word += c
      p++
    }
    words.push(word)
  }
}

/** A reply, before encoding (RESP3 types fall back to RESP2 ones). */
export type Reply =
  | { readonly t: "simple"; readonly s: string }
  | { readonly t: "error"; readonly s: string }
  | { readonly t: "int"; readonly n: number }
  | { readonly t: "bulk"; readonly b: Uint8Array | null }
  | { readonly t: "array"; readonly items: ReadonlyArray<Reply> | null }
  | { readonly t: "map"; readonly entries: ReadonlyArray<readonly [Reply, Reply]> }

export const R = {
  ok: { t: "simple", s: "OK" } as Reply,
  simple: (s: string): Reply => ({ t: "simple", s }),
  error: (s: string): Reply => ({ t: "error", s }),
  int: (n: number): Reply => ({ t: "int", n }),
  bulk: (b: Uint8Array | string | null): Reply => ({ t: "bulk", b: typeof b === "string" ? Buffer.from(b) : b }),
  array: (items: ReadonlyArray<Reply> | null): Reply => ({ t: "array", items }),
  map: (entries: ReadonlyArray<readonly [Reply, Reply]>): Reply => ({ t: "map", entries })
}

/** Encode a reply for protocol 2 or 3 into chunks (bulk payloads are not copied). */
export const encodeReply = (r: Reply, protocol: 2 | 3, out: Array<Uint8Array> = []): Array<Uint8Array> => {
  const line = (s: string) => out.push(Buffer.from(`${s}\r\n`, "latin1"))
  switch (r.t) {
    case "simple":
      line(`+${r.s.replace(/[\r\n]/g, " ")}`)
      break
    case "error":
      line(`-${r.s.replace(/[\r\n]/g, " ")}`)
      break
    case "int":
      line(`:${r.n}`)
      break
    case "bulk":
      if (r.b === null) line(protocol === 3 ? "_" : "$-1")
      else {
        line(`$${r.b.length}`)
        out.push(r.b)
        out.push(Buffer.from("\r\n"))
      }
      break
    case "array":
      if (r.items === null) line(protocol === 3 ? "_" : "*-1")
      else {
        line(`*${r.items.length}`)
        for (const item of r.items) encodeReply(item, protocol, out)
      }
      break
    case "map":
      line(protocol === 3 ? `%${r.entries.length}` : `*${2 * r.entries.length}`)
      for (const [k, v] of r.entries) {
        encodeReply(k, protocol, out)
        encodeReply(v, protocol, out)
      }
      break
  }
  return out
}
