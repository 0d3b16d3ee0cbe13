/**
 * The LEO network alone (src/actors/network/topology-actor.ts): what one hop does with a record, with
 * no engine around it. Ground legs in the shell a message travels in, ground outages, ISL flaps drawn
 * per link epoch, detours round links that went down since the routing epoch, and trains pipelined.
 * The end-to-end runs pass through all of it, but their trace hashes are pinned only where none of
 * these happen (no flaps, no outages, one shell).
 */
import { describe, expect, it } from "vitest"
import { makeRunConfig } from "../src/actors/config.js"
import { LinkDrop, TopologyActor } from "../src/actors/network/topology-actor.js"
import { Tag } from "../src/actors/protocol.js"
import { makeWorld } from "../src/actors/world.js"
import { F, I, RecordBlock } from "../src/runtime/record.js"
import { REFERENCE, writeCatalog } from "./support/catalog-file.js"

/** A record of `tag` at actor `at` bound for `dst`, not routed yet. */
const record = (at: number, dst: number, tag: number = Tag.BlockGet, bytes = 100) => {
  const b = new RecordBlock(1)
  b.setI(0, I.at, at)
  b.setI(0, I.dst, dst)
  b.setI(0, I.tag, tag)
  b.setI(0, I.bytes, bytes)
  b.setI(0, I.route, -1)
  return b
}

const flapping = (p: number) => {
  const world = makeWorld(makeRunConfig({ preset: "starlink-shell1", users: 8, islFlapProbability: p }))
  const network = new TopologyActor(world, world.ownership(1))
  return { world, network }
}

describe("the LEO network, one hop at a time", () => {
  it("a ground terminal goes up to, and comes down from, its satellite in the shell the message travels in", () => {
    const { path } = writeCatalog("tle")
    const world = makeWorld(makeRunConfig({ catalog: { path, at: REFERENCE, lenient: false, crossShellLinks: false }, users: 40 }))
    const network = new TopologyActor(world, world.ownership(1))
    network.enterEpochOf(0)
    const S = world.satellites
    const c = world.constellation
    let checked = 0
    for (let u = 0; u < world.users.length; u++) {
      const overall = network.servingOf(u)
      if (overall < 0) continue
      for (const s of [c.shellStart[0]!, c.shellStart[1]!]) {
        // Its shell's highest satellite when one is above the mask, else the overall one.
        const inShell = network.servingIn(u, s)
        expect(c.shellOf[inShell] === c.shellOf[s] || inShell === overall).toBe(true)
        if (inShell === overall) continue
        expect(network.hop(record(S + u, s), 0, 0)).toBe(inShell)
        expect(network.hop(record(inShell, S + u), 0, 0)).toBe(S + u)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(0)
  })

  it("a ground user's outage drops what it sends and what comes down to it, until it ends", () => {
    const { world, network } = flapping(0)
    network.enterEpochOf(0)
    const S = world.satellites
    const u = [...world.users.keys()].find((v) => network.servingOf(v) >= 0)!
    const serving = network.servingOf(u)
    network.groundOutage(u, 5)
    for (const now of [0, 4.9]) {
      expect(network.hop(record(S + u, 7), 0, now)).toBe(-1 - LinkDrop.noSatellite)
      expect(network.hop(record(serving, S + u), 0, now)).toBe(-1 - LinkDrop.noSatellite)
    }
    expect(network.hop(record(S + u, 7), 0, 5)).toBe(serving)
    expect(network.hop(record(serving, S + u), 0, 5)).toBe(S + u)
  })

  it("ISL flaps: each link epoch downs its own share of the links geometry allows, the same on a rerun", () => {
    const p = 0.05
    const { network } = flapping(p)
    const { network: calm } = flapping(0)
    const down = (t: number) => {
      network.enterEpochOf(t)
      calm.enterEpochOf(t)
      const links: Array<number> = []
      for (let l = 0; l < calm.snapshot.up.length; l++) if (calm.snapshot.up[l] === 1 && network.snapshot.up[l] === 0) links.push(l)
      return { links, allowed: calm.snapshot.up.reduce((a, x) => a + x, 0) }
    }
    const first = down(1), second = down(2)
    for (const d of [first, second]) {
      expect(d.links.length / d.allowed).toBeGreaterThan(p / 2)
      expect(d.links.length / d.allowed).toBeLessThan(2 * p)
    }
    const shared = first.links.filter((l) => second.links.includes(l)).length
    expect(shared).toBeLessThan(first.links.length / 2)
    expect(down(1).links).toEqual(first.links)
  })

  it("at a routing epoch's first link epoch the routing trees know the links flapped down: no route detours", () => {
    const { world, network } = flapping(0.05)
    // t = 20: a routing epoch starts (every 10 s), with the link state of its first link epoch.
    network.enterEpochOf(20)
    let hops = 0, detours = 0
    for (let target = 0; target < world.satellites; target += 97) {
      for (let at = 0; at < world.satellites; at += 13) {
        if (at === target || network.toward(at, target, target) < 0) continue
        hops++
        if (network.towardDetoured) detours++
      }
    }
    expect(hops).toBeGreaterThan(1000)
    expect(detours).toBe(0)
  })

  it("a hop whose routing-epoch link is down now detours on the current link state, and the message stays on it", () => {
    const { world, network } = flapping(0.05)
    // Mid routing epoch: the trees are of t = 0, the links of t = 3.
    network.enterEpochOf(3)
    const S = world.satellites
    const current = network.snapshot
    let detours = 0
    for (let at = 0; at < S; at += 37) {
      for (let target = 5; target < S; target += 53) {
        if (target === at) continue
        const next = network.toward(at, target, target)
        // Never over a link that is down now.
        expect(current.up[network.towardLink]).toBe(1)
        if (network.towardDetoured) detours++
        expect(next).toBeGreaterThanOrEqual(0)
        // Detoured messages follow the tree of the current link state, whatever the routing tree says.
        const fresh = current.routeFrom(target)
        expect([network.toward(at, target, target, true), network.towardDetoured]).toEqual([fresh.prev[at], true])
      }
    }
    expect(detours).toBeGreaterThan(0)
    // A record whose source-rooted route is down at its first hop is marked detoured (route -2 - root).
    let marked = 0
    for (let at = 0; at < S && marked < 3; at += 11) {
      const target = (at + 700) % S
      network.toward(at, target, at)
      if (!network.towardDetoured) continue
      const b = record(at, target)
      expect(network.hop(b, 0, 3)).toBeGreaterThanOrEqual(0)
      expect(b.getI(0, I.route)).toBe(-2 - at)
      marked++
    }
    expect(marked).toBeGreaterThan(0)
  })

  it("a beacon goes over its one link or not at all; the two directions of a link are separate channels", () => {
    const { network } = flapping(0.05)
    network.enterEpochOf(1)
    const g = network.snapshot.graph
    let beacons = 0
    for (let at = 0; at < 200; at++) {
      for (let k = 0; k < 4; k++) {
        const l = g.neighbourLink[4 * at + k]!
        if (l < 0) continue
        const neighbour = g.linkA[l] === at ? g.linkB[l]! : g.linkA[l]!
        const b = record(at, neighbour, Tag.Beacon, 64)
        b.setI(0, I.aux, k)
        expect(network.hop(b, 0, 1)).toBe(network.snapshot.up[l] === 1 ? neighbour : -1 - LinkDrop.linkDown)
        beacons++
      }
    }
    expect(beacons).toBeGreaterThan(500)
    const { world, network: calm } = flapping(0)
    calm.enterEpochOf(0)
    const next = calm.toward(0, 100, 100)
    const big = 1_000_000
    calm.hop(record(0, next, Tag.BlockPut, big), 0, 1)
    const one = calm.arrival
    // The other direction at the same instant does not wait behind it; the same direction does.
    calm.hop(record(next, 0, Tag.BlockPut, big), 0, 1)
    expect(calm.arrival).toBeCloseTo(one, 12)
    calm.hop(record(0, next, Tag.BlockPut, big), 0, 1)
    expect(calm.arrival).toBeCloseTo(one + (big * 8) / world.config.islBandwidthBitsPerSecond, 9)
  })

  it("a train of shares arrives with its head: one step's serialisation, not the whole train's", () => {
    const { world, network } = flapping(0)
    network.enterEpochOf(0)
    const bandwidth = world.config.islBandwidthBitsPerSecond
    const at = 0
    const target = network.toward(at, 100, 100)
    const delay = network.snapshot.linkDelay[network.towardLink]!
    const train = record(at, target, Tag.MigrateData, 10_000_000)
    train.setF(0, F.p1, 100_000)
    expect(network.hop(train, 0, 1)).toBe(target)
    expect(network.arrival - 1).toBeCloseTo((100_000 * 8) / bandwidth + delay, 9)
    // Anything else of the same size arrives after its last byte.
    const { network: other } = flapping(0)
    other.enterEpochOf(0)
    expect(other.hop(record(at, target, Tag.BlockPut, 10_000_000), 0, 1)).toBe(target)
    expect(other.arrival - 1).toBeCloseTo((10_000_000 * 8) / bandwidth + delay, 9)
  })
})
