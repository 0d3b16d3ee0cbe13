/**
 * The behaviour of each actor kind (kinds.ts), made from the run's config: the world (world.ts) asks
 * here once per shard, so adding a kind is one line in this table. Inference actors exchange real bytes
 * and jobs with a model outside the engine, through their shard's InferenceHost (port and payload wire).
 */
import { ground } from "./ground.js"
import { satellite } from "./satellite.js"
import { client, type ClientOptions } from "./client.js"
import { deviceNamed, deviceProfiles, prefillSecondsOn, qwen25HalfB } from "../inference/devices.js"
import { inference } from "./inference.js"
import { jumpHash } from "../cache/placement.js"
import type { PlacementStrategy } from "../cache/strategies.js"
import type { InferenceHost } from "./inference-host.js"
import { ConfigError, LOAD_BEACON_SECONDS, type RunConfig } from "./config.js"
import type { ActorKind } from "./kinds.js"
import type { SkyBehaviour } from "./sky-context.js"
import { qwen05bShape } from "../cache/chunking.js"
import { encodedBlockBytes } from "../cache/codecs.js"

export interface KindContext {
  readonly config: RunConfig
  /** The run's placement strategy (config.replay.strategy, resolved). */
  readonly strategy: PlacementStrategy
  readonly satellites: number
  /** Replay: each user's requests. */
  readonly userRequests: ClientOptions["requests"]
  /** The shard's inference host (job port, payload wire, share check), in runs with inference actors. */
  readonly host?: InferenceHost
}

/**
 * The replay's tenant namespace: one namespace shared by all users (the trace's blocks are shared), salted
 * with the run's seed. Block keys are digests, so where a keyed placement, a hashed anchor or the
 * directory puts a block is a draw of that salt: each seed draws it anew, and a difference between
 * strategies that hangs on where a few blocks happened to land shows up as variation over seeds
 * (docs/architecture.md) instead of repeating identically in every seed.
 */
export const replayNamespace = (seed: number) => ({ modelId: "qwen2.5-0.5b", tenantSalt: `seed ${seed}` })

type Factory = (k: KindContext) => SkyBehaviour<unknown>

/**
 * Bytes of one trace block on the wire: fp16 is the model's own precision (replay.blockBytes); int8
 * (KIVI-style, cache/codecs.ts) is what the codec makes of a Qwen2.5-0.5B-shaped block of that many tokens.
 */
export const replayBlockBytes = (config: RunConfig): number => {
  const codec = config.replay.codec
  if (codec === "fp16") return config.replay.blockBytes
  const tokens = config.replay.blockTokens
  return Math.round(config.replay.blockBytes * encodedBlockBytes("int8", { ...qwenBlockShape, tokens }) / encodedBlockBytes("fp16", { ...qwenBlockShape, tokens }))
}
const qwenBlockShape = { layers: qwen05bShape.layers, kvHeads: qwen05bShape.kvHeads, headDim: qwen05bShape.headDim }

/** Seconds to prefill tokens [from, to) of a Qwen2.5-0.5B prompt on the named device. */
const prefillOn = (name: string) => {
  const device = deviceNamed(name)
  if (!device) throw new ConfigError("replay", `config.replay.device: unknown device "${name}" (known: ${deviceProfiles.map((d) => d.name).join(", ")})`)
  return (from: number, to: number) => prefillSecondsOn(device, qwen25HalfB, from, to)
}

/** The directory of a block is its key's jump-hashed satellite. */
const directoryOf = (satellites: number) => (key: number) => jumpHash(BigInt(key), satellites)

/** A keyed strategy's satellites for a block, handed to the ground actors (centred ones ask ctx.placement). */
const keyedPlacement = (strategy: PlacementStrategy, satellites: number) =>
  strategy.kind === "keyed" ? { hashedServer: (key: number, count: number) => strategy.ofKey(satellites, key, count) } : {}

/** Blocks stay where they were written, found around the centre the directory records. */
const anchoredOf = (strategy: PlacementStrategy) => strategy.kind === "centred" && strategy.handover === "anchor"

/** A strategy that may write a block around one of several anchors, chosen by their boxes' load (LoadGet). */
const choosesByLoad = (strategy: PlacementStrategy) => strategy.kind === "centred" && strategy.anchors !== undefined

const actorKinds: Record<ActorKind, Factory> = {
  satellite: ({ config, strategy, host, satellites, userRequests }) =>
    satellite({
      capacityBytes: config.capacityBytesPerSatellite,
      // The loads a strategy choosing by load reads come by beacon: on for it even where the config has none.
      beaconIntervalSeconds: config.beaconIntervalSeconds === 0 && choosesByLoad(strategy) ? LOAD_BEACON_SECONDS : config.beaconIntervalSeconds,
      beaconLoads: choosesByLoad(strategy),
      policy: config.replay.storePolicy, islBandwidthBitsPerSecond: config.islBandwidthBitsPerSecond,
      // Inference actors (after the workload's users) write bytes; replay clients and ground users write sizes.
      ...(host ? { wire: host.wire, firstByteWriter: satellites + (config.workload === "replay" ? userRequests.length : config.users) } : {})
    }) as SkyBehaviour<unknown>,
  client: ({ config, strategy, satellites, userRequests }) => {
    if (config.redundancy > 1) throw new ConfigError("redundancy", `config.redundancy: replay clients keep one copy of each share (got ${config.redundancy}); redundancy is the inference actors' (chaos.ts --redundancy)`)
    return client({
      firstUserId: satellites,
      requests: userRequests,
      servers: config.replay.servers,
      blockBytes: replayBlockBytes(config),
      anchored: anchoredOf(strategy),
      ...(strategy.kind === "centred" && strategy.replicateBeyondHops !== undefined ? { replicateBeyondHops: strategy.replicateBeyondHops } : {}),
      chunkBytes: config.chunkBytes,
      epochSeconds: config.epochSeconds,
      directoryOf: directoryOf(satellites),
      ...keyedPlacement(strategy, satellites),
      namespace: replayNamespace(config.seed),
      maxInFlight: config.clientMaxInFlight,
      ttft: { blockTokens: config.replay.blockTokens, prefillSeconds: prefillOn(config.replay.device) }
    }) as SkyBehaviour<unknown>
  },
  ground: ({ config, satellites }) =>
    ground({
      satellites, firstUserId: satellites, requestRatePerUser: config.requestRatePerUser,
      keysPerUser: config.keysPerUser, putFraction: config.putFraction, chunkBytes: config.chunkBytes
    }) as SkyBehaviour<unknown>,
  inference: ({ config, strategy, satellites, host }) => {
    if (!host) throw new Error("inference actors without their shard's InferenceHost (world.ts builds one when the run has them)")
    return inference({
      satellites, servers: config.replay.servers, epochSeconds: config.epochSeconds,
      directoryOf: directoryOf(satellites), ...keyedPlacement(strategy, satellites), port: host.port, wire: host.wire,
      anchored: anchoredOf(strategy), redundancy: config.redundancy, verify: host.verify, verifyValue: host.verifyValue
    }) as SkyBehaviour<unknown>
  }
}

export const behaviourFor = (kind: ActorKind, k: KindContext): SkyBehaviour<unknown> => actorKinds[kind](k)
