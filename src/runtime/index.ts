/** The generic actor engine: worlds, hosts and reports (see world.ts for what a world provides). */
export type { ActorContext, Behaviour, Envelope, Footprint, SupervisionPolicy } from "./behaviour.js"
export { ActorFailure, SilentTagSent } from "./behaviour.js"
export { buildShard, type WorldSource } from "./build.js"
export { LiveEngine } from "./live.js"
export { runInProcess } from "./local.js"
export { runOnWorkers, RunFailed, type PoolOptions } from "./pool.js"
export type { EngineReport } from "./report.js"
export type { Admission, EngineConfig, Network, ShardSpec, ShardWorld, World } from "./world.js"
