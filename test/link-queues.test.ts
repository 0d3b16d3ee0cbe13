import { describe, expect, it } from "vitest"
import { LinkQueues } from "../src/actors/network/link-queues.js"

// The link model's queues alone: serialisation, FIFO per channel, trains and channel bookkeeping.
describe("link queues", () => {
  it("a channel serialises what it carries in order; each direction and each uplink is its own channel", () => {
    const q = new LinkQueues(2, 2)
    // Two 1-s messages on ISL 0 forward at t = 0, 0.5 s away: the second leaves when the first is out.
    expect([q.isl(0, 0, 1, 0.5), q.depart]).toEqual([1.5, 0])
    expect([q.isl(0, 0, 1, 0.5), q.depart]).toEqual([2.5, 1])
    // The other direction and the other link are free.
    expect([q.isl(1, 0, 1, 0.5), q.isl(2, 0, 1, 0.5)]).toEqual([1.5, 1.5])
    // An uplink adds its processing after propagation.
    expect(q.uplink(1, 2, 0.25, 0.5, 0.125)).toBe(2.875)
    expect(q.uplink(1, 2, 0.25, 0.5, 0.125)).toBe(3.125)
    // User 0's uplink is free meanwhile.
    expect(q.uplink(0, 2, 0.25, 0.5, 0.125)).toBe(2.875)
  })

  it("never delivers ahead of what the channel carried before, though its delay has shrunk since", () => {
    const q = new LinkQueues(1, 0)
    expect(q.isl(0, 0, 0.1, 1.0)).toBe(1.1)
    expect(q.isl(0, 0.2, 0.1, 0.5)).toBe(1.1)
    // A train behind it: its head too.
    expect(q.isl(0, 0.3, 0.3, 0.5, 0.1)).toBe(1.1)
  })

  it("a train holds the channel for all its shares, returns its head's arrival one step after it left, and what follows arrives after its tail", () => {
    const q = new LinkQueues(1, 0)
    // Three 1-s shares back to back: the head arrives 1 s after leaving plus the delay, the tail at 3.5.
    expect(q.isl(0, 0, 3, 0.5, 1)).toBe(1.5)
    expect([q.isl(0, 0.1, 1, 0.5), q.depart]).toEqual([4.5, 3])
  })

  it("downlinks get their channel on first use, however many (satellite, user) pairs there are", () => {
    const users = 100
    const q = new LinkQueues(0, users)
    for (let u = 0; u < users; u++) expect(q.downlinkTo(7, u, 0, 1, 0.5, 0)).toBe(1.5)
    // Each channel remembers its own traffic, the first ones too once the channels have grown past 64:
    // a second message to user 3 or 70 queues behind the first.
    expect(q.downlinkTo(7, 3, 0, 1, 0.5, 0)).toBe(2.5)
    expect(q.downlinkTo(7, 70, 0, 1, 0.5, 0)).toBe(2.5)
    expect(q.downlinkTo(8, 70, 0, 1, 0.5, 0)).toBe(1.5)
  })
})
