/**
 * The inference actors' side of one shard that the model's host reaches: their job port, the payload
 * wire (bytes for an actor of another shard go through the engine's side channel, with the record), the
 * integrity check shares must pass, and the requests a live host makes of the shard: one Schema, decoded
 * as each request arrives (it may have crossed a thread). Built per shard from the config alone, so any
 * host can run inference actors: in this thread or on the worker pool.
 */
import { Schema } from "effect"
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64"
import { decodeStaged, encodeStaged, PayloadWire, type SharePayload } from "../cache/payload-wire.js"
import { badShareChunks } from "../inference/kv-transfer.js"
import { actorStreamRng, ActorStream } from "../runtime/random.js"
import type { HostContext, ShardSpec } from "../runtime/world.js"
import type { RunConfig } from "./config.js"
import { InferencePort, InferenceTimer, type LookupResult, type StoreResult, type ValueResult } from "./inference.js"
import type { TopologyActor } from "./network/topology-actor.js"
import { Sky } from "./protocol.js"
import type { ShareCheck } from "./share-fetch.js"
import { SideFrame, sendToOwner } from "./side-frames.js"

const ActorId = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Keys = Schema.Array(Schema.Finite)
const JobId = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** What a live host asks of a shard (LiveHost.request). */
export const HostRequest = Schema.Union([
  /** Start lookup `job` of these block keys on inference actor `actor` (the shard's signal: a job done). */
  Schema.TaggedStruct("Lookup", { actor: ActorId, job: JobId, keys: Keys }),
  /** Start lookup `job` of separate values (a front end's GETs together): a result per key as it settles. */
  Schema.TaggedStruct("LookupValues", { actor: ActorId, job: JobId, keys: Keys }),
  /** Start store `job`: per block, per share, the share's chunks. */
  Schema.TaggedStruct("Store", { actor: ActorId, job: JobId, keys: Keys, shares: Schema.Array(Schema.Array(Schema.Array(Schema.Uint8Array))), acked: Schema.optional(Schema.Boolean), sparse: Schema.optional(Schema.Boolean) }),
  /** The results of actor `actor`'s jobs that have finished, as [job, result] pairs (and forget them): an actor runs its jobs side by side. */
  Schema.TaggedStruct("TakeResults", { actor: ActorId }),
  /** Ground user `user`'s station is out until virtual time `until` (every shard's network is told). */
  Schema.TaggedStruct("GroundOutage", { user: ActorId, until: Schema.Finite })
])
export type HostRequest = typeof HostRequest.Type
const decodeRequest = Schema.decodeUnknownSync(HostRequest)

export class InferenceHost {
  readonly port = new InferencePort()
  readonly wire: PayloadWire
  readonly verify: ShareCheck
  /** The check of a named value's shares: their CRCs only (its tags name its write, which only its reader knows). */
  readonly verifyValue: ShareCheck
  /** Finished jobs' results by actor: [job, result] pairs not yet taken. */
  private readonly results = new Map<number, Array<[number, LookupResult | StoreResult | ValueResult]>>()

  constructor(config: RunConfig, spec: ShardSpec, private readonly network: TopologyActor) {
    const { bitErrorRate, authKeyHex } = config.inference
    const authKey = authKeyHex === "" ? undefined : Buffer.from(authKeyHex, "hex")
    const streams = new Map<number, () => number>()
    const randomFor = (actor: number) => {
      let r = streams.get(actor)
      if (r === undefined) {
        const rng = actorStreamRng(config.seed, ActorStream.bitErrors, actor)
        streams.set(actor, (r = () => uniformFloat64(rng)))
      }
      return r
    }
    const toOwner = sendToOwner(spec, SideFrame.wire)
    this.wire = new PayloadWire({
      ...(bitErrorRate > 0 ? { bitErrors: { rate: bitErrorRate, randomFor } } : {}),
      elsewhere: (to, slot, payload) => toOwner(to, encodeStaged(slot, payload))
    })
    // Every share is checked as it arrives, so a bad one can be asked again or of another copy.
    this.verify = (key: number, share: SharePayload, servers: number) => badShareChunks(share.chunks, share.share, servers, key, authKey)
    this.verifyValue = (key: number, share: SharePayload, servers: number) => badShareChunks(share.chunks, share.share, servers, key)
  }

  /** Bytes another shard staged for an actor of this one (the body of a SideFrame.wire frame). */
  receive(frame: Uint8Array): void {
    const { slot, payload } = decodeStaged(frame)
    this.wire.receive(slot, payload)
  }

  /** A live host's request (ShardWorld.serve). */
  serve(raw: unknown, host: HostContext): unknown {
    const request = decodeRequest(raw)
    const done = (actor: number, job: number) => (r: LookupResult | StoreResult | ValueResult) => {
      let finished = this.results.get(actor)
      if (!finished) this.results.set(actor, (finished = []))
      finished.push([job, r])
      host.signal()
    }
    switch (request._tag) {
      case "Lookup":
        this.port.submit(request.actor, { kind: "lookup", keys: request.keys, done: done(request.actor, request.job) })
        return void Sky.Tick.wake(host, request.actor, { timer: InferenceTimer.job, id: 0 })
      case "LookupValues":
        this.port.submit(request.actor, { kind: "values", keys: request.keys, each: done(request.actor, request.job) })
        return void Sky.Tick.wake(host, request.actor, { timer: InferenceTimer.job, id: 0 })
      case "Store":
        this.port.submit(request.actor, { kind: "store", keys: request.keys, shares: request.shares, ...(request.acked ? { acked: true } : {}), ...(request.sparse ? { sparse: true } : {}), done: done(request.actor, request.job) })
        return void Sky.Tick.wake(host, request.actor, { timer: InferenceTimer.job, id: 0 })
      case "TakeResults": {
        const finished = this.results.get(request.actor) ?? []
        this.results.delete(request.actor)
        return finished
      }
      case "GroundOutage":
        return void this.network.groundOutage(request.user, request.until)
    }
  }
}
