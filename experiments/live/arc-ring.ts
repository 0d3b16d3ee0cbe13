/**
 * The arcs the live view draws (a request, reply, put or migration delivered from one actor to
 * another), kept in a ring for viewers that have not had them yet. Each viewer remembers the sequence
 * number it has reached (frames.ts); a viewer lagging more than the ring holds skips the oldest.
 */
export class ArcRing {
  private readonly arcs: Int32Array
  /** Arcs ever pushed: the next arc's sequence number. */
  seq = 0

  constructor(private readonly capacity = 4096) {
    this.arcs = new Int32Array(3 * capacity)
  }

  push(from: number, to: number, kind: number): void {
    const k = 3 * (this.seq % this.capacity)
    this.arcs[k] = from
    this.arcs[k + 1] = to
    this.arcs[k + 2] = kind
    this.seq++
  }

  /** Arcs from sequence number `from` on (at most `max`, the newest, and what the ring still holds), as (from, to, kind) triples. */
  since(from: number, max: number): Int32Array {
    const start = Math.max(from, this.seq - Math.min(max, this.capacity))
    const out = new Int32Array(3 * Math.max(0, this.seq - start))
    for (let s = start, j = 0; s < this.seq; s++, j += 3) {
      const k = 3 * (s % this.capacity)
      out.set(this.arcs.subarray(k, k + 3), j)
    }
    return out
  }
}
