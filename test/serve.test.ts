/**
 * The Redis front end with real clients (Debian's redis-cli and redis-benchmark, the redis npm client)
 * and hostile ones (raw sockets): binary values, LMCache-style keys, pipelining, many connections, AUTH
 * and tenants, expiry, protocol abuse; and the parser alone under arbitrary and truncated input.
 */
import { type ChildProcess, execFile } from "node:child_process"
import { randomBytes } from "node:crypto"
import { connect } from "node:net"
import { promisify } from "node:util"
import fc from "fast-check"
import { createClient, RESP_TYPES } from "redis"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { commands } from "../experiments/serve/commands.js"
import { defaultLimits, encodeReply, ProtocolError, R, type Reply, RequestParser } from "../experiments/serve/resp.js"
import { ValueTier } from "../experiments/serve/tier.js"
import { makeRunConfig } from "../src/actors/config.js"
import type { SharePayload } from "../src/cache/payload-wire.js"
import { namedValueKey } from "../src/cache/keys.js"
import type { ChunkStore } from "../src/cache/store.js"
import { startExperimentServer } from "../experiments/lib/spawn-server.js"

const exec = promisify(execFile)

const startServer = async (args: ReadonlyArray<string>): Promise<{ child: ChildProcess; port: number }> => {
  const { child, url } = await startExperimentServer("serve", args, { stderr: "pipe" })
  expect(url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/)
  return { child, port: Number(url.split(":").at(-1)) }
}

/** Raw bytes to the server; everything it answers until it closes or `ms` pass. */
const raw = (port: number, bytes: Uint8Array | string, ms = 3000) =>
  new Promise<{ reply: string; closed: boolean }>((resolve) => {
    const s = connect(port, "127.0.0.1")
    let reply = ""
    s.on("data", (d) => (reply += d.toString("latin1")))
    const done = (closed: boolean) => {
      clearTimeout(timer)
      s.destroy()
      resolve({ reply, closed })
    }
    const timer = setTimeout(() => done(false), ms)
    s.on("close", () => done(true))
    s.on("error", () => done(true))
    s.write(bytes)
  })

const cli = (port: number, ...args: Array<string>) => exec("redis-cli", ["-p", String(port), ...args]).then((r) => r.stdout.trimEnd())

/** A command as a client library sends it: an array of bulk strings. */
const encode = (args: ReadonlyArray<Uint8Array>) => Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.flatMap((a) => [Buffer.from(`$${a.length}\r\n`), Buffer.from(a), Buffer.from("\r\n")])])

describe("the Redis front end", () => {
  let server: { child: ChildProcess; port: number }
  beforeAll(async () => {
    server = await startServer(["--preset", "paper-19x5", "--speed", "max", "--ground", "25,40", "--users", "alice:a-pass,bob:b-pass", "--password", "secret", "--max-clients", "200"])
  }, 60_000)
  afterAll(() => server?.child.kill("SIGKILL"))

  it("redis-cli: AUTH, SET/GET, NX/XX, EX, MSET/MGET, EXISTS, DEL, STRLEN, DBSIZE, INFO, errors as Redis words them", async () => {
    const p = server.port
    expect(await cli(p, "GET", "k")).toBe("NOAUTH Authentication required.")
    expect((await raw(p, "AUTH wrong\r\nAUTH alice nope\r\nAUTH secret\r\nPING\r\nQUIT\r\n")).reply).toBe(
      "-WRONGPASS invalid username-password pair or user is disabled.\r\n-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n+PONG\r\n+OK\r\n"
    )
    const a = (...args: Array<string>) => cli(p, "--user", "alice", "--pass", "a-pass", "--no-auth-warning", ...args)
    expect(await a("PING")).toBe("PONG")
    expect(await a("SET", "lmcache:model@v1:chunk:0", "hello world")).toBe("OK")
    expect(await a("GET", "lmcache:model@v1:chunk:0")).toBe("hello world")
    expect(await a("STRLEN", "lmcache:model@v1:chunk:0")).toBe("11")
    expect(await a("SET", "lmcache:model@v1:chunk:0", "again", "NX")).toBe("")
    expect(await a("SET", "absent", "x", "XX")).toBe("")
    expect(await a("MSET", "m1", "one", "m2", "two")).toBe("OK")
    expect(await a("MGET", "m1", "nope", "m2")).toBe("one\n\ntwo")
    expect(await a("EXISTS", "m1", "m2", "nope")).toBe("2")
    expect(await a("DEL", "m1", "nope")).toBe("1")
    expect(await a("GET", "m1")).toBe("")
    expect(await a("DBSIZE")).toBe("2")
    expect(await a("SET", "short", "lived", "PX", "1")).toBe("OK")
    // Virtual time moves with every job: the 1-ms entry is gone by the next command.
    expect(await a("GET", "short")).toBe("")
    expect(await a("SET", "x", "y", "EX", "0")).toBe("ERR invalid expire time in 'set' command")
    expect(await a("SET", "x", "y", "PX", "soon")).toBe("ERR value is not an integer or out of range")
    expect(await a("SET", "x", "y", "NX", "XX")).toBe("ERR syntax error")
    expect(await a("GET")).toBe("ERR wrong number of arguments for 'get' command")
    expect(await a("FLUSHALL", "now")).toBe("ERR unknown command 'FLUSHALL', with args beginning with: 'now'")
    expect(await a("SELECT", "99")).toBe("ERR DB index is out of range")
    const info = await a("INFO", "constellation")
    expect(info).toMatch(/^# Constellation/)
    expect(info).toMatch(/satellites:95/)
    // The GETs so far: GET and STRLEN of the first key, MGET's three, then the deleted and the expired key.
    expect([/^gets:(.*)$/m, /^hits:(.*)$/m, /^hit_rate:(.*)$/m].map((r) => info.match(r)?.[1]?.trim())).toEqual(["7", "4", "0.571429"])
    expect(await a("SET", "later", "v", "EX", "100")).toBe("OK")
    expect((await a("INFO", "keyspace")).split(/\r?\n/)).toEqual(["# Keyspace", "db0:keys=3,expires=1,avg_ttl=0"])
    // Databases are apart: the same name in db 1 is another value.
    expect(await a("-n", "1", "SET", "lmcache:model@v1:chunk:0", "db one")).toBe("OK")
    expect(await a("-n", "1", "GET", "lmcache:model@v1:chunk:0")).toBe("db one")
    expect(await a("-n", "1", "DBSIZE")).toBe("1")
    // Tenants: bob sees none of alice's keys.
    const b = (...args: Array<string>) => cli(p, "--user", "bob", "--pass", "b-pass", "--no-auth-warning", ...args)
    expect(await b("GET", "lmcache:model@v1:chunk:0")).toBe("")
    expect(await b("DBSIZE")).toBe("0")
    expect(await b("SET", "lmcache:model@v1:chunk:0", "bob's")).toBe("OK")
    expect(await a("GET", "lmcache:model@v1:chunk:0")).toBe("hello world")
    expect(await b("GET", "lmcache:model@v1:chunk:0")).toBe("bob's")
  }, 60_000)

  it("the command table at its edges: too few arguments, option order, names that are not commands, HELLO 3 switching the replies", async () => {
    const p = server.port
    const inline = (...lines: Array<string>) => Buffer.from(lines.map((l) => `${l}\r\n`).join(""))
    const { reply } = await raw(p, Buffer.concat([
      inline("AUTH secret", "SET k", "MSET a 1 b", "SET x y XX NX", "SELECT 16", "SELECT 15", "COMMAND COUNT", "CONSTRUCTOR", "__proto__"),
      encode(["CLIENT", "SETNAME", "a b"].map((a) => Buffer.from(a))),
      inline("HELLO 3", "GET nothing", "QUIT")
    ]))
    const [beforeHello, hello] = reply.split(/(?=%7\r\n)/)
    expect(beforeHello!.split("\r\n")).toEqual([
      "+OK",
      "-ERR wrong number of arguments for 'set' command",
      "-ERR wrong number of arguments for 'mset' command",
      "-ERR syntax error",
      "-ERR DB index is out of range",
      "+OK",
      `:${Object.keys(commands).length}`,
      "-ERR unknown command 'CONSTRUCTOR', with args beginning with: ",
      "-ERR unknown command '__proto__', with args beginning with: ",
      "-ERR Client names cannot contain spaces, newlines or special characters.",
      ""
    ])
    // RESP3 from HELLO 3 on: a map, then a null as "_".
    expect(hello).toMatch(/^%7\r\n\$6\r\nserver\r\n[\s\S]*\$5\r\nproto\r\n:3\r\n[\s\S]*\r\n_\r\n\+OK\r\n$/)
    // Before AUTH, HELLO 3 is refused and the connection stays in RESP2; so is a bare HELLO. (Redis 7.0
    // takes HELLO's SETNAME even so, and so does this front end.)
    expect((await raw(p, "HELLO 3\r\nGET k\r\nQUIT\r\n")).reply).toMatch(/^-NOAUTH HELLO must be called with the client already authenticated[^\r]*\r\n-NOAUTH Authentication required.\r\n\+OK\r\n$/)
    const noauth = "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
    expect((await raw(p, "HELLO\r\nHELLO 2 SETNAME early\r\nAUTH secret\r\nCLIENT GETNAME\r\nQUIT\r\n")).reply.split("\r\n")).toEqual([noauth, noauth, "+OK", "$5", "early", "+OK", ""])
    // Options at their edges, each reply as Debian's redis-server 7.0.15 gives it for the same bytes.
    const edges = (await raw(p, Buffer.concat([
      inline("AUTH secret", "SET x y EX 1 EX 2", "SET x y EX 1 PX 2", "SET x y EX 99999999999999999999", "SET x y EX -5", "AUTH a b c", "PING a b", "HELLO 2"),
      encode(["CLIENT", "SETNAME", "a\tb"].map((a) => Buffer.from(a))),
      encode(["HELLO", "2", "SETNAME", "x\ny"].map((a) => Buffer.from(a))),
      encode(["CLIENT", "SETNAME", "café"].map((a) => Buffer.from(a))),
      inline("CLIENT SETNAME ok-name", "CLIENT GETNAME"),
      encode(["CLIENT", "SETNAME", ""].map((a) => Buffer.from(a))),
      inline("CLIENT GETNAME", "CLIENT SETNAME again", "QUIT")
    ]))).reply
    expect(edges.split(/(?=\*14\r\n)/).map((part, k) => (k === 1 ? part.slice(0, 26) : part))).toEqual([
      "+OK\r\n+OK\r\n-ERR syntax error\r\n-ERR value is not an integer or out of range\r\n-ERR invalid expire time in 'set' command\r\n" +
        "-ERR syntax error\r\n-ERR wrong number of arguments for 'ping' command\r\n",
      "*14\r\n$6\r\nserver\r\n$5\r\nredis"
    ])
    const badName = "-ERR Client names cannot contain spaces, newlines or special characters."
    expect(edges.slice(edges.indexOf("modules")).split("\r\n").slice(2)).toEqual([badName, badName, badName, "+OK", "$7", "ok-name", "+OK", "$-1", "+OK", "+OK", ""])
    // Integers as Redis reads them, subcommands' arities, and a client's bytes echoed back as they came
    // (latin1 both ways: "\u00c3\u00a9" is UTF-8's é); each reply as Debian's redis-server 7.0.15 gives it.
    const lines = [
      "CLIENT GETNAME x", "CLIENT SETNAME", "CLIENT ID 1", "CLIENT Xy", "COMMAND COUNT 1", "COMMAND FOO", "SELECT 01", "SELECT -0", "SET a b EX 01",
      "SET a b EX 9999999999999999", "SET a b EX 9223372036854775", "SET a b PX 9223372036854775807", "SELECT 9999999999999999", "SELECT -2147483649",
      "HELLO -0", "HELLO 1", "HELLO 3 AUTH default", "FOO a b c d e", `FOO ${"a".repeat(200)} b`, "FOO caf\u00c3\u00a9 \u00ff", "HELLO 2 B\u00c3\u00a9", "CLIENT X\u00c3\u00a9"
    ]
    const asRedis = (await raw(p, Buffer.concat(["AUTH secret", ...lines, "QUIT"].map((l) => encode(l.split(" ").map((w) => Buffer.from(w, "latin1"))))))).reply
    const wrongArity = (c: string) => `-ERR wrong number of arguments for '${c}' command`
    const notInt = "-ERR value is not an integer or out of range", badExpire = "-ERR invalid expire time in 'set' command"
    const outOfInt = "-ERR value is out of range, value must between -2147483648 and 2147483647"
    const unknown = "-ERR unknown command 'FOO', with args beginning with: "
    expect(asRedis.split("\r\n")).toEqual([
      "+OK", wrongArity("client|getname"), wrongArity("client|setname"), wrongArity("client|id"), "-ERR unknown subcommand 'Xy'. Try CLIENT HELP.",
      wrongArity("command|count"), "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.", notInt, notInt, notInt, badExpire, badExpire, badExpire,
      outOfInt, outOfInt, "-ERR Protocol version is not an integer or out of range", "-NOPROTO unsupported protocol version",
      "-ERR Syntax error in HELLO option 'AUTH'", `${unknown}'a' 'b' 'c' 'd' 'e' `, `${unknown}'${"a".repeat(128)}' `, `${unknown}'caf\u00c3\u00a9' '\u00ff' `,
      "-ERR Syntax error in HELLO option 'B\u00c3\u00a9'", "-ERR unknown subcommand 'X\u00c3\u00a9'. Try CLIENT HELP.", "+OK", ""
    ])
    // COMMAND INFO of names the table's prototype has is nil, as of any other name that is no command.
    expect((await raw(p, "AUTH secret\r\nCOMMAND INFO constructor __proto__ nosuch\r\nQUIT\r\n")).reply).toBe("+OK\r\n*3\r\n*-1\r\n*-1\r\n*-1\r\n+OK\r\n")
    // HELLO 2 after HELLO 3 goes back to RESP2's nulls; CLIENT ID is the connection's HELLO id.
    const back = (await raw(p, "AUTH secret\r\nHELLO 3\r\nHELLO 2\r\nGET nothing\r\nCLIENT ID\r\nQUIT\r\n")).reply
    const id = /\$2\r\nid\r\n:(\d+)\r\n/.exec(back)![1]
    expect(back.slice(back.lastIndexOf("modules")).split("\r\n").slice(2)).toEqual(["$-1", `:${id}`, "+OK", ""])
    // HELLO's SETNAME with an empty name removes it too.
    expect((await raw(p, Buffer.concat([inline("AUTH secret", "CLIENT SETNAME n"), encode(["HELLO", "2", "SETNAME", ""].map((a) => Buffer.from(a))), inline("CLIENT GETNAME", "QUIT")]))).reply.split("\r\n").slice(-4)).toEqual(["*0", "$-1", "+OK", ""])
  }, 60_000)

  it("the redis client: 1 MiB of random bytes round trips exactly, pipelined commands, 50 connections at once, RESP3", async () => {
    const url = `redis://alice:a-pass@127.0.0.1:${server.port}`
    const client = await createClient({ url }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).connect()
    const value = randomBytes(2 ** 20)
    expect(await client.set("blob:1", value)).toBe("OK")
    const back = await client.get("blob:1")
    expect(Buffer.compare(back as Buffer, value)).toBe(0)
    // Pipelined: many commands written before any reply is read; replies in order.
    const keys = Array.from({ length: 40 }, (_, i) => `pipe:${i}`)
    const multi = client.multi()
    for (const k of keys) multi.set(k, `v-${k}`)
    for (const k of keys) multi.get(k)
    const replies = await multi.execAsPipeline()
    expect(replies.slice(40).map(String)).toEqual(keys.map((k) => `v-${k}`))
    await client.quit()
    const clients = await Promise.all(Array.from({ length: 50 }, () => createClient({ url }).connect()))
    const got = await Promise.all(clients.map(async (c, i) => {
      await c.set(`conn:${i}`, `from ${i}`)
      return c.get(`conn:${i}`)
    }))
    expect(got).toEqual(clients.map((_, i) => `from ${i}`))
    await Promise.all(clients.map((c) => c.quit()))
    const resp3 = await createClient({ url, RESP: 3 }).connect()
    expect(await resp3.get("conn:7")).toBe("from 7")
    expect(await resp3.get("missing")).toBeNull()
    await resp3.quit()
  }, 120_000)

  it("redis-benchmark runs against it without errors", async () => {
    const { stdout } = await exec("redis-benchmark", ["-p", String(server.port), "--user", "alice", "-a", "a-pass", "-t", "set,get", "-n", "300", "-c", "10", "-d", "1024", "-q", "--csv"])
    const rows = stdout.trim().split("\n").filter((l) => /^"(SET|GET)"/.test(l))
    expect(rows.map((r) => r.split(",")[0])).toEqual(['"SET"', '"GET"'])
    for (const r of rows) expect(Number(r.split(",")[1]!.replace(/"/g, ""))).toBeGreaterThan(0)
  }, 120_000)

  it("hostile bytes: oversized bulk lengths, nested arrays and endless lines get an error and a closed connection; others are unaffected", async () => {
    const p = server.port
    const huge = await raw(p, "*2\r\n$3\r\nGET\r\n$999999999999\r\n")
    expect(huge).toEqual({ reply: expect.stringMatching(/^-ERR Protocol error: bulk length \d+ over the limit/), closed: true })
    const nested = await raw(p, "*1\r\n*1\r\n*1\r\n$4\r\nPING\r\n")
    expect(nested).toEqual({ reply: "-ERR Protocol error: expected '$', got '*'\r\n", closed: true })
    const endless = await raw(p, Buffer.alloc(70 * 1024, 0x61), 5000)
    expect(endless).toEqual({ reply: "-ERR Protocol error: too big inline request\r\n", closed: true })
    const garbage = await raw(p, "*x\r\n")
    expect(garbage).toEqual({ reply: "-ERR Protocol error: invalid multibulk length\r\n", closed: true })
    // A client that leaves mid-request takes nothing of anyone else's.
    const partial = connect(p, "127.0.0.1")
    partial.write("*3\r\n$3\r\nSET\r\n$4\r\nkeep\r\n$100\r\nhalf")
    await new Promise((r) => setTimeout(r, 200))
    partial.destroy()
    expect(await cli(p, "--user", "alice", "--pass", "a-pass", "--no-auth-warning", "GET", "keep")).toBe("")
    expect(await cli(p, "--user", "alice", "--pass", "a-pass", "--no-auth-warning", "GET", "lmcache:model@v1:chunk:0")).toBe("hello world")
    // Inline commands, as telnet sends them.
    expect((await raw(p, "AUTH alice a-pass\r\nPING\r\nQUIT\r\n")).reply).toBe("+OK\r\n+PONG\r\n+OK\r\n")
    // Before AUTH, as Redis 7: 10 arguments and 16 KiB an argument at most; after it, the set limits.
    expect(await raw(p, "*11\r\n")).toEqual({ reply: "-ERR Protocol error: unauthenticated multibulk length\r\n", closed: true })
    expect(await raw(p, "*1\r\n$16385\r\n")).toEqual({ reply: "-ERR Protocol error: unauthenticated bulk length\r\n", closed: true })
    const big = Buffer.alloc(20000, 0x62)
    const afterAuth = await raw(p, Buffer.concat([encode(["AUTH", "secret"].map((a) => Buffer.from(a))), encode([Buffer.from("SET"), Buffer.from("big"), big]), encode([Buffer.from("STRLEN"), Buffer.from("big")]), Buffer.from("QUIT\r\n")]))
    expect(afterAuth).toEqual({ reply: "+OK\r\n+OK\r\n:20000\r\n+OK\r\n", closed: true })
  }, 60_000)

  it("a client that stops reading is not served past what the socket holds (backpressure); others are served meanwhile", async () => {
    const p = server.port
    const a = (...args: Array<string>) => cli(p, "--user", "alice", "--pass", "a-pass", "--no-auth-warning", ...args)
    const client = await createClient({ url: `redis://alice:a-pass@127.0.0.1:${p}` }).connect()
    await client.set("big", randomBytes(256 * 1024))
    await client.set("small", "still served")
    const gets = async () => Number(/gets:(\d+)/.exec(await client.info("constellation"))![1])
    const before = await gets()
    // 400 GETs of 256 KiB (100 MiB of replies) pipelined by a client that never reads.
    const stalled = connect(p, "127.0.0.1")
    stalled.pause()
    stalled.write("AUTH alice a-pass\r\n" + "GET big\r\n".repeat(400))
    await new Promise((r) => setTimeout(r, 2000))
    const served = (await gets()) - before
    expect(served).toBeGreaterThan(0)
    // The kernel's buffers hold a few MiB of replies; the rest waits unread, on the client's side.
    expect(served).toBeLessThan(100)
    expect(await a("GET", "small")).toBe("still served")
    await new Promise((r) => setTimeout(r, 500))
    // Nothing more from the stalled client: only the one GET of "small" since.
    expect((await gets()) - before).toBe(served + 1)
    stalled.destroy()
    await client.quit()
  }, 60_000)

  it("refuses connections over --max-clients and stops on SIGTERM with exit code 0", async () => {
    const small = await startServer(["--preset", "paper-19x5", "--speed", "max", "--ground", "25,40", "--max-clients", "2"])
    const held = [connect(small.port, "127.0.0.1"), connect(small.port, "127.0.0.1")]
    await new Promise((r) => setTimeout(r, 300))
    expect(await raw(small.port, "PING\r\n")).toEqual({ reply: "-ERR max number of clients reached\r\n", closed: true })
    for (const h of held) h.destroy()
    await new Promise((r) => setTimeout(r, 300))
    expect((await raw(small.port, "PING\r\nQUIT\r\n")).reply).toBe("+PONG\r\n+OK\r\n")
    const t0 = Date.now()
    const code = new Promise<number | null>((resolve) => small.child.once("exit", (c) => resolve(c)))
    small.child.kill("SIGTERM")
    expect(await code).toBe(0)
    expect(Date.now() - t0).toBeLessThan(1000)
  }, 60_000)
})

describe("the Redis front end at real time", () => {
  it("at --speed 1 a GET waits what the constellation took for it (values deflated in orbit come back as written)", async () => {
    const live = await startServer(["--preset", "paper-19x5", "--speed", "1", "--ground", "25,40", "--codec", "deflate"])
    try {
      const client = await createClient({ url: `redis://127.0.0.1:${live.port}` }).connect()
      const text = "the same words again and again, ".repeat(2000)
      await client.set("long", text)
      expect(await client.get("long")).toBe(text)
      // Deflated before it was chunked: the satellites hold far fewer bytes than were written.
      expect(Number(/bytes_stored:(\d+)/.exec(await client.info("constellation"))![1])).toBeLessThan(text.length / 4)
      await client.set("k", "v")
      const waits: Array<number> = []
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now()
        expect(await client.get("k")).toBe("v")
        waits.push(performance.now() - t0)
      }
      const info = await client.info("constellation")
      await client.quit()
      const fetchP50 = Number(/fetch_ms_p50:([\d.]+)/.exec(info)![1])
      expect(fetchP50).toBeGreaterThan(1)
      // Never sooner than the emulated fetch (a little slack for timer granularity).
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(fetchP50 * 0.9)
    } finally {
      live.child.kill("SIGKILL")
    }
  }, 60_000)
})

describe("the RESP request parser", () => {
  const limits = { maxBulkBytes: 1024, maxArgs: 16, maxInlineBytes: 256 }
  /** The next command of a parser given `bytes`, to be called (and expected to throw, or not). */
  const fails = (bytes: string | Buffer) => {
    const p = new RequestParser(limits)
    p.push(Buffer.from(bytes))
    return () => p.next()
  }

  it("splits inline commands as Redis does: quotes, escapes, a quote opening inside a word; unbalanced quotes refused", () => {
    // Each line and the words Debian's redis-server 7.0.15 echoed for it (ECHO <line>), or its refusal.
    const words = (line: string) => {
      const p = new RequestParser(limits)
      p.push(Buffer.from(`ECHO ${line}\r\n`, "latin1"))
      return p.next()!.slice(1).map((w) => w.toString("latin1"))
    }
    expect(words('"a b"')).toEqual(["a b"])
    expect(words("'it\\'s'")).toEqual(["it's"])
    expect(words('"\\x41\\n\\t\\\\\\"z"')).toEqual(['A\n\t\\"z'])
    expect(words('"\\xZZ"')).toEqual(["xZZ"])
    expect(words("'a\\nb'")).toEqual(["a\\nb"])
    expect(words('""')).toEqual([""])
    expect(words('a"b c"')).toEqual(["ab c"])
    expect(words('"\\xff\\x00"')).toEqual(["\xff\x00"])
    expect(words("x'y'")).toEqual(["xy"])
    expect(words("\vv\fw")).toEqual(["v\fw"])
    // A NUL byte ends the words. (Not as redis-server 7.0.15: it never finds the end of such a line, and
    // answers nothing until 64 KiB more arrive, then "too big inline request".)
    expect(words("a b\0c")).toEqual(["a", "b"])
    for (const bad of ['a"b c"d', '"open', '"a\\', "'x'y", '"a\0"']) expect(fails(`ECHO ${bad}\r\n`)).toThrow(/^unbalanced quotes in request$/)
  })

  it("any commands, cut into any pieces, come out whole and in order", () => {
    fc.assert(fc.property(
      fc.array(fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
      (commands, cuts) => {
        const bytes = Buffer.concat(commands.map(encode))
        const p = new RequestParser(limits)
        const out: Array<Array<Buffer>> = []
        for (let i = 0, k = 0; i < bytes.length; k++) {
          const n = cuts[k % cuts.length]!
          p.push(bytes.subarray(i, i + n))
          i += n
          for (let c = p.next(); c !== undefined; c = p.next()) out.push(c)
        }
        expect(out.map((c) => c.map((a) => a.toString("hex")))).toEqual(commands.map((c) => c.map((a) => Buffer.from(a).toString("hex"))))
        expect(p.buffered).toBe(0)
      }
    ), { numRuns: 200 })
  })

  it("arbitrary bytes never crash it and never buffer past the limits", () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
      const p = new RequestParser(limits)
      try {
        for (const c of chunks) {
          p.push(c)
          for (let cmd = p.next(); cmd !== undefined; cmd = p.next()) expect(cmd.length).toBeLessThanOrEqual(limits.maxArgs)
          // What waits for more is at most one argument's worth plus headers, or one inline line.
          expect(p.buffered).toBeLessThanOrEqual(limits.maxBulkBytes + limits.maxInlineBytes + 300 + 64)
        }
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError)
      }
    }), { numRuns: 500 })
  })

  it("a truncated command waits; over-limit lengths are refused before their bytes arrive", () => {
    const p = new RequestParser(limits)
    const whole = encode([Buffer.from("SET"), Buffer.from("k"), Buffer.alloc(100, 1)])
    for (let n = 0; n < whole.length; n++) {
      const q = new RequestParser(limits)
      q.push(whole.subarray(0, n))
      expect(q.next()).toBeUndefined()
    }
    p.push(Buffer.from("*1\r\n$2000\r\n"))
    expect(() => p.next()).toThrow(/bulk length 2000 over the limit of 1024/)
    const q = new RequestParser(limits)
    q.push(Buffer.from("*17\r\n"))
    expect(() => q.next()).toThrow(/multibulk length 17 over the limit of 16/)
  })

  it("a line that never ends is refused once it passes its limit, not buffered for ever", () => {
    expect(fails(`*${"1".repeat(40)}`)).toThrow(/^multibulk length line too long$/)
    expect(fails(`*1\r\n$${"9".repeat(40)}`)).toThrow(/^bulk length line too long$/)
    expect(fails("a".repeat(limits.maxInlineBytes + 1))).toThrow(/^too big inline request$/)
    // Up to the limits they wait for the rest.
    expect(fails("*1".padEnd(32, "1"))()).toBeUndefined()
    expect(fails("a".repeat(limits.maxInlineBytes))()).toBeUndefined()
    // The same, arriving a few bytes at a time: refused at the read that takes it past its limit.
    // `taken`: bytes of `head` parsed already (the arguments before the line); the limit counts the line's.
    const trickle = (head: string, taken: number, limit: number, error: RegExp) => {
      const p = new RequestParser(limits)
      p.push(Buffer.from(head))
      expect(p.next()).toBeUndefined()
      for (let line = head.length - taken; line + 4 <= limit; line += 4) {
        p.push(Buffer.from("1111"))
        expect(p.next()).toBeUndefined()
      }
      p.push(Buffer.from("1111"))
      expect(() => p.next()).toThrow(error)
    }
    trickle("*", 0, 32, /^multibulk length line too long$/)
    trickle("*2\r\n$3\r\nGET\r\n$", 13, 32, /^bulk length line too long$/)
    trickle("ECHO ", 0, limits.maxInlineBytes, /^too big inline request$/)
    // A line ended by a bare newline, in two reads, is taken at the second.
    const bare = new RequestParser(limits)
    bare.push(Buffer.from("PI"))
    expect(bare.next()).toBeUndefined()
    bare.push(Buffer.from("NG\n"))
    expect(bare.next()!.map(String)).toEqual(["PING"])
  })

  it("a command's arguments are its own: the bytes received can be reused once it is taken", () => {
    const p = new RequestParser(limits)
    const received = Uint8Array.from(encode([Buffer.from("SET"), Buffer.from("k"), Buffer.from("value")]))
    p.push(received)
    const cmd = p.next()!
    received.fill(0)
    expect(cmd.map(String)).toEqual(["SET", "k", "value"])
  })

  it("copies what arrives about once, however it is cut: a large value in small reads, many arguments, a long inline line", () => {
    // Bytes Buffer.concat copies while the parser takes each command, against the command's own size.
    const copied = (cmd: Buffer, read: number, p = new RequestParser({ maxBulkBytes: 2 ** 26, maxArgs: 2 ** 20, maxInlineBytes: 2 ** 20 })) => {
      const concat = vi.spyOn(Buffer, "concat")
      try {
        let got: Array<Buffer> | undefined
        for (let o = 0; o < cmd.length; o += read) {
          p.push(cmd.subarray(o, o + read))
          got = p.next() ?? got
        }
        expect(got).toBeDefined()
        return concat.mock.results.reduce((n, r) => n + (r.value as Buffer).length, 0) / cmd.length
      } finally {
        concat.mockRestore()
      }
    }
    const big = encode([Buffer.from("SET"), Buffer.from("k"), Buffer.alloc(8 * 2 ** 20, 0x61)])
    const many = encode(Array.from({ length: 50_000 }, (_, i) => Buffer.from(`a${i}`)))
    const inline = Buffer.from(`ECHO ${"b".repeat(500_000)}\r\n`)
    // Joined on every read and parsed again from the start, these were 65, 73 and 62 times their size.
    expect(copied(big, 65536)).toBeLessThan(1.1)
    expect(copied(many, 4096)).toBeLessThan(1.1)
    expect(copied(inline, 4096)).toBeLessThan(1.1)
  })

  it("refuses what Redis refuses: a negative bulk length, a length that is no number, a length line without CR, a bulk not ended by CRLF, an inline line over the limit; skips empty commands", () => {
    expect(fails("*1\r\n$-1\r\n")).toThrow(/^invalid bulk length$/)
    expect(fails("*1\n$4\r\nPING\r\n")).toThrow(/^malformed multibulk length line$/)
    expect(fails("*1\r\n$4\r\nPINGxx")).toThrow(/^bulk string not followed by CRLF$/)
    expect(fails(Buffer.concat([Buffer.alloc(300, 0x61), Buffer.from("\r\n")]))).toThrow(/^too big inline request$/)
    expect(fails("*1\r\n$4\r\nPING\rx")).toThrow(/^bulk string not followed by CRLF$/)
    expect(fails("*x1\r\n")).toThrow(/^invalid multibulk length$/)
    expect(fails("*1\r\n$x3\r\nabc\r\n")).toThrow(/^invalid bulk length$/)
    // Lengths as Redis reads integers: no leading zero, no "-0", no "+".
    for (const bad of ["*01\r\n", "*-0\r\n", "*+1\r\n"]) expect(fails(bad)).toThrow(/^invalid multibulk length$/)
    for (const bad of ["*1\r\n$04\r\nPING\r\n", "*1\r\n$-0\r\n"]) expect(fails(bad)).toThrow(/^invalid bulk length$/)
    // A bare newline and "*0" are no commands; inline words split on spaces and tabs, CR dropped.
    const p = new RequestParser(limits)
    p.push(Buffer.from("\r\n*0\r\nSET  k\tv\r\n\n*1\r\n$4\r\nPING\r\n"))
    expect([p.next(), p.next(), p.next()].map((c) => c?.map(String))).toEqual([["SET", "k", "v"], ["PING"], undefined])
  })
})

describe("the RESP request parser before AUTH", () => {
  it("takes at most 10 arguments of 16 KiB each until the connection is authenticated, asked command by command", () => {
    let authenticated = false
    const parser = () => new RequestParser(defaultLimits, () => authenticated)
    const take = (p: RequestParser, bytes: Uint8Array) => (p.push(bytes), p.next())
    const args = (n: number) => Array.from({ length: n }, () => Buffer.from("a"))
    expect(take(parser(), encode(args(10)))).toHaveLength(10)
    expect(() => take(parser(), encode(args(11)))).toThrow(/^unauthenticated multibulk length$/)
    expect(take(parser(), encode([Buffer.alloc(16384)]))![0]).toHaveLength(16384)
    // Refused from the length line, before a byte of the argument is buffered.
    expect(() => take(parser(), Buffer.from("*1\r\n$16385\r\n"))).toThrow(/^unauthenticated bulk length$/)
    // AUTH, then a command past those limits, in one read: the limit is asked as each command is parsed.
    const p = parser()
    p.push(Buffer.concat([encode(["AUTH", "pw"].map((a) => Buffer.from(a))), encode([Buffer.from("SET"), Buffer.from("k"), Buffer.alloc(20000)])]))
    expect(p.next()!.map(String)).toEqual(["AUTH", "pw"])
    authenticated = true
    expect(p.next()![2]).toHaveLength(20000)
  })
})

describe("RESP replies", () => {
  const text = (r: Reply, protocol: 2 | 3) => Buffer.concat(encodeReply(r, protocol)).toString("latin1")

  it("encode as Redis 7 does in RESP2 and RESP3: nulls, maps as flat arrays in RESP2, no line breaks inside simple strings and errors", () => {
    const hello = R.map([[R.bulk("proto"), R.int(3)], [R.bulk("modules"), R.array([])]])
    expect(text(hello, 2)).toBe("*4\r\n$5\r\nproto\r\n:3\r\n$7\r\nmodules\r\n*0\r\n")
    expect(text(hello, 3)).toBe("%2\r\n$5\r\nproto\r\n:3\r\n$7\r\nmodules\r\n*0\r\n")
    expect([text(R.bulk(null), 2), text(R.bulk(null), 3), text(R.array(null), 2), text(R.array(null), 3)]).toEqual(["$-1\r\n", "_\r\n", "*-1\r\n", "_\r\n"])
    expect(text(R.array([R.ok, R.bulk(Buffer.from([0, 13, 10, 255]))]), 2)).toBe("*2\r\n+OK\r\n$4\r\n\x00\r\n\xff\r\n")
    expect([text(R.simple("a\r\nb"), 2), text(R.error("ERR x\ny"), 3)]).toEqual(["+a  b\r\n", "-ERR x y\r\n"])
  })
})

describe("AUTH", () => {
  it("compares the password's bytes as sent: one wrong byte, a prefix, an extension, an unknown user and bytes that are no UTF-8 are refused", async () => {
    // U+FFFD is what invalid UTF-8 decodes to: a byte 0xff must not match it.
    const ctx = { tier: undefined as never, users: new Map([["default", "s\uFFFDcret"], ["alice", "a-pass"]]), databases: 16, port: 0, started: 0, connections: () => 1 }
    const auth = async (...words: Array<string | Buffer>) => {
      const s = { id: 1, protocol: 2 as const, user: undefined as string | undefined, db: 0, name: null, closing: false }
      const reply = await commands.auth!.handler(s, ["AUTH", ...words].map((w) => Buffer.from(w as string)), ctx)
      return reply.t === "error" ? reply.s.split(" ")[0] : s.user
    }
    expect(await auth("s\uFFFDcret")).toBe("default")
    expect(await auth(Buffer.from("s\uFFFDcret", "utf8"))).toBe("default")
    expect(await auth(Buffer.from([0x73, 0xff, 0x63, 0x72, 0x65, 0x74]))).toBe("WRONGPASS")
    expect(await auth("alice", "a-pass")).toBe("alice")
    for (const wrong of [["alice", "a-pasS"], ["alice", "a-pas"], ["alice", "a-pass!"], ["alice", ""], ["bob", "a-pass"], ["bob", ""], ["s\uFFFDcre"]]) expect(await auth(...wrong)).toBe("WRONGPASS")
  })
})

describe("the value tier", () => {
  /** A tier on starlink-shell1 for a ground station in Paris, values striped over 4 satellites. */
  const parisTier = (speed = Number.POSITIVE_INFINITY) => new ValueTier({
    preset: "starlink-shell1", catalog: makeRunConfig().catalog, seed: 1, ground: { latDeg: 48.85, lonDeg: 2.35 }, strategy: "hop_rotation",
    codec: "identity", capacityMb: 1024, servers: 4, speed, secret: Buffer.alloc(32, 1)
  })

  it("a key SET again reads back as its last value, or nil where a satellite still holds the older value's share: never a mix of the two", async () => {
    const tier = parisTier()
    const key = Buffer.from("user:42")
    const blockKey = namedValueKey(key, { modelId: "redis-db0", tenantSalt: "default" })
    type Held = { store: ChunkStore<SharePayload> }
    const stores = () => Array.from({ length: tier.kv.world.satellites }, (_, s) => (tier.kv.engine.stateOf(s) as Held).store).filter((st) => st.has(blockKey))
    // Two 12,288-byte chunks on each of the 4 satellites.
    const [older, newer, latest] = [0, 1, 2].map(() => randomBytes(8 * 12_288))
    await tier.set("default", 0, [{ key, value: older! }])
    const olderShares = stores().map((st) => [st, st.read(blockKey)!] as const)
    expect(olderShares).toHaveLength(4)
    await tier.set("default", 0, [{ key, value: newer! }])
    expect(Buffer.from((await tier.get("default", 0, key))!)).toEqual(newer)
    // One put of the newer value lost for good: its satellite still holds the older value's share.
    const [st, entry] = olderShares[2]!
    expect(st.put(blockKey, entry.bytes, entry.payload)).toBe(true)
    expect(await tier.get("default", 0, key)).toBeNull()
    expect(tier.counters.corrupt).toBeGreaterThan(0)
    // Written again, whole: read back whole. Set twice in one MSET: the later is the one read.
    await tier.set("default", 0, [{ key, value: older! }, { key, value: latest! }])
    expect(Buffer.from((await tier.get("default", 0, key))!)).toEqual(latest)
    await tier.close()
  })

  it("a TTL counts from when its SET runs; a key deleted while its GET is fetched answers nil; idle, virtual time follows the wall clock at the tier's speed", async () => {
    const tier = parisTier()
    const [k, v] = [Buffer.from("session"), Buffer.from("token")]
    await tier.kv.advance(30)
    await tier.set("default", 0, [{ key: k, value: v, ttlSeconds: 10 }])
    await tier.kv.advance(5)
    expect([tier.exists("default", 0, k), tier.size("default", 0)]).toEqual([true, { keys: 1, expires: 1 }])
    const fetching = tier.get("default", 0, k)
    expect(tier.del("default", 0, [k])).toBe(1)
    expect(await fetching).toBeNull()
    await tier.close()
    // 40 virtual seconds per wall second: after 250 ms idle, at least 10 virtual seconds have passed.
    const wall0 = performance.now()
    const paced = parisTier(40)
    const start = paced.now
    await new Promise((r) => setTimeout(r, 250))
    await paced.idle()
    const advanced = paced.now - start
    expect(advanced).toBeGreaterThanOrEqual(10)
    expect(advanced).toBeLessThanOrEqual(40 * ((performance.now() - wall0) / 1e3))
    await paced.close()
  })

  it("the index holds live keys only: DEL of keys never written adds nothing, a deleted or expired key leaves it, and a key never written reads nil without a fetch", async () => {
    const tier = parisTier()
    const indexed = async () => (await tier.figures()).keys_indexed
    const keys = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`${prefix}:${i}`))
    expect(tier.del("default", 0, keys("never", 10_000))).toBe(0)
    expect(await indexed()).toBe(0)
    // Answered here: no message goes up, and the constellation's clock does not move.
    const before = [tier.counters.gets, (await tier.kv.report()).delivered, tier.now]
    expect(await tier.get("default", 0, Buffer.from("never:1"))).toBeNull()
    expect([tier.counters.gets, (await tier.kv.report()).delivered, tier.now]).toEqual([before[0]! + 1, before[1], before[2]])
    await tier.set("default", 0, keys("kept", 10).map((key) => ({ key, value: Buffer.from("v") })))
    await tier.set("default", 0, keys("brief", 50).map((key) => ({ key, value: Buffer.from("v"), ttlSeconds: 1 })))
    expect(await indexed()).toBe(60)
    expect(tier.del("default", 0, keys("kept", 4))).toBe(4)
    expect(await indexed()).toBe(56)
    // Expired: gone from the index at the next sweep (once a wall second), read or not.
    await tier.kv.advance(2)
    expect(await tier.get("default", 0, Buffer.from("brief:0"))).toBeNull()
    expect(await indexed()).toBe(55)
    await new Promise((r) => setTimeout(r, 1100))
    await tier.idle()
    expect(await indexed()).toBe(6)
    expect(tier.size("default", 0)).toEqual({ keys: 6, expires: 0 })
    expect(Buffer.from((await tier.get("default", 0, Buffer.from("kept:9")))!).toString()).toBe("v")
    await tier.close()
  })

  it("commands take effect in the order they run: SET NX racing a SET finds it set, a DEL run while a SET lands stays deleted, a failed SET leaves the key as it was", async () => {
    const tier = parisTier()
    const ctx = { tier, users: new Map<string, string>(), databases: 16, port: 0, started: 0, connections: () => 2 }
    const session = (id: number) => ({ id, protocol: 2 as const, user: "default", db: 0, name: null, closing: false })
    const args = (...words: Array<string>) => words.map((w) => Buffer.from(w))
    const read = async (key: string) => {
      const v = await tier.get("default", 0, Buffer.from(key))
      return v === null ? null : Buffer.from(v).toString()
    }
    // Two connections' SET NX of one key, the second run while the first's puts are in flight: one wins.
    const first = commands.set!.handler(session(1), args("SET", "lock", "a", "NX"), ctx)
    const second = commands.set!.handler(session(2), args("SET", "lock", "b", "NX"), ctx)
    expect(await Promise.all([first, second])).toEqual([R.ok, R.bulk(null)])
    expect(await read("lock")).toBe("a")
    // XX while a first SET lands: the key exists.
    const landing = commands.set!.handler(session(1), args("SET", "k", "v1"), ctx)
    expect(await commands.set!.handler(session(2), args("SET", "k", "v2", "XX"), ctx)).toEqual(R.ok)
    await landing
    expect(await read("k")).toBe("v2")
    // A DEL run while a SET lands: deleted, and it stays so once the SET is done.
    const set = tier.set("default", 0, [{ key: Buffer.from("gone"), value: Buffer.from("x") }])
    expect(tier.del("default", 0, [Buffer.from("gone")])).toBe(1)
    await set
    expect(tier.exists("default", 0, Buffer.from("gone"))).toBe(false)
    expect(await read("gone")).toBeNull()
    // A SET whose job fails (as a job past its time limit does) leaves each key as it was, unless a later
    // command has set it meanwhile.
    const storeValues = tier.kv.storeValues.bind(tier.kv)
    const failing = (values: ReadonlyArray<Uint8Array>) => values.some((v) => Buffer.from(v).subarray(1).toString() === "v3")
    Object.assign(tier.kv, { storeValues: (...a: Parameters<typeof storeValues>) => (failing(a[1]) ? Promise.reject(new Error("job did not finish")) : storeValues(...a)) })
    const fails = tier.set("default", 0, [{ key: Buffer.from("k"), value: Buffer.from("v3") }, { key: Buffer.from("new"), value: Buffer.from("n") }, { key: Buffer.from("k"), value: Buffer.from("v4") }])
    await expect(fails).rejects.toThrow(/did not finish/)
    expect([tier.exists("default", 0, Buffer.from("k")), tier.exists("default", 0, Buffer.from("new"))]).toEqual([true, false])
    expect(await read("k")).toBe("v2")
    const failsAgain = tier.set("default", 0, [{ key: Buffer.from("k"), value: Buffer.from("v3") }])
    const later = tier.set("default", 0, [{ key: Buffer.from("k"), value: Buffer.from("v5") }])
    await expect(failsAgain).rejects.toThrow(/did not finish/)
    await later
    expect(await read("k")).toBe("v5")
    await tier.close()
  })
})
