/**
 * What SkyMemory sends another shard beside its records (runtime/side-channel.ts): a share's bytes (the
 * payload wire) or a migration's manifest. Each frame starts with an 8-byte header whose first byte
 * says which, so the receiver hands the rest (8-byte aligned for the manifest's numbers) to its owner.
 */
import type { ShardSpec } from "../runtime/world.js"

export const SideFrame = { wire: 0, manifest: 1 } as const
export type SideFrameKind = typeof SideFrame[keyof typeof SideFrame]

const HEADER = 8

/**
 * What `elsewhere` hooks (the payload wire's, the manifests') call: for an actor this shard does not own,
 * send `body` framed as `kind` to its owner's shard and answer true; false for an actor of this shard.
 */
export const sendToOwner = (spec: Pick<ShardSpec, "owner" | "index" | "side">, kind: SideFrameKind) => (to: number, body: Uint8Array): boolean => {
  const owner = spec.owner[to]!
  if (owner === spec.index) return false
  spec.side.send(owner, sideFrame(kind, body))
  return true
}

/** `body` framed as `kind`. */
const sideFrame = (kind: SideFrameKind, body: Uint8Array): Uint8Array => {
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
