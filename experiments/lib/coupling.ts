/**
 * How tightly a partition couples its shards: the hops that cross from one shard to another, and the
 * fewest windows any barrier-synchronous conservative run of them could take.
 *
 * A window [T, E) of such a run must end by the arrival of anything sent across a cut within it (its
 * receiver cannot run past a message it has not been given yet) and at each epoch's end. Knowing every
 * cross-shard hop in advance, the longest legal windows follow greedily. The engine's own windows
 * (runtime/loop.ts) are bounded by what could cross a cut, not by what does: the gap between the two
 * counts is all that better lookahead could ever win on that partition.
 */
import type { HopRecord } from "../../src/runtime/shard.js"

/** A hop between shards: taken at `time` (the event at its sender), arriving at `arrival`. */
export interface Crossing {
  readonly time: number
  readonly arrival: number
}

/** Fewest windows over [0, endSeconds) with windows cut at every epoch's end (see the module doc). */
export const fewestWindows = (crossings: ReadonlyArray<Crossing>, epochSeconds: number, endSeconds: number): number => {
  const sorted = [...crossings].sort((a, b) => a.time - b.time)
  for (const c of sorted) {
    if (!(c.arrival > c.time)) throw new RangeError(`a crossing taken at ${c.time} s arrives at ${c.arrival} s: arrivals must come after the hop`)
  }
  let next = 0
  let epoch = 0
  let windows = 0
  for (let t = 0; t < endSeconds; windows++) {
    const epochEnd = Math.min(endSeconds, (epoch + 1) * epochSeconds)
    let end = epochEnd
    while (next < sorted.length && sorted[next]!.time < t) next++
    for (let j = next; j < sorted.length && sorted[j]!.time < end; j++) end = Math.min(end, sorted[j]!.arrival)
    if (end === epochEnd) epoch++
    t = end
  }
  return windows
}

/** Collects a run's crossings from its hops (an EngineObservers.onHop), given each actor's shard. */
export const crossingRecorder = (owner: Int32Array) => {
  const crossings: Array<Crossing> = []
  return {
    crossings,
    onHop: (h: HopRecord) => {
      if (owner[h.from] !== owner[h.to]) crossings.push({ time: h.time, arrival: h.arrival })
    }
  }
}
