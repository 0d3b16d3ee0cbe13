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
  // Twice: the backing stores of ArrayBuffers the first collection found dead are freed by a sweeper
  // that the next collection finishes first (see measureBytesPerSatellite).
  gc?.()
  gc?.()
  const h = v8.getHeapStatistics() as v8.HeapInfo & { external_memory?: number }
  return h.used_heap_size + (h.external_memory ?? 0)
}

/**
 * Live bytes per satellite actor beyond cache payload: build every actor of a run (world, topology
 * replica, event queue, actor state, start-up timers, the shard's histograms) in this thread and divide
 * the heap it added, JS objects and typed arrays' backing stores alike, by the number of satellites.
 * Cache payload is zero at start, so all of it is overhead. Batches of builds of about 4,000
 * satellites each, every batch kept until the last reading; the median of what each batch added.
 *
 * Why every batch is kept: V8 frees a dead ArrayBuffer's backing store after the collection that found
 * it dead, not during it. Readings around a batch taken while an earlier batch's buffers were still
 * being freed missed the new batch's buffers: until 2026-12-01 this measured the JS heap alone (2,029
 * of starlink-shell1's 3,245 bytes). With nothing dead between readings, batches agree within a few
 * percent.
 */
export const measureBytesPerSatellite = (build: () => unknown, satellites: number): number => {
  const copies = Math.max(1, Math.ceil(4_000 / satellites))
  // Three measured batches for the largest constellations (10,000 satellites a build) bound what is held.
  const batches = copies * satellites > 8_000 ? 3 : 5
  const kept: Array<unknown> = []
  const added: Array<number> = []
  // The first batch is not measured: it meets lazy module state, and the reading before it may count
  // what is about to die (a value the interpreter still holds), which the batch's reading then misses.
  for (let k = 0; k < copies; k++) kept.push(build())
  let last = liveHeapBytes()
  for (let b = 0; b < batches; b++) {
    for (let k = 0; k < copies; k++) kept.push(build())
    const now = liveHeapBytes()
    added.push((now - last) / (copies * satellites))
    last = now
  }
  // Read after the last reading, so no batch is dead (and collectable) before it.
  if (kept.length !== (batches + 1) * copies) throw new Error("unreachable")
  return added.sort((a, b) => a - b)[added.length >> 1]!
}
