/**
 * SkyMemory's actor kinds, by id range: satellites 0 .. S-1, ground users S .. S+U-1 (standard-workload
 * users or replay clients, by workload), then the inference actors S+U .. S+U+I-1. The engine indexes
 * behaviours by these codes (World.kinds).
 */
export const Kind = { satellite: 0, ground: 1, client: 2, inference: 3 } as const
export type ActorKind = keyof typeof Kind
export const kindNames: ReadonlyArray<ActorKind> = ["satellite", "ground", "client", "inference"]
