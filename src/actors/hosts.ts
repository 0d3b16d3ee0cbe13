/**
 * Where a SkyMemory run runs, as an Effect service swapped by Layer: `InProcess` (every shard in this
 * thread: tests, small runs, observers of every hop) or `Workers` (the piscina pool, one shard per
 * worker). An experiment states what it runs (`runSky(config)`) and provides one Layer, so moving it
 * from one host to the other is a one-line change, and a test can give any experiment the in-process
 * host. Same config and seed, same report, whichever host.
 */
import { Context, Effect, Layer } from "effect"
import type { PoolOptions } from "../runtime/pool.js"
import type { EngineObservers } from "../runtime/shard.js"
import type { RunConfig } from "./config.js"
import type { RunReport } from "./report.js"
import { runInProcess, runOnWorkers } from "./run.js"

export class Host extends Context.Service<Host, {
  /** Run `config` to its end. */
  readonly run: (config: RunConfig) => Effect.Effect<RunReport, unknown>
}>()("skymemory/Host") {}

/** Every shard in this thread (`shards` of them), with optional observers of every hop and delivery. */
export const InProcess = (shards = 1, observers: EngineObservers = {}): Layer.Layer<Host> =>
  Layer.succeed(Host, { run: (config) => Effect.tryPromise({ try: () => runInProcess(config, shards, observers), catch: (e) => e }) })

/** One shard per worker of a piscina pool. */
export const Workers = (o: PoolOptions): Layer.Layer<Host> =>
  Layer.succeed(Host, { run: (config) => Effect.tryPromise({ try: () => runOnWorkers(config, o), catch: (e) => e }) })

/** Run `config` on the host the context provides. */
export const runSky = (config: RunConfig): Effect.Effect<RunReport, unknown, Host> => Effect.flatMap(Host, (h) => h.run(config))
