/**
 * What the model side needs of a KV cache tier, and all it knows of one: look a prompt's cached prefix
 * up, let time pass while the model computes, store what it computed. SkyMemory's constellation is one
 * (src/actors/constellation-kv.ts); the model code never sees actors, engines or satellites.
 */
import type { PastKv } from "./runner.js"

export interface CachedPrefix {
  /** Tokens covered by the returned KV (whole blocks). */
  readonly tokens: number
  readonly past?: PastKv
  /** Time from the lookup's start to its last share's arrival, ms (the tier's own clock). */
  readonly fetchMs: number
  /** Where the prefix came from (the tier's nodes: satellites for the constellation). */
  readonly satellites: ReadonlyArray<number>
  /** Blocks refused by their integrity check (the prefix stops at the first). */
  readonly rejectedBlocks: number
}

export interface KvTier {
  readonly options: { readonly blockTokens: number }
  lookup(tokens: ReadonlyArray<number>): Promise<CachedPrefix>
  /** Let `seconds` pass on the tier's clock (the model computed for that long). */
  advance(seconds: number): Promise<void>
  /** Put the full blocks of `past` (the cache of `tokens`) from block `fromBlock` on. */
  store(tokens: ReadonlyArray<number>, past: PastKv, fromBlock?: number): Promise<{ readonly blocks: number }>
}
