import type { RunConfig } from "../runtime/config.js"
import type { Behaviour } from "./actor.js"
import { ground } from "./ground.js"
import { satellite } from "./satellite.js"
import { client } from "./client.js"
import { jumpHash } from "../cache/placement.js"

/**
 * The kinds of actor a run has, by id range: satellites 0 .. S-1, ground users S .. S+U-1, then the
 * inference actors' slot S+U .. S+U+I-1. Each kind maps to a behaviour factory; the engine looks
 * behaviours up here, so adding a kind is one line in this table. The inference kind's behaviour comes
 * with the inference actor (src/inference); until then a run that asks for inference actors is refused
 * with a clear error rather than given a stand-in.
 */
export type ActorKind = "satellite" | "ground" | "client" | "inference"

export interface KindContext {
  readonly config: RunConfig
  readonly satellites: number
  /** Replay: each user's requests. */
  readonly userRequests: ReadonlyArray<ReadonlyArray<{ readonly time: number; readonly hashIds: ReadonlyArray<number> }>>
}

/** The replay's tenant namespace: one shared namespace, since the trace's blocks are shared by all users. */
export const replayNamespace = { modelId: "qwen2.5-0.5b", tenantSalt: "shared" }

type Factory = (k: KindContext) => Behaviour<unknown>

export const actorKinds: Record<ActorKind, Factory | undefined> = {
  satellite: ({ config }) =>
    satellite({
      capacityBytes: config.capacityBytesPerSatellite, beaconIntervalSeconds: config.beaconIntervalSeconds,
      policy: config.workload === "replay" ? config.replay.storePolicy : "lru"
    }) as Behaviour<unknown>,
  client: ({ config, satellites, userRequests }) =>
    client({
      firstUserId: satellites,
      requests: userRequests,
      servers: config.replay.servers,
      blockBytes: config.replay.blockBytes,
      chunkBytes: config.chunkBytes,
      epochSeconds: config.epochSeconds,
      // The directory of a block is its key's jump-hashed satellite.
      directoryOf: (key) => jumpHash(BigInt(key), satellites),
      ...(config.replay.strategy === "baseline" ? { hashedServer: (key: number, k: number) => jumpHash(BigInt(key) * 1_000_003n + BigInt(k) + 1n, satellites) } : {}),
      namespace: replayNamespace
    }) as Behaviour<unknown>,
  ground: ({ config, satellites }) =>
    ground({
      satellites, firstUserId: satellites, requestRatePerUser: config.requestRatePerUser,
      keysPerUser: config.keysPerUser, putFraction: config.putFraction, chunkBytes: config.chunkBytes
    }) as Behaviour<unknown>,
  inference: undefined
}

export class MissingActorKind extends Error {
  readonly _tag = "MissingActorKind"
  readonly field = "inferenceActors"
  constructor(readonly kind: ActorKind) {
    super(`no behaviour is registered for actor kind "${kind}" (the inference actor lands with src/inference)`)
  }
}

export const behaviourFor = (kind: ActorKind, k: KindContext): Behaviour<unknown> => {
  const f = actorKinds[kind]
  if (!f) throw new MissingActorKind(kind)
  return f(k)
}
