/**
 * A model's KV cache kept in the emulated constellation: the inference actor's side of SkyMemory. A
 * prompt's tokens give block keys (chained, salted by model and tenant); `lookup` runs the protocol in
 * virtual time and returns the longest cached prefix's KV, decoded and checked, with the network time it
 * took; `store` puts a prefill's new blocks. Satellites, links and the inference actor are the runtime's
 * actors on a live host (runtime/live.ts): one shard in this thread, or one per worker of the pool
 * (`open(..., { workers })`), advanced as the model needs; the same virtual-time results either way.
 * It is the model's KvTier (src/inference/kv-tier.ts): this is where the world and the model are composed.
 */
import type { CodecName } from "../cache/codecs.js"
import { type BlockRef, keyOfRef } from "../cache/integrity.js"
import { blockKeys, type KeyNamespace } from "../cache/keys.js"
import type { Strategy } from "../cache/strategies.js"
import { joinBlocks, splitIntoBlocks } from "../inference/kv-blocks.js"
import type { KvTier } from "../inference/kv-tier.js"
import { badChunks, blockToShares, bytesToShares, sharesToBlock, sharesToBytes } from "../inference/kv-transfer.js"
import type { PastKv } from "../inference/runner.js"
import { LiveEngine, type LiveHost } from "../runtime/live.js"
import { LivePool } from "../runtime/live-pool.js"
import type { EngineReport } from "../runtime/report.js"
import type { EngineObservers } from "../runtime/shard.js"
import { makeRunConfig, type RunConfig } from "./config.js"
import type { LookupResult, StoreResult, ValueResult } from "./inference.js"
import type { HostRequest } from "./inference-host.js"
import type { TopologyActor } from "./network/topology-actor.js"
import { makeWorld, skyWorldSource, type SkyWorld } from "./world.js"
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
  /**
   * How far the clock may run past a job's end before the jobs asked for meanwhile start (virtual s;
   * default SIGNAL_STEP_SECONDS). Each job's own times are exact either way; a longer step lets a job
   * finish in fewer rounds of hand-over and advance, for a front end that does not follow the wall clock.
   */
  readonly stepSeconds?: number
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

/** A named value fetched and checked: `bytes` undefined on a miss (or a value that failed its check). */
export interface ValueLookup {
  readonly bytes?: Uint8Array
  /** Virtual time from the lookup's start to the value's last share, ms. */
  readonly fetchMs: number
  /** Virtual time the value settled at, s. */
  readonly finishedAt: number
  readonly badChunks: number
}

/** No job takes longer than this in virtual time; a job that does is a protocol bug, reported loudly. */
const JOB_LIMIT_SECONDS = 600

export class ConstellationKvCache implements KvTier {
  readonly actor: number
  /** The inference actor's shard. */
  private readonly home: number

  private constructor(readonly options: KvCacheOptions, readonly world: SkyWorld, readonly host: LiveHost) {
    this.actor = world.firstInference
    this.home = host.owner[this.actor]!
  }

  private static configOf(options: KvCacheOptions): RunConfig {
    return makeRunConfig({
      preset: options.preset, seed: options.seed, simSeconds: 86_400, users: 0, inferenceActors: 1,
      chunkBytes: options.chunkBytes, capacityBytesPerSatellite: options.capacityBytesPerSatellite,
      replay: { ...makeRunConfig().replay, strategy: options.strategy, servers: options.servers }, redundancy: options.redundancy,
      inference: { ...makeRunConfig().inference, bitErrorRate: options.faults?.bitErrorRate ?? 0, authKeyHex: options.authKey ? Buffer.from(options.authKey).toString("hex") : "" },
      ...options.run
    })
  }

  /** A cache on one shard in this thread (its engine in reach: `engine`; `observers` see every hop and delivery). */
  static make(options: Partial<KvCacheOptions> = {}, observers: EngineObservers = {}): ConstellationKvCache {
    const o = { ...kvCacheDefaults, ...options }
    const world = makeWorld(ConstellationKvCache.configOf(o))
    const kv = new ConstellationKvCache(o, world, new LiveEngine(world, observers))
    if (o.faults) kv.host.injectFaults({ lossRate: o.faults.lossRate, seed: o.seed })
    return kv
  }

  /** A cache on `workers` shards: 1 = in this thread (make), more = one per worker of the pool. Close it after. */
  static async open(options: Partial<KvCacheOptions> = {}, o: { readonly workers?: number } = {}): Promise<ConstellationKvCache> {
    const workers = o.workers ?? 1
    if (workers <= 1) return ConstellationKvCache.make(options)
    const opts = { ...kvCacheDefaults, ...options }
    const config = ConstellationKvCache.configOf(opts)
    const world = makeWorld(config)
    const kv = new ConstellationKvCache(opts, world, await LivePool.start(skyWorldSource(config), { workers }, world))
    if (opts.faults) await kv.host.injectFaults({ lossRate: opts.faults.lossRate, seed: opts.seed })
    return kv
  }

  /** The one in-process shard's engine (tests read actors' state there). */
  get engine(): LiveEngine<TopologyActor>["engine"] {
    if (!(this.host instanceof LiveEngine)) throw new Error("only a cache on one in-process shard (make) exposes its engine")
    return this.host.engine as LiveEngine<TopologyActor>["engine"]
  }

  /** Virtual time, s. */
  get now(): number {
    return this.host.now
  }

  private ask(shard: number, request: HostRequest): Promise<unknown> {
    return Promise.resolve(this.host.request(shard, request))
  }

  /** Crash satellites now (stores lost); each takes nothing for `downSeconds`. */
  async crash(satellites: ReadonlyArray<number>, downSeconds: number): Promise<void> {
    await this.host.crash(satellites, downSeconds)
  }

  /** The inference actor's ground station is out for `seconds` from now (every shard's network is told). */
  async groundOutage(seconds: number): Promise<void> {
    const request: HostRequest = { _tag: "GroundOutage", user: this.actor - this.world.satellites, until: this.now + seconds }
    for (let shard = 0; shard < this.host.shards; shard++) await this.ask(shard, request)
  }

  keysOf(tokens: ReadonlyArray<number>, namespace = this.options.namespace): Array<number> {
    return blockKeys(tokens, this.options.blockTokens, namespace)
  }

  /**
   * Hand the inference actor a job and resolve with its result. Jobs asked for while others run are
   * batched: every queued job is handed over, the host advances until one finishes, finished ones are
   * taken, and so on while any is left, so many callers (a front end's connections) share the advances.
   * One caller at a time sees exactly the old sequence: hand over, advance until done, take.
   */
  private run<R>(job: Omit<Extract<HostRequest, { _tag: "Lookup" }>, "job"> | Omit<Extract<HostRequest, { _tag: "Store" }>, "job">): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queued.push({ request: { ...job, job: this.nextJob++ } as HostRequest & { job: number }, resolve: resolve as (r: unknown) => void, reject })
      this.pump()
    })
  }

  private readonly queued: Array<{ request: HostRequest & { job: number }; resolve: (r: unknown) => void; reject: (e: unknown) => void }> = []
  /** Jobs handed over: `take` gets each result of the job and says whether it was the last. */
  private readonly inflight = new Map<number, { take: (r: unknown) => boolean; reject: (e: unknown) => void }>()
  /** Value lookups asked for since the last round: handed over together as one job (LookupValues). */
  private readonly valueLookups: Array<{ key: number; resolve: (r: ValueResult) => void; reject: (e: unknown) => void }> = []
  private nextJob = 0
  private pumping: Promise<void> | undefined

  private pump(): void {
    if (this.pumping) return
    this.pumping = (async () => {
      try {
        while (this.queued.length > 0 || this.valueLookups.length > 0 || this.inflight.size > 0) {
          // A turn of the event loop first: jobs that other callers (connections) are about to ask for
          // join this round instead of waiting for the next (advancing never yields to I/O by itself).
          await new Promise((r) => setImmediate(r))
          for (const q of this.queued.splice(0)) {
            await this.ask(this.home, q.request)
            this.inflight.set(q.request.job, { take: (r) => (q.resolve(r), true), reject: q.reject })
          }
          if (this.valueLookups.length > 0) {
            const batch = this.valueLookups.splice(0)
            const job = this.nextJob++
            let left = batch.length
            await this.ask(this.home, { _tag: "LookupValues", actor: this.actor, job, keys: batch.map((v) => v.key) })
            this.inflight.set(job, {
              take: (r) => (batch[(r as ValueResult).index]!.resolve(r as ValueResult), --left === 0),
              reject: (e) => { for (const v of batch) v.reject(e) }
            })
          }
          if (!(await this.host.advanceUntilSignal(JOB_LIMIT_SECONDS, this.options.stepSeconds))) {
            throw new Error(`the inference actor's job did not finish within ${JOB_LIMIT_SECONDS} s of virtual time`)
          }
          for (const [job, r] of (await this.ask(this.home, { _tag: "TakeResults", actor: this.actor })) as Array<[number, unknown]>) {
            if (this.inflight.get(job)?.take(r)) this.inflight.delete(job)
          }
        }
      } catch (e) {
        for (const q of [...this.inflight.values(), ...this.queued.splice(0), ...this.valueLookups.splice(0)]) q.reject(e)
        this.inflight.clear()
      } finally {
        this.pumping = undefined
      }
    })()
  }

  /** Wait until no job is running (advancing the host otherwise would interleave with a job's advances). */
  private async quiet(): Promise<void> {
    while (this.pumping) await this.pumping
  }

  /** The longest cached prefix of `tokens`, fetched through the constellation and checked. */
  async lookup(tokens: ReadonlyArray<number>, namespace = this.options.namespace): Promise<FetchedPrefix> {
    const keys = this.keysOf(tokens, namespace)
    const r = await this.run<LookupResult>({ _tag: "Lookup", actor: this.actor, keys })
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
  async store(tokens: ReadonlyArray<number>, past: PastKv, fromBlock = 0, namespace = this.options.namespace): Promise<StoreResult & { blocks: number }> {
    const keys = this.keysOf(tokens.slice(0, past.tokens), namespace).slice(fromBlock)
    const blocks = splitIntoBlocks(past, this.options.blockTokens).slice(fromBlock)
    const o = this.options
    const shares = blocks.map((b, j) => blockToShares(b, keys[j]!, { codec: o.codec, chunkBytes: o.chunkBytes, servers: o.servers, ...(o.authKey ? { authKey: o.authKey } : {}) }))
    const r = await this.run<StoreResult>({ _tag: "Store", actor: this.actor, keys, shares })
    return { ...r, blocks: blocks.length }
  }

  /**
   * Named values (a key-value front end's): each value's bytes as S shares of sealed chunks under its
   * block key, put in one job, done when every put is acknowledged (or given up after its retries).
   * Sparse: a value of fewer than S chunks puts only the shares that hold one (a 1-KiB value is one put
   * and one fetch, not S), and lookups of it ask only those.
   * A key written more than once is given as { key, write } with a new write each time, and read back
   * with the last: a chunk of an older write then fails its tag (cache/integrity.ts) rather than mix
   * into the value read. `authKey`: the writer's (a tenant's) HMAC key, else the cache's.
   */
  async storeValues(keys: ReadonlyArray<BlockRef>, values: ReadonlyArray<Uint8Array>, authKey = this.options.authKey): Promise<StoreResult> {
    const o = this.options
    const shares = values.map((v, j) => bytesToShares(v, keys[j]!, { chunkBytes: o.chunkBytes, servers: o.servers, ...(authKey ? { authKey } : {}) }))
    return this.run<StoreResult>({ _tag: "Store", actor: this.actor, keys: keys.map(keyOfRef), shares, acked: true, sparse: true })
  }

  /** A named value fetched and checked (as written: `key`, or its last write); `bytes` undefined on a miss (or a value that failed its check). */
  async lookupValue(key: BlockRef, authKey = this.options.authKey): Promise<ValueLookup> {
    const r = await new Promise<ValueResult>((resolve, reject) => {
      this.valueLookups.push({ key: keyOfRef(key), resolve, reject })
      this.pump()
    })
    const found = { fetchMs: (r.finishedAt - r.startedAt) * 1e3, finishedAt: r.finishedAt, badChunks: r.badChunks }
    if (r.shares === undefined) return found
    const v = sharesToBytes(r.shares, key, authKey)
    return v.ok ? { ...found, bytes: v.bytes } : { ...found, badChunks: r.badChunks + 1 }
  }

  /** Let `seconds` of virtual time pass (the constellation moves; stores migrate). */
  async advance(seconds: number): Promise<void> {
    await this.quiet()
    await this.host.advanceTo(this.host.now + seconds)
  }

  /** The run so far, merged over every shard. */
  async report(): Promise<EngineReport> {
    return this.host.report()
  }

  async close(): Promise<void> {
    await this.host.close()
  }
}
