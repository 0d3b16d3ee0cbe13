/**
 * Independent runs side by side: a piscina pool of `workers` threads, one whole run per task (one shard,
 * in its worker), for sweeps over configurations (strategy x codec x capacity x seed). A run's results
 * depend on its config alone, not on the pool's size or on which runs shared it.
 */
import { Piscina } from "piscina"
import type { WorldSource } from "./build.js"

export class RunOfSweepFailed extends Error {
  readonly _tag = "RunOfSweepFailed"
  constructor(readonly index: number, override readonly cause: unknown) {
    super(`run ${index} of the sweep failed: ${(cause as Error)?.message ?? String(cause)}`)
  }
}

/** Run every source to its end, `workers` at a time; reports in the sources' order. */
export const runEach = async <R>(sources: ReadonlyArray<WorldSource>, o: { readonly workers: number; readonly onDone?: (index: number, report: R) => void }): Promise<Array<R>> => {
  if (!(Number.isInteger(o.workers) && o.workers >= 1)) throw new RangeError(`workers must be an integer >= 1, got ${o.workers}`)
  const threads = Math.min(o.workers, Math.max(1, sources.length))
  const pool = new Piscina({ filename: new URL("./run-task-entry.mjs", import.meta.url).href, minThreads: threads, maxThreads: threads, concurrentTasksPerWorker: 1, idleTimeout: 1000 })
  try {
    return await Promise.all(sources.map(async (source, i) => {
      try {
        const r = (await pool.run(source)) as R
        o.onDone?.(i, r)
        return r
      } catch (e) {
        throw new RunOfSweepFailed(i, e)
      }
    }))
  } finally {
    await pool.destroy()
  }
}
