/**
 * A block on its way to satellites and back: encoded by the codec, cut into chunks of C bytes, each
 * chunk sealed (CRC-32, and an HMAC tag with the tenant's key, the final chunk marked as the last),
 * chunk c in share c mod S. Back: every chunk checked before the block is decoded; one bad or missing
 * chunk, or a block that ends on a chunk not sealed as its last, makes the whole block a miss.
 */
import { chunk, serverOfChunk, unchunk } from "../cache/chunking.js"
import { type CodecName, decodeBlock, encodeBlock, type KvBlock } from "../cache/codecs.js"
import { type BlockRef, frameChunk, openFrame, type Verdict } from "../cache/integrity.js"
import type { ShareChunks } from "../cache/payload-wire.js"

/** Any bytes as S shares of sealed chunks (chunk c in share c mod S), sealed as `key` (a named value: and its write). */
export const bytesToShares = (bytes: Uint8Array, key: BlockRef, o: { chunkBytes: number; servers: number; authKey?: Uint8Array }): Array<ShareChunks> => {
  const shares: Array<Array<Uint8Array>> = Array.from({ length: o.servers }, () => [])
  const chunks = chunk(bytes, o.chunkBytes)
  chunks.forEach((c, i) => shares[serverOfChunk(i, o.servers)]!.push(frameChunk(key, i, c, o.authKey, i === chunks.length - 1)))
  return shares
}

export const blockToShares = (block: KvBlock, key: number, o: { codec: CodecName; chunkBytes: number; servers: number; authKey?: Uint8Array }): Array<ShareChunks> =>
  bytesToShares(encodeBlock(block, o.codec), key, o)

export type BlockVerdict = { readonly ok: true; readonly block: KvBlock } | { readonly ok: false; readonly verdict: Exclude<Verdict, "ok"> | "malformed"; readonly chunk: number }

/**
 * Chunks of one share (share `share` of S: chunks share, share + S, ...) that fail their check. Alone, a
 * share cannot tell whether its final chunk ends the block: that one may be sealed either way.
 */
export const badShareChunks = (chunks: ShareChunks, share: number, servers: number, key: BlockRef, authKey?: Uint8Array): number => {
  let bad = 0
  chunks.forEach((framed, c) => { if (openFrame(framed, key, c * servers + share, authKey, c < chunks.length - 1 ? false : undefined).verdict !== "ok") bad++ })
  return bad
}

/** Chunks of a block's shares that fail their check (every chunk is checked; for fault accounting). */
export const badChunks = (shares: ReadonlyArray<ShareChunks>, key: number, authKey?: Uint8Array): number =>
  shares.reduce((n, chunks, k) => n + badShareChunks(chunks, k, shares.length, key, authKey), 0)

export type BytesVerdict = { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly verdict: Exclude<Verdict, "ok"> | "malformed"; readonly chunk: number }

/** The bytes back from their shares, every chunk checked first; one bad or missing chunk fails the whole. */
export const sharesToBytes = (shares: ReadonlyArray<ShareChunks>, key: BlockRef, authKey?: Uint8Array): BytesVerdict => {
  const S = shares.length
  const total = shares.reduce((n, s) => n + s.length, 0)
  const chunks: Array<Uint8Array> = []
  for (let i = 0; i < total; i++) {
    const framed = shares[serverOfChunk(i, S)]![Math.floor(i / S)]
    if (framed === undefined) return { ok: false, verdict: "malformed", chunk: i }
    const opened = openFrame(framed, key, i, authKey, i === total - 1)
    if (opened.bytes === undefined) return { ok: false, verdict: opened.verdict as Exclude<Verdict, "ok">, chunk: i }
    chunks.push(opened.bytes)
  }
  return { ok: true, bytes: unchunk(chunks) }
}

export const sharesToBlock = (shares: ReadonlyArray<ShareChunks>, key: number, authKey?: Uint8Array): BlockVerdict => {
  const v = sharesToBytes(shares, key, authKey)
  if (!v.ok) return v
  try {
    return { ok: true, block: decodeBlock(v.bytes) }
  } catch {
    return { ok: false, verdict: "malformed", chunk: -1 }
  }
}
