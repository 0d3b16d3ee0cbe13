/**
 * From a block's KV bytes to chunks and servers. A block of B tokens holds
 * layers x 2 (K and V) x kvHeads x headDim x bytesPerValue x B bytes; it is cut into chunks of C bytes
 * (the last one shorter), and chunk c goes to server c mod S.
 */
export interface KvShape {
  readonly layers: number
  readonly kvHeads: number
  readonly headDim: number
  readonly bytesPerValue: number
}

/** Qwen2.5-0.5B's KV shape at fp16: one token is 24 x 2 x 2 x 64 x 2 = 12,288 B, the paper's chunk size. */
export const qwen05bShape: KvShape = { layers: 24, kvHeads: 2, headDim: 64, bytesPerValue: 2 }

export const bytesPerToken = (s: KvShape): number => s.layers * 2 * s.kvHeads * s.headDim * s.bytesPerValue

export const blockBytes = (s: KvShape, blockTokens: number): number => bytesPerToken(s) * blockTokens

export const chunkCount = (bytes: number, chunkBytes: number): number => {
  if (!(chunkBytes >= 1)) throw new RangeError(`chunkBytes must be >= 1, got ${chunkBytes}`)
  return Math.ceil(bytes / chunkBytes)
}

/** Size of chunk c of a `bytes`-long block. */
export const chunkSize = (bytes: number, chunkBytes: number, c: number): number => Math.min(chunkBytes, bytes - c * chunkBytes)

/** Server of chunk c among S. */
export const serverOfChunk = (c: number, servers: number): number => c % servers

/** Cut a byte array into chunks (views, no copy; subarray stops the last at the array's end). */
export const chunk = (bytes: Uint8Array, chunkBytes: number): Array<Uint8Array> =>
  Array.from({ length: chunkCount(bytes.length, chunkBytes) }, (_, c) => bytes.subarray(c * chunkBytes, (c + 1) * chunkBytes))

/** Join chunks back into one array. */
export const unchunk = (chunks: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let off = 0
  for (const c of chunks) {
    out.set(c, off)
    off += c.length
  }
  return out
}
