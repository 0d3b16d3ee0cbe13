/**
 * Placement strategies as plug-ins: one interface and one registry. A strategy says where a block's S
 * shares go, how they move when the writer's serving satellite moves, and where a reader looks; the
 * actors (src/actors) run whichever the config names, with no branch on any strategy's name.
 *
 * Two families:
 * - centred: shares around a centre satellite (the writer's serving satellite when it writes).
 *   `handover: "follow"`: the writer moves them round its new serving satellite (minimal moves, see
 *   placement.migrate), and readers look around the writer's serving satellite now (the directory names
 *   the writer). `handover: "anchor"`: they stay where they were written; the directory names the
 *   centre they were written around, and readers look there.
 * - keyed: shares on satellites chosen from the block key alone; nothing moves, readers hash the key.
 *
 * Adding one: a file exporting a PlacementStrategy (see the README), listed in `builtInStrategies`, or
 * handed to a run (src/actors/world.ts makeWorld's `strategies`) without touching this file.
 */
import type { Constellation, IslGraph } from "../topology/index.js"
import { baselineServers, bfsFrom, boxAround, jumpHash } from "./placement.js"

/** What a centred strategy sees: the constellation and its ISL grid (its placements are pure in them). */
export interface PlacementGeometry {
  readonly constellation: Constellation.Constellation
  readonly graph: IslGraph
}

interface StrategyBase {
  readonly name: string
  /** One line for --help and the README. */
  readonly summary: string
}

export interface CentredStrategy extends StrategyBase {
  readonly kind: "centred"
  /** The satellites of servers 0 .. S-1 around `centre` (distinct); RangeError if they do not fit the shell. */
  around(geo: PlacementGeometry, centre: number, servers: number): ReadonlyArray<number>
  readonly handover: "follow" | "anchor"
  /**
   * Anchored strategies: the satellites a block may be written around, given the writer's serving
   * satellite and the block's key (pure in them); absent: the serving satellite itself. Given several,
   * the writer asks each for its box's write load (LoadGet) and writes around the least loaded.
   */
  anchors?(geo: PlacementGeometry, serving: number, key: number): ReadonlyArray<number>
  /**
   * Anchored strategies: a reader that fetched a block of another writer (found through its directory)
   * from an anchor more than this many ISL hops from its serving satellite places a copy around that
   * satellite, and the directory answers each later lookup with the copy nearest the asker. Absent: no
   * copies.
   */
  readonly replicateBeyondHops?: number
}

export interface KeyedStrategy extends StrategyBase {
  readonly kind: "keyed"
  /** The satellites of block `key`'s S shares among `satellites` (distinct). */
  ofKey(satellites: number, key: number, servers: number): ReadonlyArray<number>
}

export type PlacementStrategy = CentredStrategy | KeyedStrategy

const boxSide = (servers: number) => Math.ceil(Math.sqrt(servers))

export const rotation: CentredStrategy = {
  name: "rotation",
  summary: "the paper's k x k box around the centre (k = ceil(sqrt S)), slot first; follows the writer",
  kind: "centred",
  handover: "follow",
  around: (geo, centre, servers) => boxAround(geo.constellation, geo.graph, centre, boxSide(servers)).slice(0, servers)
}

export const hop: CentredStrategy = {
  name: "hop",
  summary: "the paper's breadth-first order over the ISL grid from the centre, no box; follows the writer",
  kind: "centred",
  handover: "follow",
  around: (geo, centre, servers) => bfsFrom(geo.graph, centre, servers)
}

export const hopRotation: CentredStrategy = {
  name: "hop_rotation",
  summary: "the paper's breadth-first order restricted to the box; follows the writer",
  kind: "centred",
  handover: "follow",
  around: (geo, centre, servers) => {
    const box = new Set(boxAround(geo.constellation, geo.graph, centre, boxSide(servers)))
    return bfsFrom(geo.graph, centre, servers, (s) => box.has(s))
  }
}

export const baseline: KeyedStrategy = {
  name: "baseline",
  summary: "placement-unaware: jump consistent hashing of (key, share) over all satellites; never moves",
  kind: "keyed",
  ofKey: baselineServers
}

/**
 * Ours: each block in one rotation box around one of two satellites hashed from its key, the one whose
 * box has taken fewer bytes (the writer asks both; satellites learn their box's load from beacons), and
 * anchored there. The hash spreads the load over the whole constellation as the baseline's does (at a
 * capacity that binds, hit rate is what TTFT is made of, and every placement around the user fills the
 * satellites over the populated cities first: docs/architecture.md); the second choice evens it out, so
 * no box turns its blocks over much faster than the rest (a block is lost when any of its boxes' nine
 * satellites evicts its share: the most loaded satellites decide which long-idle conversations keep
 * their prefix); the box keeps a block's shares a hop or two apart; nothing migrates; and readers
 * remember the anchors they have seen (client.ts), so a conversation's next turn needs no directory
 * round trip. A block read by other conversations than its writer's (the shared system prompt every
 * request starts with) is copied near its readers: a reader more than 4 hops from the nearest copy
 * places one around its own satellite, so that fetching it costs a few hops, not half the grid.
 */
export const ours: CentredStrategy = {
  name: "ours",
  summary: "a box around the less loaded of two satellites hashed from the key, anchored (no migration; readers remember anchors); shared blocks copied near their readers",
  kind: "centred",
  handover: "anchor",
  anchors: (geo, _serving, key) => [
    jumpHash(BigInt(key) * 2_654_435_761n + 17n, geo.constellation.size),
    jumpHash(BigInt(key) * 2_654_435_761n + 40_503n, geo.constellation.size)
  ],
  replicateBeyondHops: 4,
  around: rotation.around
}

export const builtInStrategies: ReadonlyArray<PlacementStrategy> = [rotation, hop, hopRotation, baseline, ours]
export const strategyNames: ReadonlyArray<string> = builtInStrategies.map((s) => s.name)
/** A strategy name (the built-ins', or a plug-in's). */
export type Strategy = string

export class UnknownStrategy extends Error {
  readonly _tag = "UnknownStrategy"
  readonly field = "replay.strategy"
  constructor(readonly strategy: string, known: ReadonlyArray<string>) {
    super(`config.replay.strategy: unknown placement strategy "${strategy}" (known: ${known.join(", ")})`)
  }
}

/** The strategy called `name`, among the built-ins and `extra` (which win over built-ins of the same name). */
export const strategyNamed = (name: string, extra: ReadonlyArray<PlacementStrategy> = []): PlacementStrategy => {
  const found = extra.find((s) => s.name === name) ?? builtInStrategies.find((s) => s.name === name)
  if (found === undefined) throw new UnknownStrategy(name, [...strategyNames, ...extra.map((s) => s.name)])
  return found
}
