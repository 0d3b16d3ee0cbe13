/**
 * What SkyMemory sends another shard beside its records (runtime/side-channel.ts): a share's bytes (the
 * payload wire) or a migration's manifest. Each frame starts with an 8-byte header whose first byte
 * says which, so the receiver hands the rest (8-byte aligned for the manifest's numbers) to its owner.
 */
export const SideFrame = { wire: 0, manifest: 1 } as const
export type SideFrameKind = typeof SideFrame[keyof typeof SideFrame]

const HEADER = 8

/** `body` framed as `kind`. */
export const sideFrame = (kind: SideFrameKind, body: Uint8Array): Uint8Array => {
  const f = new Uint8Array(HEADER + body.length)
  f[0] = kind
  f.set(body, HEADER)
  return f
}

/** A frame's kind and body; throws on a frame no sender of this world writes. */
export const readSideFrame = (frame: Uint8Array): { readonly kind: SideFrameKind; readonly body: Uint8Array } => {
  const kind = frame[0]
  if (frame.length < HEADER || (kind !== SideFrame.wire && kind !== SideFrame.manifest)) throw new TypeError(`a side frame of ${frame.length} bytes with kind ${kind}`)
  return { kind, body: frame.subarray(HEADER) }
}
