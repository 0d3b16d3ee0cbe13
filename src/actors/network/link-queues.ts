/**
 * The queueing half of the link model: every directed channel (each direction of an ISL, each user's
 * uplink, each satellite-to-user downlink) serialises what it carries at its bandwidth and delivers in
 * FIFO order. (Ground legs add propagation and processing in that order: the sums are kept as they
 * always were, so runs stay bit for bit.) A message departs when the channel is free, occupies it for bytes x 8 / bandwidth, and
 * arrives after the propagation delay, never before the message sent ahead of it on that channel.
 */
export class LinkQueues {
  private readonly busyUntil: Float64Array
  private readonly lastArrival: Float64Array
  private readonly uplinkBusy: Float64Array
  private readonly uplinkLast: Float64Array
  private readonly downlink = new Map<number, [busy: number, last: number]>()
  /** Departure time of the message last queued (for observers). */
  depart = 0

  constructor(links: number, private readonly users: number) {
    this.busyUntil = new Float64Array(2 * links)
    this.lastArrival = new Float64Array(2 * links)
    this.uplinkBusy = new Float64Array(users)
    this.uplinkLast = new Float64Array(users)
  }

  /** Direction d (2 x link + 0 from linkA, + 1 from linkB) of an ISL; returns the arrival time. */
  isl(d: number, now: number, serialise: number, delay: number): number {
    const depart = Math.max(now, this.busyUntil[d]!)
    this.depart = depart
    this.busyUntil[d] = depart + serialise
    const arrival = Math.max(depart + serialise + delay, this.lastArrival[d]!)
    this.lastArrival[d] = arrival
    return arrival
  }

  /** User u's uplink to its serving satellite; returns the arrival time. */
  uplink(u: number, now: number, serialise: number, propagation: number, processing: number): number {
    const depart = Math.max(now, this.uplinkBusy[u]!)
    this.depart = depart
    this.uplinkBusy[u] = depart + serialise
    const arrival = Math.max(depart + serialise + propagation + processing, this.uplinkLast[u]!)
    this.uplinkLast[u] = arrival
    return arrival
  }

  /** Satellite `sat`'s downlink to user u; returns the arrival time. */
  downlinkTo(sat: number, u: number, now: number, serialise: number, propagation: number, processing: number): number {
    const key = sat * this.users + u
    const q = this.downlink.get(key) ?? [0, 0]
    const depart = Math.max(now, q[0])
    this.depart = depart
    q[0] = depart + serialise
    const arrival = Math.max(depart + serialise + propagation + processing, q[1])
    q[1] = arrival
    this.downlink.set(key, q)
    return arrival
  }
}
