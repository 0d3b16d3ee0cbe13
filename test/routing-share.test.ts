import { describe, expect, it } from "vitest"
import { RoutingShare } from "../src/actors/network/routing-share.js"
import { TopologyActor } from "../src/actors/network/topology-actor.js"
import { makeRunConfig } from "../src/actors/index.js"
import { makeWorld, ownership, shardBounds } from "../src/actors/world.js"

// The shards of a run split an epoch's distances to the cut and the users' routing trees between them
// (RoutingShare). What each then holds must be exactly what one replica computing all of it holds.
describe("routing share: the epoch work split between shards gives what each shard would compute alone", () => {
  for (const shards of [2, 3]) {
    it(`starlink-shell1, ${shards} shards, across routing epochs and an ISL flap`, () => {
      const world = makeWorld(makeRunConfig({ preset: "starlink-shell1", users: 24, islFlapProbability: 0.02 }))
      const owner = ownership(world, shardBounds(world, shards))
      const buffer = new SharedArrayBuffer(RoutingShare.bytesFor(world, shards))
      const split = Array.from({ length: shards }, (_, k) => new TopologyActor(world, owner, RoutingShare.of(buffer, world, k, shards)))
      const alone = new TopologyActor(world, owner)
      const S = world.satellites
      for (const t of [0, 1, 9.5, 10, 31]) {
        for (const topo of split) topo.enterEpochOf(t)
        expect(split.every((topo) => topo.awaitsShared)).toBe(true)
        for (const topo of split) topo.adoptShared()
        alone.enterEpochOf(t)
        expect(alone.awaitsShared).toBe(false)
        for (const topo of split) {
          expect(topo.awaitsShared).toBe(false)
          expect(topo.lookahead).toBe(alone.lookahead)
          expect(Array.from(topo.toCut)).toEqual(Array.from(alone.toCut))
          // Every route the users' trees give, from every satellite to every user's serving satellite.
          for (let u = 0; u < world.users.length; u++) {
            const root = alone.servingOf(u)
            if (root < 0) continue
            for (let at = 0; at < S; at += 7) expect([topo.toward(at, root, root), topo.towardLink, topo.towardDetoured]).toEqual([alone.toward(at, root, root), alone.towardLink, alone.towardDetoured])
          }
        }
      }
      // The distances really vary (not all one bound), so the comparison above says something.
      expect(new Set(Array.from(alone.toCut.subarray(0, S))).size).toBeGreaterThan(50)
    })
  }

  it("one shard, or a small constellation, shares nothing", () => {
    const shell = makeWorld(makeRunConfig({ preset: "starlink-shell1" }))
    expect(RoutingShare.bytesFor(shell, 1)).toBe(0)
    expect(RoutingShare.bytesFor(shell, 2)).toBeGreaterThan(0)
    const paper = makeWorld(makeRunConfig({ preset: "paper-19x5" }))
    expect(RoutingShare.bytesFor(paper, 2)).toBe(0)
    expect(RoutingShare.of(new SharedArrayBuffer(0), paper, 0, 2)).toBeUndefined()
  })
})
