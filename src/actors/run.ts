/**
 * SkyMemory runs on the engine's hosts: in this thread (every shard, window by window) or on the worker
 * pool (one shard per worker, each building the world from its module and the config, so with the
 * built-in strategies only: functions do not cross threads).
 */
import type { EngineObservers } from "../runtime/shard.js"
import { runInProcess as runWorldInProcess } from "../runtime/local.js"
import { type PoolOptions, runOnWorkers as runWorldOnWorkers } from "../runtime/pool.js"
import { runEach as runWorldsEach } from "../runtime/run-pool.js"
import type { RunConfig } from "./config.js"
import { type RunReport, skyReport } from "./report.js"
import { makeWorld, skyWorldSource, type WorldOptions } from "./world.js"

/** `options`: plug-ins for this run (strategies defined outside src/cache: an in-process run can take them). */
export const runInProcess = async (config: RunConfig, shards = 1, observers: EngineObservers = {}, options: WorldOptions = {}): Promise<RunReport> => {
  const world = makeWorld(config, options)
  return skyReport(world, await runWorldInProcess(world, shards, observers))
}

/** Independent runs side by side, one whole run per worker (a sweep); reports in the configs' order. */
export const runEach = (configs: ReadonlyArray<RunConfig>, o: { readonly workers: number; readonly onDone?: (index: number, report: RunReport) => void }): Promise<Array<RunReport>> =>
  runWorldsEach<RunReport>(configs.map(skyWorldSource), o)

export const runOnWorkers = async (config: RunConfig, o: PoolOptions): Promise<RunReport> => {
  const world = makeWorld(config)
  return skyReport(world, await runWorldOnWorkers(skyWorldSource(config), o, world))
}
