/**
 * A model's KV cache kept in the emulated constellation: the inference actor's side of SkyMemory. A
 * prompt's tokens give block keys (chained, salted by model and tenant); `lookup` runs the protocol in
 * virtual time and returns the longest cached prefix's KV, decoded and checked, with the network time it
 * took; `store` puts a prefill's new blocks. Satellites, links and the inference actor are the runtime's
 * actors on a LiveEngine (one in-process shard, advanced as the model needs). It is the model's KvTier
 * (src/inference/kv-tier.ts): this is where the world and the model are composed.
 */
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64"
import type { CodecName } from "../cache/codecs.js"
import { blockKeys, type KeyNamespace } from "../cache/keys.js"
import { PayloadWire, type SharePayload } from "../cache/payload-wire.js"
import type { Strategy } from "../cache/strategies.js"
import { joinBlocks, splitIntoBlocks } from "../inference/kv-blocks.js"
import type { KvTier } from "../inference/kv-tier.js"
import { badChunks, badShareChunks, blockToShares, sharesToBlock } from "../inference/kv-transfer.js"
import type { PastKv } from "../inference/runner.js"
import { LiveEngine } from "../runtime/live.js"
import { streamRng } from "../runtime/random.js"
import { makeRunConfig, type RunConfig } from "./config.js"
import { InferencePort, InferenceTimer, type LookupResult, type StoreResult } from "./inference.js"
import { Sky } from "./protocol.js"
import type { TopologyActor } from "./network/topology-actor.js"
import { makeWorld, type SkyWorld } from "./world.js"
export interface KvCacheOptions {
  readonly preset: string
  readonly seed: number
  readonly strategy: Strategy
  readonly servers: number
  readonly blockTokens: number
  readonly chunkBytes: number
  readonly codec: CodecName
  readonly capacityBytesPerSatellite: number
  readonly namespace: KeyNamespace
  /** Tenant key for chunk authentication tags (HMAC); none = CRC only. */
  readonly authKey?: Uint8Array
  /** Extra run settings (link rates, processing time...). */
  readonly run?: Partial<RunConfig>
  /** Copies of each share, on distinct satellites (1 = one copy). */
  readonly redundancy: number
  /** Fault injection: bit errors per bit per link on shares in flight, and loss per message (end to end). */
  readonly faults?: { readonly bitErrorRate: number; readonly lossRate: number }
}

export const kvCacheDefaults: KvCacheOptions = {
  preset: "paper-19x5",
  seed: 1,
  strategy: "hop_rotation",
  servers: 9,
  blockTokens: 16,
  chunkBytes: 12_288,
  codec: "fp16",
  capacityBytesPerSatellite: 1024 * 2 ** 20,
  redundancy: 1,
  namespace: { modelId: "tiny", tenantSalt: "tenant-a" }
}

export interface FetchedPrefix {
  /** Tokens covered by the returned KV (whole blocks). */
  readonly tokens: number
  readonly past?: PastKv
  /** Virtual time from the lookup's start to its last share's arrival, ms. */
  readonly fetchMs: number
  readonly satellites: ReadonlyArray<number>
  /** Blocks with a share that came back but failed its check and no good copy of it (the prefix stops there). */
  readonly rejectedBlocks: number
  /** Chunks that came back and failed their check (every chunk of every share that arrived is checked). */
  readonly badChunks: number
  /** The lookup ended at its deadline (an answer was lost). */
  readonly timedOut: boolean
  /** The returned blocks' shares as bytes: for fault accounting against ground truth. */
  readonly raw: ReadonlyArray<ReadonlyArray<ReadonlyArray<Uint8Array>>>
  /** Shares that came back and were refused by the check (block index, share as it arrived). */
  readonly discarded: LookupResult["discarded"]
}

/** No job takes longer than this in virtual time; a job that does is a protocol bug, reported loudly. */
const JOB_LIMIT_SECONDS = 600

export class ConstellationKvCache implements KvTier {
  readonly live: LiveEngine<TopologyActor>
  readonly world: SkyWorld
  private readonly port = new InferencePort()
  readonly wire: PayloadWire
  readonly actor: number

  constructor(readonly options: KvCacheOptions) {
    const config = makeRunConfig({
      preset: options.preset, seed: options.seed, simSeconds: 86_400, users: 0, inferenceActors: 1,
      chunkBytes: options.chunkBytes, capacityBytesPerSatellite: options.capacityBytesPerSatellite,
      replay: { ...makeRunConfig().replay, strategy: options.strategy, servers: options.servers }, redundancy: options.redundancy,
      ...options.run
    })
    const f = options.faults
    const rng = streamRng(options.seed, -4)
    this.wire = new PayloadWire(f && f.bitErrorRate > 0 ? { rate: f.bitErrorRate, random: () => uniformFloat64(rng) } : undefined)
    // Every share is checked as it arrives, so a bad one can be asked again or of another copy.
    const verify = (key: number, share: SharePayload, servers: number) => badShareChunks(share.chunks, share.share, servers, key, options.authKey)
    this.world = makeWorld(config, { hosted: { port: this.port, wire: this.wire, verify } })
    this.live = new LiveEngine(this.world)
    if (f) this.live.engine.injectFaults({ lossRate: f.lossRate, seed: options.seed })
    this.actor = this.world.firstInference
  }

  /** Crash satellites now (stores lost); each takes nothing for `downSeconds`. */
  crash(satellites: ReadonlyArray<number>, downSeconds: number): void {
    for (const s of satellites) this.live.engine.crashActor(s, this.live.now, downSeconds)
  }

  /** The inference actor's ground station is out for `seconds` from now. */
  groundOutage(seconds: number): void {
    this.live.engine.network.groundOutage(this.actor - this.world.satellites, this.live.now + seconds)
  }

  static make(options: Partial<KvCacheOptions> = {}): ConstellationKvCache {
    return new ConstellationKvCache({ ...kvCacheDefaults, ...options })
  }

  keysOf(tokens: ReadonlyArray<number>, namespace = this.options.namespace): Array<number> {
    return blockKeys(tokens, this.options.blockTokens, namespace)
  }

  private run<R>(submit: (done: (r: R) => void) => void): R {
    let result: R | undefined
    submit((r) => (result = r))
    Sky.Tick.wake(this.live, this.actor, { timer: InferenceTimer.job, id: 0 })
    if (!this.live.advanceUntil(() => result !== undefined, JOB_LIMIT_SECONDS)) {
      throw new Error(`the inference actor's job did not finish within ${JOB_LIMIT_SECONDS} s of virtual time`)
    }
    return result!
  }

  /** The longest cached prefix of `tokens`, fetched through the constellation and checked. */
  lookup(tokens: ReadonlyArray<number>, namespace = this.options.namespace): FetchedPrefix {
    const keys = this.keysOf(tokens, namespace)
    const r = this.run<LookupResult>((done) => this.port.submit(this.actor, { kind: "lookup", keys, done }))
    const blocks = []
    // Shares are checked by the actor as they arrive; decoding checks the served ones again (cheap), so a
    // check that let something through here would still be caught before the model sees it.
    let bad = r.badChunks
    let served = r.blocks.length
    for (let j = 0; j < r.blocks.length; j++) {
      const v = sharesToBlock(r.blocks[j]!, keys[j]!, this.options.authKey)
      if (!v.ok) {
        if (process.env.SKYMEMORY_DEBUG) process.stderr.write(`lookup: block ${j} rejected (${v.verdict}, chunk ${v.chunk})\n`)
        for (let b = j; b < r.blocks.length; b++) bad += badChunks(r.blocks[b]!, keys[b]!, this.options.authKey)
        served = j
        break
      }
      blocks.push(v.block)
    }
    // Blocks refused: a share that failed its check with no good copy, at or after the served prefix.
    const refused = new Set(r.discarded.map((d) => d.block).filter((j) => j >= served))
    const rejected = new Set([...refused, ...(served < r.blocks.length ? [served] : [])]).size
    const common = { satellites: r.satellites, rejectedBlocks: rejected, badChunks: bad, timedOut: r.timedOut, raw: r.blocks, discarded: r.discarded }
    const fetchMs = (r.finishedAt - r.startedAt) * 1e3
    if (blocks.length === 0) return { ...common, tokens: 0, fetchMs }
    const past = joinBlocks(blocks)
    return { ...common, tokens: past.tokens, past, fetchMs }
  }

  /** Put the full blocks of `past` (the cache of `tokens`) from block `fromBlock` on. */
  store(tokens: ReadonlyArray<number>, past: PastKv, fromBlock = 0, namespace = this.options.namespace): StoreResult & { blocks: number } {
    const keys = this.keysOf(tokens.slice(0, past.tokens), namespace).slice(fromBlock)
    const blocks = splitIntoBlocks(past, this.options.blockTokens).slice(fromBlock)
    const o = this.options
    const shares = blocks.map((b, j) => blockToShares(b, keys[j]!, { codec: o.codec, chunkBytes: o.chunkBytes, servers: o.servers, ...(o.authKey ? { authKey: o.authKey } : {}) }))
    const r = this.run<StoreResult>((done) => this.port.submit(this.actor, { kind: "store", keys, shares, done }))
    return { ...r, blocks: blocks.length }
  }

  /** Let `seconds` of virtual time pass (the constellation moves; stores migrate). */
  advance(seconds: number): void {
    this.live.advanceTo(this.live.now + seconds)
  }
}
