/**
 * The key-value tier behind the Redis front end: values as cache entries in the constellation. A value is
 * chunked, each chunk sealed (CRC-32, and an HMAC under its tenant's key), striped over S satellites by
 * the run's strategy around the serving satellite of the front end's ground station, and put by the
 * inference actor with acknowledged puts; a read fetches the shares and checks every chunk. What the
 * constellation loses (evicted, lost with satellites, migrated away too late) is a miss, never a wrong
 * value.
 *
 * The tier keeps the metadata a cache front end keeps: per tenant and database, the keys it wrote, their
 * expiry (virtual time, SET EX/PX) and which write each holds. A key not in the index reads nil without a
 * fetch: this process's constellation holds no value it did not write. DEL takes a key out of the index
 * and an expired key goes on its next use or at the next sweep (once a wall second, from the pacer), so
 * the index holds live keys, not every key ever named (DEL of 200,000 keys never written kept 28.6 MiB
 * for ever); their shares age out of the satellites' stores. Keys of one tenant are hashed
 * with its name, so tenants never share an entry. Every SET seals its value under a new write number and
 * a GET checks against the key's last (cache/integrity.ts): where a put was lost or a late migration
 * brought an older write's share back, the GET misses; it never answers two writes' chunks as one value.
 * A SET is in the index from the moment it runs, as Redis applies a command before the next (SET NX
 * from two connections: one wins); its value is read once its puts have landed.
 *
 * A value of fewer chunks than S is put on as many satellites as it has chunks (a 1-KiB value is one put
 * and one fetch), and the GETs of all connections that arrive together are one lookup job whose values
 * are answered one by one as they settle.
 *
 * Time: at a finite speed, virtual time follows the wall clock while idle, and a reply waits until the
 * wall clock has caught up with the virtual time its job took (never less than that after the request
 * came in); at speed max nothing waits, and the clock runs up to MAX_SPEED_STEP_SECONDS past a job's end
 * before the jobs asked for meanwhile start (each job's own times stay exact). The constellation runs in
 * this thread, between the sockets' turns: on its own worker thread it was slower (docs/decisions.md).
 */
import { createHmac } from "node:crypto"
import { deflateRawSync, inflateRawSync } from "node:zlib"
import { ConstellationKvCache } from "../../src/actors/constellation-kv.js"
import type { RunConfig } from "../../src/actors/config.js"
import { namedValueKey } from "../../src/cache/keys.js"
import { makeHistogram } from "../../src/runtime/metrics.js"

export const valueCodecs = ["identity", "deflate"] as const
export type ValueCodec = (typeof valueCodecs)[number]

export interface TierOptions {
  readonly preset: string
  readonly catalog: RunConfig["catalog"]
  readonly seed: number
  readonly ground: { readonly latDeg: number; readonly lonDeg: number }
  readonly strategy: string
  readonly codec: ValueCodec
  readonly capacityMb: number
  /** Satellites a value's chunks are striped over (S). */
  readonly servers: number
  /** Virtual seconds per wall second; Infinity = as fast as the emulation runs. */
  readonly speed: number
  /** The server's secret, from which each tenant's HMAC key is derived. */
  readonly secret: Uint8Array
  readonly run?: Partial<RunConfig>
  readonly faults?: { readonly bitErrorRate: number; readonly lossRate: number }
}

interface Entry {
  /** Virtual time it expires at (Infinity: never). */
  expiresAt: number
  /** Its block key in the constellation (a hash of tenant, database and name: computed once, at SET). */
  readonly blockKey: number
  /** The write its value was sealed under (1 on). */
  readonly write: number
}

const CODEC_ID: Record<ValueCodec, number> = { identity: 0, deflate: 1 }

/**
 * At speed max, the clock's step between hand-overs of jobs (virtual s): a little over a 1-KiB GET's
 * typical fetch (4.0 ms from Paris on starlink-shell1), so the GETs handed over together finish in one
 * round of hand-over and advance instead of four (the default 1-ms step), and the clock does not run far
 * past them: every virtual second costs the constellation's own work (migrations, heartbeats). Of 1, 4,
 * 5, 6, 8, 16 and 32 ms, 5 ms served the most 1-KiB GETs per second (docs/performance.md).
 */
const MAX_SPEED_STEP_SECONDS = 5e-3
/** Wall time between sweeps of expired keys (each visits every key). */
const SWEEP_MS = 1000

export class ValueTier {
  /** Per tenant and database: the keys written and live, and expired ones not yet swept. */
  private readonly index = new Map<string, Map<string, Entry>>()
  private readonly started = performance.now()
  private readonly startVirtual: number
  private readonly tenantKeys = new Map<string, Uint8Array>()
  private lastSweep = performance.now()
  /** Writes so far: each SET's entries take the next numbers (any key's writes then differ). */
  private writes = 0
  readonly counters = { gets: 0, hits: 0, sets: 0, corrupt: 0 }
  /** The constellation's own fetch time of every GET that reached it (virtual, microseconds). */
  readonly fetchMicros = makeHistogram()

  readonly kv: ConstellationKvCache

  constructor(readonly o: TierOptions) {
    this.kv = ConstellationKvCache.make({
      preset: o.preset, seed: o.seed, strategy: o.strategy, servers: o.servers, capacityBytesPerSatellite: o.capacityMb * 2 ** 20,
      namespace: { modelId: "redis", tenantSalt: "" },
      ...(o.faults ? { faults: o.faults } : {}),
      ...(Number.isFinite(o.speed) ? {} : { stepSeconds: MAX_SPEED_STEP_SECONDS }),
      // Each tenant's key is applied at this edge; the inference actor checks CRCs only (authKeyHex "").
      run: { catalog: o.catalog, inferenceSite: o.ground, ...o.run }
    })
    this.startVirtual = this.kv.now
  }

  get now(): number {
    return this.kv.now
  }

  private keyOf(tenant: string): Uint8Array {
    let k = this.tenantKeys.get(tenant)
    if (k === undefined) this.tenantKeys.set(tenant, (k = createHmac("sha256", this.o.secret).update(`tenant\u0000${tenant}`).digest()))
    return k
  }

  private blockKey(tenant: string, db: number, key: Uint8Array): number {
    return namedValueKey(key, { modelId: `redis-db${db}`, tenantSalt: tenant })
  }

  /**
   * Run an engine job (the cache batches jobs asked for together: ConstellationKvCache.run), then hold the
   * reply until the wall clock catches up with the virtual time the job ended at.
   */
  private async job<A>(f: () => Promise<A>, endOf: (a: A) => number = () => this.kv.now): Promise<A> {
    const [wall0, virtual0] = [performance.now(), this.kv.now]
    const a = await f()
    const virtualEnd = endOf(a)
    if (Number.isFinite(this.o.speed)) {
      // Idle, virtual time lags the wall clock by up to a pacer tick: never reply sooner than the job's
      // own virtual time after the request came in.
      const due = Math.max(this.started + ((virtualEnd - this.startVirtual) / this.o.speed) * 1e3, wall0 + ((virtualEnd - virtual0) / this.o.speed) * 1e3)
      const wait = due - performance.now()
      // A timer keeps whole milliseconds and can fire up to one early: sleep the whole ones, then turn
      // the event loop until the moment has come.
      if (wait >= 1) await new Promise((r) => setTimeout(r, Math.floor(wait)))
      while (performance.now() < due) await new Promise((r) => setImmediate(r))
    }
    return a
  }

  /** The pacer's tick: bring virtual time up to the wall clock at the run's speed (never back), between jobs. */
  async idle(): Promise<void> {
    if (performance.now() - this.lastSweep >= SWEEP_MS) this.sweep()
    if (!Number.isFinite(this.o.speed)) return
    const target = this.startVirtual + ((performance.now() - this.started) / 1e3) * this.o.speed
    if (target > this.kv.now + 1e-3) await this.kv.advance(target - this.kv.now)
  }

  private entries(tenant: string, db: number): Map<string, Entry> {
    const space = `${tenant}\u0000${db}`
    let m = this.index.get(space)
    if (!m) this.index.set(space, (m = new Map()))
    return m
  }

  /** The key's entry if it is live now; an expired one is dropped and answers undefined. */
  private live(tenant: string, db: number, key: string): Entry | undefined {
    const space = this.entries(tenant, db)
    const e = space.get(key)
    if (e === undefined || e.expiresAt > this.kv.now) return e
    space.delete(key)
    return undefined
  }

  /** Drop every expired entry (Redis expires keys actively too, not only when they are read). */
  private sweep(): void {
    this.lastSweep = performance.now()
    const now = this.kv.now
    for (const space of this.index.values()) for (const [k, e] of space) if (e.expiresAt <= now) space.delete(k)
  }

  exists(tenant: string, db: number, key: Uint8Array): boolean {
    return this.live(tenant, db, Buffer.from(key).toString("latin1")) !== undefined
  }

  /** Keys live in one tenant's database. */
  size(tenant: string, db: number): { keys: number; expires: number } {
    let keys = 0, expires = 0
    for (const e of this.entries(tenant, db).values()) {
      if (e.expiresAt <= this.kv.now) continue
      keys++
      if (Number.isFinite(e.expiresAt)) expires++
    }
    return { keys, expires }
  }

  private encode(value: Uint8Array): Uint8Array {
    const body = this.o.codec === "deflate" ? deflateRawSync(value) : value
    const out = new Uint8Array(body.length + 1)
    out[0] = CODEC_ID[this.o.codec]
    out.set(body, 1)
    return out
  }

  private decode(stored: Uint8Array): Uint8Array | undefined {
    // An empty value has no codec byte: neither codec matches, and it reads as a miss.
    const body = stored.subarray(1)
    if (stored[0] === CODEC_ID.identity) return body
    if (stored[0] === CODEC_ID.deflate) return inflateRawSync(body)
    return undefined
  }

  /** Put entries (SET, MSET): replies once every share's put is acknowledged in emulated time. */
  async set(tenant: string, db: number, entries: ReadonlyArray<{ key: Uint8Array; value: Uint8Array; ttlSeconds?: number }>): Promise<void> {
    this.counters.sets += entries.length
    const space = this.entries(tenant, db)
    // The index takes the new writes as the command runs, as Redis applies a command before the next:
    // a DEL, SET NX/XX or SET of the key from another connection meanwhile sees this one as done (and a
    // GET meanwhile misses rather than read the older value). In order, so of a key set twice in one MSET
    // the later value is the one read back; TTLs count from now.
    const now = this.kv.now
    const written = entries.map((e) => {
      const name = Buffer.from(e.key).toString("latin1")
      const entry: Entry = { expiresAt: e.ttlSeconds === undefined ? Number.POSITIVE_INFINITY : now + e.ttlSeconds, blockKey: this.blockKey(tenant, db, e.key), write: ++this.writes }
      const before = space.get(name)
      space.set(name, entry)
      return { name, entry, before }
    })
    try {
      await this.job(() => this.kv.storeValues(written.map((w) => ({ key: w.entry.blockKey, write: w.entry.write })), entries.map((e) => this.encode(e.value)), this.keyOf(tenant)))
    } catch (e) {
      // Not written: each key this command still holds goes back to what it was.
      for (const w of written.toReversed()) {
        if (space.get(w.name) !== w.entry) continue
        if (w.before === undefined) space.delete(w.name)
        else space.set(w.name, w.before)
      }
      throw e
    }
  }

  /** A value, or null: deleted or expired at once; otherwise fetched from orbit and checked. */
  async get(tenant: string, db: number, key: Uint8Array): Promise<Uint8Array | null> {
    this.counters.gets++
    const k = Buffer.from(key).toString("latin1")
    const entry = this.live(tenant, db, k)
    if (entry === undefined) return null
    // A GET's reply waits for its own fetch, not for the other GETs fetched beside it.
    const ref = { key: entry.blockKey, write: entry.write }
    const r = await this.job(() => this.kv.lookupValue(ref, this.keyOf(tenant)), (r) => r.finishedAt)
    this.fetchMicros.recordValue(Math.max(1, Math.round(r.fetchMs * 1e3)))
    if (r.badChunks > 0) this.counters.corrupt += r.badChunks
    if (r.bytes === undefined) return null
    // Deleted or expired while it was being fetched: a miss, as Redis would answer.
    if (this.live(tenant, db, k) === undefined) return null
    const v = this.decode(r.bytes)
    if (v === undefined) return null
    this.counters.hits++
    return v
  }

  /** DEL: how many of the keys were live. */
  del(tenant: string, db: number, keys: ReadonlyArray<Uint8Array>): number {
    let n = 0
    const space = this.entries(tenant, db)
    for (const key of keys) {
      const k = Buffer.from(key).toString("latin1")
      if (this.live(tenant, db, k) !== undefined) n++
      space.delete(k)
    }
    return n
  }

  /** The constellation's figures for INFO. */
  async figures() {
    const satellites = this.kv.world.satellites
    const report = await this.kv.report()
    const stored = report.occupancy.reduce((n, [, bytes]) => n + bytes, 0)
    return {
      satellites, virtual_seconds: this.kv.now, gets: this.counters.gets, hits: this.counters.hits,
      hit_rate: this.counters.gets > 0 ? this.counters.hits / this.counters.gets : 0, sets: this.counters.sets,
      bytes_stored: stored, migration_bytes: report.counters.migrationBytes ?? 0,
      messages_delivered: report.delivered, messages_dropped: Object.values(report.dropped).reduce((a, b) => a + b, 0),
      chunks_failed_check: this.counters.corrupt,
      // The front end's own metadata: live keys, and expired ones until their sweep.
      keys_indexed: [...this.index.values()].reduce((n, space) => n + space.size, 0),
      fetch_ms_p50: this.fetchMicros.getValueAtPercentile(50) / 1e3, fetch_ms_p90: this.fetchMicros.getValueAtPercentile(90) / 1e3,
      fetch_ms_p99: this.fetchMicros.getValueAtPercentile(99) / 1e3
    }
  }

  async close(): Promise<void> {
    await this.kv.close()
  }
}
