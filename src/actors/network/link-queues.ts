/**
 * The queueing half of the link model: every directed channel (each direction of an ISL, each user's
 * uplink, each satellite-to-user downlink) serialises what it carries at its bandwidth and delivers in
 * FIFO order. A message departs when the channel is free, occupies it for bytes x 8 / bandwidth, and
 * arrives after its delay (propagation, then per-hop processing on ground legs: the sums are kept in
 * that order, so runs stay bit for bit), never before the message sent ahead of it on that channel.
 */
export class LinkQueues {
  /** Per channel: when it is free again, and the arrival time of the last message it carried. */
  private readonly islBusy: Float64Array
  private readonly islLast: Float64Array
  private readonly uplinkBusy: Float64Array
  private readonly uplinkLast: Float64Array
  /** Downlinks get a channel when first used (satellite x user pairs are too many to allocate). */
  private readonly downlink = new Map<number, number>()
  private downlinkBusy: Float64Array = new Float64Array(64)
  private downlinkLast: Float64Array = new Float64Array(64)
  /** Departure time of the message last queued (for observers). */
  depart = 0

  constructor(links: number, private readonly users: number) {
    this.islBusy = new Float64Array(2 * links)
    this.islLast = new Float64Array(2 * links)
    this.uplinkBusy = new Float64Array(users)
    this.uplinkLast = new Float64Array(users)
  }

  /**
   * One message through channel `c` of (busy, last); returns its arrival time. A train (`step` <
   * `serialise`: shares sent back to back, the largest `step`, forwarded share by share) keeps the
   * channel busy for all of it and the next message arrives after its tail, but what is returned is
   * its head's arrival, one step after it left: the next link can start on it then, and its shares
   * arrive a step apart after it (the receiver stores them so: actors/satellite.ts). With no other
   * traffic each share then arrives when it would have, sent alone.
   */
  private pass(busy: Float64Array, last: Float64Array, c: number, now: number, serialise: number, propagation: number, processing: number, step = serialise): number {
    const depart = Math.max(now, busy[c]!)
    this.depart = depart
    busy[c] = depart + serialise
    const before = last[c]!
    const tail = Math.max(depart + serialise + propagation + processing, before)
    last[c] = tail
    return step === serialise ? tail : Math.max(depart + step + propagation + processing, before)
  }

  /**
   * Direction d (2 x link + 0 from linkA, + 1 from linkB) of an ISL; returns the arrival time (of its
   * head, for a train in steps of `step`: see pass).
   */
  isl(d: number, now: number, serialise: number, delay: number, step = serialise): number {
    return this.pass(this.islBusy, this.islLast, d, now, serialise, delay, 0, step)
  }

  /** User u's uplink to its serving satellite; returns the arrival time. */
  uplink(u: number, now: number, serialise: number, propagation: number, processing: number): number {
    return this.pass(this.uplinkBusy, this.uplinkLast, u, now, serialise, propagation, processing)
  }

  /** Satellite `sat`'s downlink to user u; returns the arrival time. */
  downlinkTo(sat: number, u: number, now: number, serialise: number, propagation: number, processing: number): number {
    const key = sat * this.users + u
    let c = this.downlink.get(key)
    if (c === undefined) {
      c = this.downlink.size
      this.downlink.set(key, c)
      if (c === this.downlinkBusy.length) {
        this.downlinkBusy = doubled(this.downlinkBusy)
        this.downlinkLast = doubled(this.downlinkLast)
      }
    }
    return this.pass(this.downlinkBusy, this.downlinkLast, c, now, serialise, propagation, processing)
  }
}

const doubled = (a: Float64Array): Float64Array => {
  const b = new Float64Array(2 * a.length)
  b.set(a)
  return b
}
