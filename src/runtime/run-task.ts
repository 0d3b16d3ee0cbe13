/**
 * The piscina task of one whole run: its world built in this worker from the world's module and config,
 * run to its end on one shard (local.ts), reported as the world reports it (WorldModule.reportOf) or as
 * the engine does. Independent configurations of a sweep run this way side by side (run-pool.ts).
 */
import type { WorldSource } from "./build.js"
import { runInProcess } from "./local.js"
import type { WorldModule } from "./worker.js"

export default async function runWholeTask(source: WorldSource): Promise<unknown> {
  const mod = (await import(source.module)) as Partial<WorldModule>
  if (typeof mod.makeWorldFrom !== "function") throw new TypeError(`world module ${source.module} exports no makeWorldFrom(config)`)
  const world = mod.makeWorldFrom(source.config)
  const report = await runInProcess(world, 1)
  return mod.reportOf ? mod.reportOf(world, report) : report
}
