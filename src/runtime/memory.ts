import v8 from "node:v8"
import vm from "node:vm"

/**
 * This thread's live heap (JS heap + external memory such as typed arrays), after a full GC when one can
 * be forced, so that "bytes per actor" measures what actors keep, not garbage.
 */
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
 * number of satellites. Cache payload is zero at start, so all of it is overhead.
 */
export const measureBytesPerSatellite = async (build: () => unknown, satellites: number): Promise<number> => {
  const before = liveHeapBytes()
  const kept = build()
  const after = liveHeapBytes()
  if (kept === undefined) throw new Error("build must return what it built, so it stays alive while measured")
  return (after - before) / satellites
}
