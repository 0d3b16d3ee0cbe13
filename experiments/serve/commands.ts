/**
 * The Redis commands the front end speaks, one table: name -> arity and handler. Replies and error texts
 * follow Redis 7's, so redis-cli, redis-benchmark and the redis client read them as they read Redis.
 * Keys and values are bytes throughout (binary-safe); data commands go to the value tier (tier.ts).
 */
import { createHash, timingSafeEqual } from "node:crypto"
import { R, REDIS_INTEGER, type Reply } from "./resp.js"
import type { ValueTier } from "./tier.js"

export interface Session {
  readonly id: number
  protocol: 2 | 3
  /** The authenticated user (a tenant), or undefined before AUTH when a password is required. */
  user: string | undefined
  db: number
  name: string | null
  /** Set by QUIT: reply, then close. */
  closing: boolean
}

export interface ServerContext {
  readonly tier: ValueTier
  /** user -> password; empty: no authentication (everyone is "default"). */
  readonly users: ReadonlyMap<string, string>
  readonly databases: number
  readonly port: number
  readonly started: number
  connections(): number
}

type Handler = (s: Session, args: ReadonlyArray<Buffer>, ctx: ServerContext) => Reply | Promise<Reply>

interface Command {
  /** Redis arity: n exactly n arguments including the name; -n at least n. */
  readonly arity: number
  /** Runs before AUTH. */
  readonly open?: boolean
  readonly handler: Handler
}

const str = (b: Buffer) => b.toString("utf8")
/** A client's bytes echoed in an error as they came (replies are written as latin1: byte for byte). */
const echo = (b: Buffer, max = Number.POSITIVE_INFINITY) => b.toString("latin1", 0, Math.min(b.length, max))
const lower = (b: Buffer) => b.toString("latin1").toLowerCase()
const wrongArgs = (name: string) => R.error(`ERR wrong number of arguments for '${name}' command`)
const syntax = R.error("ERR syntax error")
const notInteger = R.error("ERR value is not an integer or out of range")
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
/** An argument as Redis reads an integer (string2ll): undefined unless it is one and fits 64 bits. */
const int64 = (b: Buffer | undefined): bigint | undefined => {
  const t = b?.toString("latin1") ?? ""
  if (!REDIS_INTEGER.test(t)) return undefined
  const n = BigInt(t)
  return n >= INT64_MIN && n <= INT64_MAX ? n : undefined
}
const integer = (b: Buffer | undefined): number | undefined => {
  const n = int64(b)
  return n === undefined ? undefined : Number(n)
}
/**
 * SET's EX or PX as Redis 7.0 checks it: not positive, or past what a 64-bit millisecond deadline holds
 * (seconds over LLONG_MAX / 1000, or the deadline from now overflowing), is an invalid expire time.
 */
const expireSeconds = (b: Buffer | undefined, unit: "ex" | "px"): number | Reply => {
  const n = int64(b)
  if (n === undefined) return notInteger
  const invalid = R.error("ERR invalid expire time in 'set' command")
  if (n <= 0n || (unit === "ex" && n > INT64_MAX / 1000n)) return invalid
  const ms = unit === "ex" ? n * 1000n : n
  if (ms + BigInt(Date.now()) > INT64_MAX) return invalid
  return Number(ms) / 1e3
}

/**
 * Name the client as Redis does (CLIENT SETNAME, HELLO SETNAME): a name with any byte outside ! to ~
 * is refused (the error reply), an empty one removes the name; undefined once named.
 */
const nameClient = (s: Session, name: string): Reply | undefined => {
  if (/[^!-~]/.test(name)) return R.error("ERR Client names cannot contain spaces, newlines or special characters.")
  s.name = name === "" ? null : name
  return undefined
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest()

/**
 * A password compared as the bytes sent (decoded as UTF-8, two different invalid byte strings would
 * both read as U+FFFD), in time that does not tell where a guess first differs, as Redis's
 * time_independent_strcmp: the digests have one length, so timingSafeEqual applies; an unknown user
 * takes the same time.
 */
const passwordMatches = (given: Buffer, expected: string | undefined): boolean =>
  timingSafeEqual(sha256(given), sha256(Buffer.from(expected ?? "", "utf8"))) && expected !== undefined

const authenticate = (s: Session, ctx: ServerContext, user: string, password: Buffer): Reply => {
  if (!passwordMatches(password, ctx.users.get(user))) return R.error("WRONGPASS invalid username-password pair or user is disabled.")
  s.user = user
  return R.ok
}

const hello = (s: Session, args: ReadonlyArray<Buffer>, ctx: ServerContext): Reply => {
  let v: 2 | 3 | undefined
  if (args.length > 1) {
    const asked = integer(args[1])
    if (asked === undefined) return R.error("ERR Protocol version is not an integer or out of range")
    if (asked !== 2 && asked !== 3) return R.error("NOPROTO unsupported protocol version")
    v = asked
    for (let i = 2; i < args.length; i++) {
      const opt = lower(args[i]!)
      if (opt === "auth" && args[i + 2] !== undefined) {
        const r = authenticate(s, ctx, str(args[i + 1]!), args[i + 2]!)
        if (r.t === "error") return r
        i += 2
      } else if (opt === "setname" && args[i + 1] !== undefined) {
        // Redis 7.0 names the client here, before it checks that the client may say HELLO at all.
        const refused = nameClient(s, str(args[++i]!))
        if (refused) return refused
      } else return R.error(`ERR Syntax error in HELLO option '${echo(args[i]!)}'`)
    }
  }
  // As Redis words it, with or without a version.
  if (s.user === undefined) return R.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
  if (v !== undefined) s.protocol = v
  return R.map([
    [R.bulk("server"), R.bulk("redis")], [R.bulk("version"), R.bulk("7.0.0")], [R.bulk("proto"), R.int(s.protocol)],
    [R.bulk("id"), R.int(s.id)], [R.bulk("mode"), R.bulk("standalone")], [R.bulk("role"), R.bulk("master")], [R.bulk("modules"), R.array([])]
  ])
}

const set: Handler = async (s, args, ctx) => {
  let ttl: number | undefined
  let unit: "ex" | "px" | undefined
  let nx = false, xx = false
  for (let i = 3; i < args.length; i++) {
    const opt = lower(args[i]!)
    if (opt === "nx" && !xx) nx = true
    else if (opt === "xx" && !nx) xx = true
    // As Redis 7.0: EX and PX exclude each other; one given twice takes its last value.
    else if ((opt === "ex" || opt === "px") && (unit === undefined || unit === opt) && args[i + 1] !== undefined) {
      const seconds = expireSeconds(args[++i], opt)
      if (typeof seconds !== "number") return seconds
      unit = opt
      ttl = seconds
    } else return syntax
  }
  const exists = ctx.tier.exists(s.user!, s.db, args[1]!)
  if ((nx && exists) || (xx && !exists)) return R.bulk(null)
  await ctx.tier.set(s.user!, s.db, [{ key: args[1]!, value: args[2]!, ...(ttl !== undefined ? { ttlSeconds: ttl } : {}) }])
  return R.ok
}

const info = async (s: Session, args: ReadonlyArray<Buffer>, ctx: ServerContext): Promise<Reply> => {
  const section = args[1] ? lower(args[1]) : "all"
  const f = await ctx.tier.figures()
  const sections: Record<string, Array<[string, string | number]>> = {
    server: [["redis_version", "7.0.0"], ["redis_mode", "standalone"], ["skymemory", "emulated LEO constellation"], ["tcp_port", ctx.port], ["uptime_in_seconds", Math.floor((performance.now() - ctx.started) / 1e3)]],
    clients: [["connected_clients", ctx.connections()]],
    keyspace: Array.from({ length: ctx.databases }, (_, db) => [db, ctx.tier.size(s.user!, db)] as const)
      .filter(([, n]) => n.keys > 0).map(([db, n]) => [`db${db}`, `keys=${n.keys},expires=${n.expires},avg_ttl=0`]),
    constellation: Object.entries(f).map(([k, v]) => [k, typeof v === "number" && !Number.isInteger(v) ? Number(v.toFixed(6)) : v])
  }
  const chosen = section === "all" || section === "everything" || section === "default" ? Object.keys(sections) : Object.keys(sections).filter((k) => k === section)
  const text = chosen.map((k) => `# ${k[0]!.toUpperCase()}${k.slice(1)}\r\n${sections[k]!.map(([a, b]) => `${a}:${b}\r\n`).join("")}`).join("\r\n")
  return R.bulk(text)
}

/**
 * A subcommand checked as Redis checks one: unknown, or known with the wrong number of arguments
 * (Redis arity, the container's name included); undefined if it may run.
 */
const subcommandArity = (container: string, sub: string, args: ReadonlyArray<Buffer>, arities: Record<string, number>): Reply | undefined => {
  if (!Object.hasOwn(arities, sub)) return R.error(`ERR unknown subcommand '${echo(args[1]!, 128)}'. Try ${container.toUpperCase()} HELP.`)
  const arity = arities[sub]!
  return (arity > 0 ? args.length !== arity : args.length < -arity) ? wrongArgs(`${container}|${sub}`) : undefined
}

const commandInfo = (name: string, c: Command): Reply => R.array([R.bulk(name), R.int(c.arity), R.array([]), R.int(0), R.int(0), R.int(0)])

export const commands: Record<string, Command> = {
  ping: { arity: -1, handler: (_s, args) => (args.length > 2 ? wrongArgs("ping") : args[1] ? R.bulk(args[1]) : R.simple("PONG")) },
  echo: { arity: 2, handler: (_s, args) => R.bulk(args[1]!) },
  quit: { arity: -1, open: true, handler: (s) => ((s.closing = true), R.ok) },
  hello: { arity: -1, open: true, handler: hello },
  auth: {
    arity: -2, open: true,
    handler: (s, args, ctx) => {
      if (args.length > 3) return syntax
      if (ctx.users.size === 0) return R.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
      return args.length === 2 ? authenticate(s, ctx, "default", args[1]!) : authenticate(s, ctx, str(args[1]!), args[2]!)
    }
  },
  select: {
    arity: 2,
    handler: (s, args, ctx) => {
      const n = integer(args[1])
      if (n === undefined) return notInteger
      if (n < -(2 ** 31) || n >= 2 ** 31) return R.error("ERR value is out of range, value must between -2147483648 and 2147483647")
      if (n < 0 || n >= ctx.databases) return R.error("ERR DB index is out of range")
      s.db = n
      return R.ok
    }
  },
  get: { arity: 2, handler: async (s, args, ctx) => R.bulk(await ctx.tier.get(s.user!, s.db, args[1]!)) },
  set: { arity: -3, handler: set },
  mget: {
    arity: -2,
    // The keys are fetched together (one lookup job), not one after another.
    handler: async (s, args, ctx) => R.array((await Promise.all(args.slice(1).map((key) => ctx.tier.get(s.user!, s.db, key)))).map((v) => R.bulk(v)))
  },
  mset: {
    arity: -3,
    handler: async (s, args, ctx) => {
      if (args.length % 2 !== 1) return wrongArgs("mset")
      const entries = []
      for (let i = 1; i < args.length; i += 2) entries.push({ key: args[i]!, value: args[i + 1]! })
      await ctx.tier.set(s.user!, s.db, entries)
      return R.ok
    }
  },
  exists: { arity: -2, handler: (s, args, ctx) => R.int(args.slice(1).filter((k) => ctx.tier.exists(s.user!, s.db, k)).length) },
  del: { arity: -2, handler: (s, args, ctx) => R.int(ctx.tier.del(s.user!, s.db, args.slice(1))) },
  strlen: { arity: 2, handler: async (s, args, ctx) => R.int((await ctx.tier.get(s.user!, s.db, args[1]!))?.length ?? 0) },
  dbsize: { arity: 1, handler: (s, _args, ctx) => R.int(ctx.tier.size(s.user!, s.db).keys) },
  info: { arity: -1, handler: info },
  client: {
    arity: -2,
    handler: (s, args) => {
      const sub = lower(args[1]!)
      const wrong = subcommandArity("client", sub, args, { setname: 3, getname: 2, id: 2 })
      if (wrong) return wrong
      if (sub === "setname") return nameClient(s, str(args[2]!)) ?? R.ok
      if (sub === "getname") return R.bulk(s.name)
      return R.int(s.id)
    }
  },
  command: {
    arity: -1,
    handler: (_s, args) => {
      const sub = args[1] ? lower(args[1]) : undefined
      if (sub === undefined) return R.array(Object.entries(commands).map(([n, c]) => commandInfo(n, c)))
      const wrong = subcommandArity("command", sub, args, { count: 2, docs: -2, info: -2 })
      if (wrong) return wrong
      if (sub === "count") return R.int(Object.keys(commands).length)
      if (sub === "docs") return R.array([])
      return R.array(args.slice(2).map((a) => {
        const c = commandNamed(lower(a))
        return c ? commandInfo(lower(a), c) : R.array(null)
      }))
    }
  }
}

/** The table's own entries only: "constructor" or "__proto__" is no command (the object's prototype has them). */
const commandNamed = (name: string): Command | undefined => (Object.hasOwn(commands, name) ? commands[name] : undefined)

/** One command: its reply (errors are replies). */
export const execute = async (s: Session, args: ReadonlyArray<Buffer>, ctx: ServerContext): Promise<Reply> => {
  const name = lower(args[0]!)
  const c = commandNamed(name)
  if (c === undefined) {
    // As Redis: arguments while the text is under 128 bytes, each cut to what is left of them.
    let rest = ""
    for (let i = 1; i < args.length && rest.length < 128; i++) rest += `'${echo(args[i]!, 128 - rest.length)}' `
    return R.error(`ERR unknown command '${echo(args[0]!, 128)}', with args beginning with: ${rest}`)
  }
  if ((c.arity > 0 && args.length !== c.arity) || (c.arity < 0 && args.length < -c.arity)) return wrongArgs(name)
  if (s.user === undefined && !c.open) return R.error("NOAUTH Authentication required.")
  return c.handler(s, args, ctx)
}
