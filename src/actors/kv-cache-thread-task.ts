/**
 * The worker side of KvCacheThread (kv-cache-thread.ts): builds the cache in this thread, answers batches
 * of calls as their promises settle (results batched the same way), and ends on "close".
 */
import { ConstellationKvCache, type ValueLookup } from "./constellation-kv.js"
import { type KvCacheThreadTask, Outbox, packLookups, type ThreadCall, type ThreadResults } from "./kv-cache-thread.js"

type Result = ThreadResults["results"][number] & { readonly lookup?: ValueLookup }

export default async function runKvCacheThread(task: KvCacheThreadTask): Promise<void> {
  const kv = ConstellationKvCache.make(task.options)
  const port = task.port
  const outbox = new Outbox<Result>((results) => {
    const found = results.filter((r) => r.lookup !== undefined) as Array<Result & { lookup: ValueLookup }>
    const others = results.filter((r) => r.lookup === undefined)
    if (found.length === 0) return port.postMessage({ now: kv.now, results: others } satisfies ThreadResults)
    const { packed, transfer } = packLookups(found.map((r) => ({ id: r.id, value: r.lookup })))
    port.postMessage({ now: kv.now, results: others, lookups: packed } satisfies ThreadResults, transfer)
  })
  const run = (c: ThreadCall): Promise<unknown> => {
    switch (c.op) {
      case "lookup":
        return kv.lookupValue(c.key, c.authKey)
      case "store":
        return kv.storeValues(c.keys, c.values, c.authKey)
      case "advance":
        return kv.advance(c.seconds)
      case "report":
        return kv.report()
    }
  }
  await new Promise<void>((finish) => {
    port.on("message", (batch: Array<ThreadCall> | "close") => {
      if (batch === "close") return finish()
      for (const c of batch) {
        run(c).then(
          (value) => outbox.push(c.op === "lookup" ? { id: c.id, lookup: value as ValueLookup } : { id: c.id, value }),
          (e: unknown) => outbox.push({ id: c.id, error: e instanceof Error ? e.message : String(e) })
        )
      }
    })
    port.postMessage({ now: kv.now, satellites: kv.satellites })
  })
  port.close()
  await kv.close()
}
