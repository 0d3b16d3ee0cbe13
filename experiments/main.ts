/**
 * The main job (`npm start`): the default story on built-in defaults. It grows as the project does; today
 * it summarizes the paper's 19x5 constellation and a user's view of it.
 */
import { parseCli, runMain } from "./lib/cli.js"
import { printResult } from "./lib/output.js"
import { describeSummary, summarize } from "./topology.js"

const spec = { name: "main", summary: "SkyMemory's default story on built-in defaults", flags: {} }

runMain(() => {
  const o = parseCli(spec)
  const base = { preset: "paper-19x5", planes: undefined, satsPerPlane: undefined, altitudeKm: 550, inclinationDeg: 53, phasing: 1, pattern: "delta" as const, maskDeg: 25 }
  // A user under the patch's first pass (the 19x5 patch covers a band of longitudes at a time).
  const s = summarize({ ...base, at: 0, ground: { latDeg: 25, lonDeg: 40 } })
  printResult(o.json, s, () => describeSummary(s))
})
