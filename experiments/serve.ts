/**
 * The constellation as a Redis-protocol key-value store: real clients (redis-cli, redis-benchmark, the
 * redis npm client, LMCache's Redis backend) SET and GET values that live on emulated satellites, with the
 * constellation's latency, losses, capacity and faults. RESP2, RESP3 through HELLO 3. The first line on
 * stdout is `redis://HOST:PORT`; SIGINT or SIGTERM stops it (exit 0).
 * `npx tsx experiments/serve.ts --preset starlink-shell1 --ground 48.85,2.35 --port 6380 --speed 1`
 * Front end: serve/server.ts (sockets), serve/resp.ts (protocol, limits), serve/commands.ts, serve/tier.ts.
 */
import { randomBytes } from "node:crypto"
import { Effect } from "effect"
import { ConfigError } from "../src/actors/config.js"
import { strategyNames } from "../src/cache/strategies.js"
import { CliError, flag, parseCli, reportError } from "./lib/cli.js"
import { runServer } from "./lib/server-main.js"
import { atFlag, catalogFlags, presetFlag, resolveConstellation } from "./lib/constellation-flags.js"
import { serveResp } from "./serve/server.js"
import { ValueTier, valueCodecs } from "./serve/tier.js"

const FAULTS = ["none", "bit-errors", "message-loss", "isl-flaps"] as const

export const serveSpec = {
  name: "serve",
  summary: "the constellation as a Redis-protocol key-value store for real clients",
  flags: {
    preset: presetFlag("starlink-shell1"),
    ...catalogFlags,
    at: atFlag,
    ground: flag.latLon("the front end's ground station: values are placed around its serving satellite (default 48.85,2.35, Paris)"),
    port: flag.number("TCP port (0: any free port)", 6380, { min: 0, max: 65535, integer: true, placeholder: "P" }),
    host: flag.string("address to listen on (loopback by default; another address exposes the store to the network)", "127.0.0.1", "ADDR"),
    speed: flag.string("virtual seconds per wall second (1: a GET takes what the constellation takes), or max", "1", "X|max"),
    strategy: flag.choice("placement strategy", strategyNames, "hop_rotation"),
    codec: flag.choice("how values are encoded in orbit (lossless)", valueCodecs, "identity"),
    capacityMb: flag.number("store capacity per satellite, MiB", 1024, { min: 1 }),
    servers: flag.number("satellites a value's chunks are striped over (S)", 9, { min: 1, max: 64, integer: true }),
    password: flag.optionalString("require AUTH with this password (the default user)", "PW"),
    users: flag.optionalString("tenants: NAME:PASSWORD,... (AUTH NAME PASSWORD; each has its own key space and HMAC key)", "LIST"),
    fault: flag.choice("a fault to inject: bit-errors (1e-6 per bit per link on shares), message-loss (1% of messages), isl-flaps (each ISL down for a link epoch with probability 0.02)", FAULTS, "none"),
    maxClients: flag.number("most connections at once", 1000, { min: 1, integer: true }),
    maxBulkMb: flag.number("largest argument (a value), MiB", 64, { min: 1 }),
    maxInlineKb: flag.number("longest inline command, KiB", 64, { min: 1 })
  }
}

const parseSpeed = (raw: string): number => {
  if (raw === "max") return Number.POSITIVE_INFINITY
  const x = Number(raw)
  if (!(Number.isFinite(x) && x > 0)) throw new CliError({ flag: "--speed", message: `expected a positive number or max, got "${raw}"` })
  return x
}

const parseUsers = (o: { password: string | undefined; users: string | undefined }): Map<string, string> => {
  const users = new Map<string, string>()
  if (o.password !== undefined) users.set("default", o.password)
  for (const pair of o.users?.split(",") ?? []) {
    const at = pair.indexOf(":")
    if (at <= 0 || at === pair.length - 1) throw new CliError({ flag: "--users", message: `expected NAME:PASSWORD, got "${pair}"` })
    users.set(pair.slice(0, at), pair.slice(at + 1))
  }
  return users
}

/** The world refuses a ground station no satellite serves (config.inferenceSite): here it is --ground. */
const groundChecked = <A>(make: () => A): A => {
  try {
    return make()
  } catch (e) {
    if (e instanceof ConfigError && e.field === "inferenceSite") throw new CliError({ flag: "--ground", message: e.message })
    throw e
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let ready: { o: ReturnType<typeof parseCli<typeof serveSpec.flags>>; tier: ValueTier; users: Map<string, string> } | undefined
  try {
    const o = parseCli(serveSpec)
    const speed = parseSpeed(o.speed)
    const users = parseUsers(o)
    const { catalog } = resolveConstellation(o)
    const tier = groundChecked(() => new ValueTier({
      preset: o.preset, catalog, seed: o.seed, ground: o.ground ?? { latDeg: 48.85, lonDeg: 2.35 }, strategy: o.strategy, codec: o.codec,
      capacityMb: o.capacityMb, servers: o.servers, speed, secret: randomBytes(32),
      ...(o.fault === "bit-errors" ? { faults: { bitErrorRate: 1e-6, lossRate: 0 } } : o.fault === "message-loss" ? { faults: { bitErrorRate: 0, lossRate: 0.01 } } : {}),
      ...(o.fault === "isl-flaps" ? { run: { islFlapProbability: 0.02 } } : {})
    }))
    ready = { o, tier, users }
  } catch (e) {
    reportError(e)
  }
  if (ready) {
    const { o, tier, users } = ready
    runServer(
      serveResp({ tier, users, databases: 16, started: performance.now() }, {
        host: o.host, port: o.port, maxClients: o.maxClients,
        limits: { maxBulkBytes: Math.round(o.maxBulkMb * 2 ** 20), maxArgs: 1024 * 1024, maxInlineBytes: Math.round(o.maxInlineKb * 1024) },
        onListening: (url) => process.stdout.write(`${url}\n`)
      }).pipe(Effect.ensuring(Effect.promise(() => tier.close()))),
      `--host ${o.host} --port ${o.port}`
    )
  }
}
