/**
 * What makes a read safe: every chunk carries a CRC-32 of its bytes (node:zlib, catches bit errors in
 * flight and on board) and, for tenants with a key, an HMAC-SHA256 tag over (block key, write, chunk
 * index, whether it is the block's last chunk, bytes) (catches a satellite that forges or replays chunks,
 * or drops a block's trailing chunks, which a CRC cannot). A chunk that fails either check is a miss:
 * wrong KV never reaches the model. Without a tenant key nothing binds a chunk to its block and index:
 * the CRC catches corruption, not a chunk filed in the wrong place.
 *
 * The write tells apart values written under one key. A KV block's key is a digest of its prefix, so
 * its chunks never change and it is always write 0 (a plain block key). A named value written again
 * (the Redis front end's SET) is sealed under a new write number that its reader knows: a chunk of an
 * older write, left where a put was lost or brought back by a late migration, fails as forged instead of
 * mixing two values into one that verifies.
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { crc32 } from "node:zlib"

export interface ChunkEnvelope {
  readonly bytes: Uint8Array
  readonly crc: number
  /** HMAC tag, or undefined for tenants without an authentication key. */
  readonly tag?: Uint8Array
}

/** A block as its tags name it: its key, or (a named value written more than once) its key and which write. */
export type BlockRef = number | { readonly key: number; readonly write: number }

/** The block key of a ref (what stores file its shares under). */
export const keyOfRef = (block: BlockRef): number => (typeof block === "number" ? block : block.key)

// The last-chunk flag: a reader that reassembles fewer chunks than were written finds its final chunk
// sealed as not last, so a block cut short at the end fails like any other forgery (a gap in the middle
// is a missing chunk already).
const macInput = (block: BlockRef, index: number, last: boolean) => {
  const b = Buffer.alloc(21)
  b.writeDoubleBE(keyOfRef(block), 0)
  b.writeDoubleBE(typeof block === "number" ? 0 : block.write, 8)
  b.writeUInt32BE(index, 16)
  b[20] = last ? 1 : 0
  return b
}

const tagOf = (key: Uint8Array, block: BlockRef, index: number, last: boolean, bytes: Uint8Array): Uint8Array =>
  createHmac("sha256", key).update(macInput(block, index, last)).update(bytes).digest()

/** Seal chunk `index` of `block`; `last`: it is the block's final chunk. */
export const seal = (block: BlockRef, index: number, bytes: Uint8Array, authKey?: Uint8Array, last = false): ChunkEnvelope => ({
  bytes, crc: crc32(bytes), ...(authKey ? { tag: tagOf(authKey, block, index, last, bytes) } : {})
})

export type Verdict = "ok" | "corrupted" | "forged"

/**
 * Check a chunk read back for (block, index). `last`: whether the reader takes it as the block's final
 * chunk; undefined when it cannot know (one share alone: its final chunk may or may not end the block).
 */
export const verify = (e: ChunkEnvelope, block: BlockRef, index: number, authKey?: Uint8Array, last?: boolean): Verdict => {
  if (crc32(e.bytes) !== e.crc) return "corrupted"
  if (authKey) {
    // The tag covers (block key, write, index, last, bytes): a chunk of another block, write or index fails it.
    const matches = (asLast: boolean) => {
      const want = tagOf(authKey, block, index, asLast, e.bytes)
      return e.tag !== undefined && e.tag.length === want.length && timingSafeEqual(e.tag, want)
    }
    if (!(last === undefined ? matches(false) || matches(true) : matches(last))) return "forged"
  }
  return "ok"
}

/**
 * A sealed chunk as bytes, the form it is stored and sent in: CRC-32 (4 B, big-endian), tag length
 * (1 B), tag, then the chunk's bytes. 5 B of overhead per chunk without a tenant key, 37 B with one.
 */
export const frameChunk = (block: BlockRef, index: number, bytes: Uint8Array, authKey?: Uint8Array, last = false): Uint8Array => {
  const e = seal(block, index, bytes, authKey, last)
  const tagLength = e.tag?.length ?? 0
  const out = new Uint8Array(5 + tagLength + bytes.length)
  new DataView(out.buffer).setUint32(0, e.crc)
  out[4] = tagLength
  if (e.tag) out.set(e.tag, 5)
  out.set(bytes, 5 + tagLength)
  return out
}

/** Check a framed chunk read back as chunk `index` of `block` (`last`: as for verify); its bytes only if the verdict is ok. */
export const openFrame = (framed: Uint8Array, block: BlockRef, index: number, authKey?: Uint8Array, last?: boolean): { verdict: Verdict; bytes?: Uint8Array } => {
  if (framed.length < 5 || framed.length < 5 + framed[4]!) return { verdict: "corrupted" }
  const tagLength = framed[4]!
  const e: ChunkEnvelope = {
    bytes: framed.subarray(5 + tagLength),
    crc: new DataView(framed.buffer, framed.byteOffset, framed.byteLength).getUint32(0),
    ...(tagLength > 0 ? { tag: framed.subarray(5, 5 + tagLength) } : {})
  }
  const verdict = verify(e, block, index, authKey, last)
  return verdict === "ok" ? { verdict, bytes: e.bytes } : { verdict }
}

/**
 * A framed chunk's bytes match its CRC: what a satellite can check without the tenant's key, to refuse
 * bytes corrupted on the way in rather than store them (the HMAC is checked by the reader).
 */
export const frameIntact = (framed: Uint8Array): boolean => openFrame(framed, 0, 0).verdict === "ok"
