/**
 * The constellation KV cache on its own thread: a ConstellationKvCache (one in-process shard) in a piscina
 * worker, driven by a thin proxy here. Named-value calls (store, lookup, advance, report) go over a
 * MessagePort in batches, one message per turn of each side's event loop, and so do their results;
 * the worker advances whenever jobs are in flight, without waiting to be asked. A front end's sockets then
 * run beside the emulation instead of taking turns with it (issue 17: the Redis front end's throughput).
 * What is decided in virtual time is the cache's own; which calls share a batch depends on wall-clock
 * arrival, as it does for the cache in one thread.
 */
import { MessageChannel, type MessagePort } from "node:worker_threads"
import { Piscina } from "piscina"
import type { EngineReport } from "../runtime/report.js"
import type { KvCacheOptions, NamedValues, ValueLookup } from "./constellation-kv.js"
import type { StoreResult } from "./inference.js"

/** A call to the worker; `id` pairs it with its result. */
export type ThreadCall =
  | { readonly id: number; readonly op: "lookup"; readonly key: number; readonly authKey?: Uint8Array }
  | { readonly id: number; readonly op: "store"; readonly keys: ReadonlyArray<number>; readonly values: ReadonlyArray<Uint8Array>; readonly authKey?: Uint8Array }
  | { readonly id: number; readonly op: "advance"; readonly seconds: number }
  | { readonly id: number; readonly op: "report" }

/** A call as the proxy makes it, before it is numbered. */
type Unnumbered<C> = C extends ThreadCall ? Omit<C, "id"> : never

/** Results of calls, with the cache's virtual time after them; lookups' results packed (see packLookups). */
export interface ThreadResults {
  readonly now: number
  readonly results: ReadonlyArray<{ readonly id: number; readonly value?: unknown; readonly error?: string }>
  readonly lookups?: PackedLookups
}

/**
 * Lookups' results as three arrays, transferred, not cloned: per value its call id, four figures (fetch ms,
 * finished at, bad chunks, byte length or -1 for a miss), and every value's bytes back to back. Cloned one
 * object and one ArrayBuffer per value, a batch cost the emulation thread a fifth of its time.
 */
export interface PackedLookups {
  readonly ids: Int32Array
  readonly figures: Float64Array
  readonly bytes: Uint8Array
}

export const packLookups = (results: ReadonlyArray<{ readonly id: number; readonly value: ValueLookup }>): { packed: PackedLookups; transfer: Array<ArrayBuffer> } => {
  const ids = new Int32Array(results.length)
  const figures = new Float64Array(4 * results.length)
  const bytes = new Uint8Array(results.reduce((n, r) => n + (r.value.bytes?.length ?? 0), 0))
  let at = 0
  results.forEach((r, i) => {
    ids[i] = r.id
    figures.set([r.value.fetchMs, r.value.finishedAt, r.value.badChunks, r.value.bytes?.length ?? -1], 4 * i)
    if (r.value.bytes) {
      bytes.set(r.value.bytes, at)
      at += r.value.bytes.length
    }
  })
  return { packed: { ids, figures, bytes }, transfer: [ids.buffer, figures.buffer, bytes.buffer] }
}

export const unpackLookups = (p: PackedLookups): Array<{ id: number; value: ValueLookup }> => {
  let at = 0
  return Array.from(p.ids, (id, i) => {
    const [fetchMs, finishedAt, badChunks, length] = p.figures.subarray(4 * i, 4 * i + 4) as unknown as [number, number, number, number]
    const found = { fetchMs, finishedAt, badChunks }
    if (length < 0) return { id, value: found }
    const bytes = p.bytes.subarray(at, at + length)
    at += length
    return { id, value: { ...found, bytes } }
  })
}

export interface KvCacheThreadTask {
  readonly options: Partial<KvCacheOptions>
  /** The first message on it is the cache's virtual time and satellites once built; then results. */
  readonly port: MessagePort
}

/** Messages sent in one batch per turn of the event loop (a turn's calls from every connection together). */
export class Outbox<M> {
  private pending: Array<M> = []
  private scheduled = false
  constructor(private readonly send: (batch: Array<M>) => void) {}
  push(m: M): void {
    this.pending.push(m)
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      const batch = this.pending
      this.pending = []
      this.send(batch)
    })
  }
}

export class KvCacheThread implements NamedValues {
  private t = 0
  private nextId = 0
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>()
  private readonly outbox: Outbox<ThreadCall>
  private failure: Error | undefined

  private constructor(readonly satellites: number, private readonly pool: Piscina, private readonly port: MessagePort, private readonly task: Promise<void>) {
    this.outbox = new Outbox((batch) => port.postMessage(batch))
    port.on("message", (m: ThreadResults) => {
      this.t = m.now
      const results: ThreadResults["results"] = m.lookups ? [...m.results, ...unpackLookups(m.lookups)] : m.results
      for (const r of results) {
        const w = this.waiting.get(r.id)
        this.waiting.delete(r.id)
        if (r.error !== undefined) w?.reject(new Error(r.error))
        else w?.resolve(r.value)
      }
    })
    task.catch((e: unknown) => this.fail(e instanceof Error ? e : new Error(String(e))))
  }

  /** Start the worker and build the cache there; resolves once it is ready. */
  static async open(options: Partial<KvCacheOptions>): Promise<KvCacheThread> {
    const pool = new Piscina({ filename: new URL("./kv-cache-thread-entry.mjs", import.meta.url).href, minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: 1, idleTimeout: 1000 })
    const { port1, port2 } = new MessageChannel()
    const ready = new Promise<{ now: number; satellites: number }>((resolve) => port1.once("message", resolve))
    const task = pool.run({ options, port: port2 } satisfies KvCacheThreadTask, { transferList: [port2] }) as Promise<void>
    const first = await Promise.race([ready, task.then(() => { throw new Error("the cache's thread ended before it was ready") })])
    const thread = new KvCacheThread(first.satellites, pool, port1, task)
    thread.t = first.now
    return thread
  }

  private fail(e: Error): void {
    this.failure ??= e
    for (const w of this.waiting.values()) w.reject(e)
    this.waiting.clear()
  }

  private call<A>(call: Unnumbered<ThreadCall>): Promise<A> {
    if (this.failure) return Promise.reject(this.failure)
    return new Promise<A>((resolve, reject) => {
      const id = this.nextId++
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.outbox.push({ ...call, id } as ThreadCall)
    })
  }

  get now(): number {
    return this.t
  }

  storeValues(keys: ReadonlyArray<number>, values: ReadonlyArray<Uint8Array>, authKey?: Uint8Array): Promise<StoreResult> {
    return this.call({ op: "store", keys, values, ...(authKey ? { authKey } : {}) })
  }

  lookupValue(key: number, authKey?: Uint8Array): Promise<ValueLookup> {
    return this.call({ op: "lookup", key, ...(authKey ? { authKey } : {}) })
  }

  advance(seconds: number): Promise<void> {
    return this.call({ op: "advance", seconds })
  }

  report(): Promise<EngineReport> {
    return this.call({ op: "report" })
  }

  async close(): Promise<void> {
    this.port.postMessage("close")
    await this.task.catch(() => {})
    this.port.close()
    await this.pool.destroy()
  }
}
