/**
 * The live view's binary frames: what changed since a viewer's last frame, in typed arrays the page
 * reads without parsing (and acknowledges by seq: server.ts's flow control). Every frame carries all
 * positions (they all move); links and occupancy travel as deltas against what that viewer last got
 * (the first frame, or one after a viewer was skipped, is whole), and arcs as those delivered since its
 * last frame. Little-endian, 4-byte aligned:
 *
 *   header (40 B): u8 kind = 1, u8 whole, u16 0, u32 seq, f64 virtual time, u32 satellites S,
 *                  u32 ground actors U, u32 arcs A, u32 link entries, u32 occupancy entries, u32 0
 *   f32 [2S] latitude, longitude (deg)   i32 [U] serving satellite (-1: none)   i32 [3A] from, to, kind
 *   whole: u8 [links] up, u8 [S] occupancy (0..255 of capacity), padded to 4
 *   delta: u32 [link entries] links that flipped, u32 [occupancy entries] satellite << 8 | occupancy
 */
export const FRAME_KIND = 1
export const HEADER_BYTES = 40

/** The state all viewers' frames are cut from, taken once per tick. */
export interface FrameSource {
  readonly time: number
  readonly latLon: Float64Array
  readonly serving: Int32Array
  readonly linksUp: Uint8Array
  readonly occupancy: Uint8Array
  arcsSince(from: number, max: number): Int32Array
  readonly arcSeq: number
}

/** What one viewer has been sent: frames are deltas against it. */
export class ViewerFrames {
  /** Frames committed (sent) so far; the next frame's seq. */
  seq = 0
  private lastArc = -1
  private links: Uint8Array | undefined
  private occupancy: Uint8Array | undefined

  constructor(private readonly maxArcs = 512) {}

  /** The next frame for this viewer; `commit` records it as sent (a dropped frame is not committed). */
  next(src: FrameSource): { bytes: Uint8Array; commit: () => void } {
    const S = src.occupancy.length
    const L = src.linksUp.length
    const U = src.serving.length
    const whole = this.links === undefined
    const arcs = src.arcsSince(this.lastArc < 0 ? src.arcSeq : this.lastArc, this.maxArcs)
    const flipped: Array<number> = []
    const changed: Array<number> = []
    if (!whole) {
      const links = this.links!, occ = this.occupancy!
      for (let l = 0; l < L; l++) if (links[l] !== src.linksUp[l]) flipped.push(l)
      for (let s = 0; s < S; s++) if (occ[s] !== src.occupancy[s]) changed.push((s << 8) | src.occupancy[s]!)
    }
    const A = arcs.length / 3
    const wholeBytes = whole ? Math.ceil((L + S) / 4) * 4 : 0
    const size = HEADER_BYTES + 8 * S + 4 * U + 4 * arcs.length + 4 * flipped.length + 4 * changed.length + wholeBytes
    const buf = new ArrayBuffer(size)
    const view = new DataView(buf)
    view.setUint8(0, FRAME_KIND)
    view.setUint8(1, whole ? 1 : 0)
    view.setUint32(4, this.seq, true)
    view.setFloat64(8, src.time, true)
    view.setUint32(16, S, true)
    view.setUint32(20, U, true)
    view.setUint32(24, A, true)
    view.setUint32(28, whole ? L : flipped.length, true)
    view.setUint32(32, whole ? S : changed.length, true)
    let o = HEADER_BYTES
    new Float32Array(buf, o, 2 * S).set(src.latLon)
    o += 8 * S
    new Int32Array(buf, o, U).set(src.serving)
    o += 4 * U
    new Int32Array(buf, o, arcs.length).set(arcs)
    o += 4 * arcs.length
    if (whole) {
      new Uint8Array(buf, o, L).set(src.linksUp)
      new Uint8Array(buf, o + L, S).set(src.occupancy)
    } else {
      new Uint32Array(buf, o, flipped.length).set(flipped)
      o += 4 * flipped.length
      new Uint32Array(buf, o, changed.length).set(changed)
    }
    return {
      bytes: new Uint8Array(buf),
      commit: () => {
        this.seq++
        this.lastArc = src.arcSeq
        this.links = Uint8Array.from(src.linksUp)
        this.occupancy = Uint8Array.from(src.occupancy)
      }
    }
  }
}
