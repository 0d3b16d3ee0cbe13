/**
 * This thread's live heap (JS heap + external memory such as typed arrays), after a full GC when one can
 * be forced, so that "bytes per actor" measures what actors keep, not garbage.
 */
import v8 from "node:v8"
import vm from "node:vm"

let gc: (() => void) | undefined
try {
  v8.setFlagsFromString("--expose-gc")
  gc = vm.runInNewContext("gc") as () => void
} catch {
  gc = undefined
}

export const liveHeapBytes = (): number => {
  gc?.()
  const h = v8.getHeapStatistics() as v8.HeapInfo & { external_memory?: number }
  return h.used_heap_size + (h.external_memory ?? 0)
}

/**
 * Live bytes per satellite actor beyond cache payload: build every actor of a run (world, topology
 * replica, event queue, actor state, start-up timers) in this thread and divide the heap it added by the
 * number of satellites. Cache payload is zero at start, so all of it is overhead. One build is discarded
 * first (lazy module state), and small constellations are built several times over so the heap's
 * megabyte-scale noise does not swamp a few kilobytes per actor.
 */
export const measureBytesPerSatellite = (build: () => unknown, satellites: number): number => {
  build()
  const copies = Math.max(1, Math.ceil(20_000 / satellites))
  const once = (): number => {
    const before = liveHeapBytes()
    const kept: Array<unknown> = []
    for (let k = 0; k < copies; k++) kept.push(build())
    const after = liveHeapBytes()
    if (kept.length !== copies) throw new Error("unreachable")
    return (after - before) / (copies * satellites)
  }
  // Median of three: freed buffers are accounted late, which moves single readings by a few hundred bytes.
  return [once(), once(), once()].sort((a, b) => a - b)[1]!
}
