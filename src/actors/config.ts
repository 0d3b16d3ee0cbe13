/**
 * Everything a run depends on. A run is a pure function of this object (and nothing else: not the
 * worker count, not the wall clock), so it is also what an experiment writes next to its results.
 * Validated with Effect Schema; a bad field gets an error naming it.
 */
import { Schema, SchemaIssue } from "effect"
import { evictionPolicies } from "../cache/store.js"

const Positive = Schema.Finite.check(Schema.isGreaterThan(0))
const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** A Walker shell given by parameters (validated again, with field names, by the topology layer). */
export const ShellConfig = Schema.Struct({
  pattern: Schema.Literals(["delta", "star"]),
  planes: Schema.Int,
  satsPerPlane: Schema.Int,
  altitudeKm: Schema.Finite,
  inclinationDeg: Schema.Finite,
  phasing: Schema.Int
})

export const RunConfig = Schema.Struct({
  /** Constellation preset name (src/topology/presets.ts); ignored when `shells` is not empty. */
  preset: Schema.String,
  /** A custom constellation; empty = use the preset. */
  shells: Schema.Array(ShellConfig),
  /** A real catalog (TLE, OMM JSON or CSV: src/topology/catalog); path "" = none, else it replaces preset and shells. */
  catalog: Schema.Struct({
    path: Schema.String,
    /** t = 0: seconds after the catalog's newest epoch, or an ISO 8601 instant; "" = the newest epoch. */
    at: Schema.String,
    /** Skip and count records that fail their checks instead of refusing the file. */
    lenient: Schema.Boolean,
    /** Each satellite may link to the nearest satellite of another shell (within range at t = 0). */
    crossShellLinks: Schema.Boolean
  }),
  seed: Count,
  simSeconds: Positive,
  /** Link state (positions, link up/down, delays) is recomputed every epoch; windows never cross one. */
  epochSeconds: Positive,
  /** Routing tables are recomputed every routing epoch (a multiple of epochSeconds is sensible). */
  routingEpochSeconds: Positive,
  /**
   * Each satellite beacons its ISL neighbours this often; 0 = no beacons, except that a run whose
   * strategy chooses anchors by load (`ours`) beacons every LOAD_BEACON_SECONDS, since beacons carry the
   * loads (satellite.ts boxLoad). They are the standard workload's link traffic. The replay workload
   * defaults to 0: only the load is read there, and a beacon a second made most of a whole-trace
   * replay's deliveries (docs/decisions.md).
   */
  beaconIntervalSeconds: NonNegative,
  /** Ground users issuing cache requests. */
  users: Count,
  /** Inference actors (the slot after the ground users; see src/actors/registry.ts). */
  inferenceActors: Count,
  /** Where the inference actors are on the ground; null = under the first shell's middle satellite at t = 0. */
  inferenceSite: Schema.NullOr(Schema.Struct({ latDeg: Schema.Finite.check(Schema.isBetween({ minimum: -90, maximum: 90 })), lonDeg: Schema.Finite })),
  /**
   * Copies of each share an inference actor stores, on distinct satellites (1 = none extra). Replay
   * clients move sizes, not bytes, and keep one copy; a replay run with more is refused by name.
   */
  redundancy: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 8 })),
  /** Inference actors' real bytes (inference-host.ts). */
  inference: Schema.Struct({
    /** Fault injection: error probability per bit per link on shares in flight (flips drawn per receiving actor). */
    bitErrorRate: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 0.01 })),
    /** The tenant's key for chunk authentication tags (HMAC), hex; "" = CRC only. */
    authKeyHex: Schema.String.check(Schema.isPattern(/^([0-9a-f]{2})*$/)),
    /** Bytes one shard may send another beside its records in one window (the shares' bytes). */
    sideChannelBytes: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1024))
  }),
  /** Requests per second per user (Poisson). */
  requestRatePerUser: NonNegative,
  /** Distinct keys per user. */
  keysPerUser: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  /** Fraction of requests that are puts. */
  putFraction: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
  chunkBytes: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  capacityBytesPerSatellite: Count,
  perHopProcessingSeconds: Positive,
  /**
   * Satellite service model (overload): a satellite handles one cache message at a time, taking
   * satelliteServiceSecondsPerMessage plus bytes / satelliteServiceBytesPerSecond; messages wait in a
   * mailbox of at most satelliteMailboxMessages, and one that finds it full is refused with a Busy
   * reply to its sender. Both rates 0 (the default) = handling takes no time, nothing waits.
   */
  satelliteServiceSecondsPerMessage: NonNegative,
  satelliteServiceBytesPerSecond: NonNegative,
  satelliteMailboxMessages: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  /** Replay clients: requests in flight per client; a request beyond it is rejected at the source. */
  clientMaxInFlight: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  /** Fault injection: each ISL is down for a whole link epoch with this probability (0 = geometry only). */
  islFlapProbability: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
  islBandwidthBitsPerSecond: Positive,
  groundBandwidthBitsPerSecond: Positive,
  elevationMaskDeg: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 90 })),
  maxHops: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  /** Records one shard may send another in one window. */
  mailboxCapacity: Schema.Int.check(Schema.isGreaterThanOrEqualTo(16)),
  /** 0 = as fast as possible (virtual time); f > 0 = paced so that 1 simulated second takes 1/f wall seconds. */
  realtimeFactor: NonNegative,
  /** Fault injection for tests: actor id whose handler throws at its n-th message (-1 = none). */
  crashActor: Schema.Int,
  crashAtMessage: Count,
  /** Fault injection for tests: shard that throws outside any actor at this virtual time (-1 = none). */
  crashShard: Schema.Int,
  crashShardAt: NonNegative,
  /** A ceiling measurement, not a valid run: shards do not synchronise (runtime EngineConfig.unsynchronised). */
  unsynchronised: Schema.Boolean,
  /** "standard": beacons + key-homed gets/puts; "replay": a request trace through the cache protocol. */
  workload: Schema.Literals(["standard", "replay"]),
  replay: Schema.Struct({
    /** Mooncake-format trace (.jsonl or .jsonl.gz). */
    tracePath: Schema.String,
    /** First N requests of the trace. */
    requests: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
    /** A placement strategy's name (cache/strategies.ts: the built-ins, or a plug-in handed to the world). */
    strategy: Schema.String.check(Schema.isMinLength(1)),
    /** Codec of the KV shares on the wire and at rest (an axis of its own: every strategy runs with any). */
    codec: Schema.Literals(["fp16", "int8"]),
    servers: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 255 })),
    /** Tokens of one trace block (Mooncake's: 512). */
    blockTokens: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
    /** KV bytes of one trace block before encoding (512 tokens x 12,288 B for Qwen2.5-0.5B at fp16). */
    blockBytes: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
    storePolicy: Schema.Literals(evictionPolicies),
    /** Cities with at least this population are where conversations come from (weighted by population). */
    minCityPopulation: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
    /** Request rate relative to the trace's (10 = every request ten times sooner: a flood). */
    rateScale: Positive,
    /** The device whose prefill time each request's TTFT adds (src/inference/devices.ts profiles). */
    device: Schema.String
  })
})
export type RunConfig = typeof RunConfig.Type

/** What a run's constellation is called in results: the catalog file, or the preset. */
export const constellationName = (config: Pick<RunConfig, "catalog" | "shells" | "preset">): string =>
  config.catalog.path !== "" ? config.catalog.path : config.shells.length > 0 ? "custom" : config.preset

export const defaultRunConfig: RunConfig = {
  preset: "paper-19x5",
  shells: [],
  catalog: { path: "", at: "", lenient: false, crossShellLinks: false },
  seed: 1,
  simSeconds: 10,
  epochSeconds: 1,
  routingEpochSeconds: 10,
  beaconIntervalSeconds: 1,
  users: 32,
  inferenceActors: 0,
  inferenceSite: null,
  redundancy: 1,
  inference: { bitErrorRate: 0, authKeyHex: "", sideChannelBytes: 64 * 2 ** 20 },
  requestRatePerUser: 2,
  keysPerUser: 64,
  putFraction: 0.3,
  chunkBytes: 12_288,
  capacityBytesPerSatellite: 64 * 1024 * 1024,
  perHopProcessingSeconds: 1e-4,
  satelliteServiceSecondsPerMessage: 0,
  satelliteServiceBytesPerSecond: 0,
  satelliteMailboxMessages: 256,
  clientMaxInFlight: 16,
  islFlapProbability: 0,
  islBandwidthBitsPerSecond: 10e9,
  groundBandwidthBitsPerSecond: 1e9,
  elevationMaskDeg: 25,
  maxHops: 64,
  mailboxCapacity: 1 << 15,
  realtimeFactor: 0,
  crashActor: -1,
  crashAtMessage: 0,
  crashShard: -1,
  crashShardAt: 0,
  unsynchronised: false,
  workload: "standard",
  replay: {
    tracePath: "data/traces/mooncake-conversation.jsonl.gz",
    requests: 1000,
    strategy: "hop_rotation",
    codec: "fp16",
    blockTokens: 512,
    servers: 9,
    blockBytes: 512 * 12_288,
    storePolicy: "lru",
    minCityPopulation: 100_000,
    rateScale: 1,
    device: "jetson-orin-nano-8gb"
  }
}

export class ConfigError extends Error {
  readonly _tag = "ConfigError"
  constructor(readonly field: string, message: string) {
    super(message)
  }
}

/**
 * The beacon interval (s) of a run whose strategy chooses anchors by load, when the config asks for none:
 * loads up to two intervals old, carried forward (boxLoad), are fresh enough to choose by.
 */
export const LOAD_BEACON_SECONDS = 30

/** Defaults (for the replay workload, no beacons) overridden by `partial`, validated; throws ConfigError naming the first bad field. */
export const makeRunConfig = (partial: Partial<Record<keyof RunConfig, unknown>> = {}): RunConfig => {
  const unknown = Object.keys(partial).filter((k) => !(k in defaultRunConfig))
  if (unknown.length > 0) throw new ConfigError(unknown[0]!, `unknown config field "${unknown[0]}"`)
  const defaults = partial.workload === "replay" ? { ...defaultRunConfig, beaconIntervalSeconds: 0 } : defaultRunConfig
  try {
    return Schema.decodeUnknownSync(RunConfig)({ ...defaults, ...partial })
  } catch (e) {
    // The first issue and where it is (Effect's Standard Schema formatter): a nested field is named
    // itself (inference.bitErrorRate, shells.0.pattern), not its parent.
    const issue = Schema.isSchemaError(e) ? SchemaIssue.makeFormatterStandardSchemaV1()(e.issue).issues[0] : undefined
    const field = issue?.path?.map(String).join(".") || "config"
    throw new ConfigError(field, `config.${field}: ${issue?.message ?? String(e)}`)
  }
}
