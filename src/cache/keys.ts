/**
 * Block keys. A prompt's tokens are cut into blocks of B tokens; block i's key is
 * hash(key of block i-1, tokens of block i, model id, tenant salt), so one key stands for the whole prefix
 * up to that block, two tenants (or two models) never share a key unless they share a salt, and a
 * lookup finds the longest run of leading blocks that are cached. Only full blocks get keys.
 *
 * SHA-256 (node:crypto) over the parent key and the block; the key is its first 52 bits, a safe integer,
 * so it travels in a message's float64 field exactly. 2^52 keys make a collision among even 10^8 live
 * blocks a 1-in-10^3 event over a run; a collision can only cost a miss or a wrong-KV read that the
 * chunk's integrity tag rejects, never a silent wrong answer.
 */
import { createHash } from "node:crypto"

export type BlockKey = number

export interface KeyNamespace {
  readonly modelId: string
  /** Per-tenant secret salt; tenants that opt in to sharing use the same shared namespace salt. */
  readonly tenantSalt: string
}

const ROOT = 0

const digestToKey = (d: Buffer): BlockKey => d.readUIntBE(0, 6) * 16 + (d[6]! >>> 4)

/** Key of one block given its parent's key (ROOT for the first block). */
export const blockKey = (parent: BlockKey, block: ArrayLike<number>, ns: KeyNamespace): BlockKey => {
  const h = createHash("sha256")
  h.update(ns.tenantSalt)
  h.update("\u0000")
  h.update(ns.modelId)
  h.update("\u0000")
  const buf = Buffer.alloc(8 + 4 * block.length)
  buf.writeDoubleBE(parent, 0)
  for (let i = 0; i < block.length; i++) buf.writeInt32BE(block[i]!, 8 + 4 * i)
  h.update(buf)
  return digestToKey(h.digest())
}

/** Keys of every full block of `tokens`, in order. */
export const blockKeys = (tokens: ArrayLike<number>, blockTokens: number, ns: KeyNamespace): Array<BlockKey> => {
  if (!Number.isInteger(blockTokens) || blockTokens < 1) throw new RangeError(`blockTokens must be a positive integer, got ${blockTokens}`)
  const keys: Array<BlockKey> = []
  let parent = ROOT
  for (let start = 0; start + blockTokens <= tokens.length; start += blockTokens) {
    const block = Array.prototype.slice.call(tokens, start, start + blockTokens) as Array<number>
    parent = blockKey(parent, block, ns)
    keys.push(parent)
  }
  return keys
}

/** The block key of a named value (a key-value front end's key, as bytes) in a namespace. */
export const namedValueKey = (name: Uint8Array, ns: KeyNamespace): BlockKey =>
  digestToKey(createHash("sha256").update(ns.tenantSalt).update("\u0000").update(ns.modelId).update("\u0000").update(name).digest())

/**
 * Keys for a trace whose blocks are already identified by chained ids (Mooncake's hash_ids): the id
 * stands for the whole prefix, so the key is the id salted by namespace.
 */
export const tracedBlockKey = (hashId: number, ns: KeyNamespace): BlockKey =>
  digestToKey(createHash("sha256").update(ns.tenantSalt).update("\u0000").update(ns.modelId).update("\u0000").update(String(hashId)).digest())
