import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

// The layering the code relies on, checked on the sources: what the README's architecture picture says.
const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []))

describe("architecture", () => {
  it("src/runtime is a generic engine: it imports nothing from actors, cache, topology or inference", () => {
    const offenders = filesUnder("src/runtime").filter((f) => /from\s+["']\.\.\/(actors|cache|topology|inference)\//.test(readFileSync(f, "utf8")))
    expect(offenders).toEqual([])
  })

  it("record slots (p0, p1, p2, aux) are named only in the protocol module of src/actors", () => {
    const offenders = filesUnder("src/actors").filter((f) => !f.includes("protocol") && /\b(p0|p1|p2|aux)\b/.test(readFileSync(f, "utf8")))
    expect(offenders).toEqual([])
  })

  it("src/topology and src/cache are pure: they import nothing from actors, runtime or inference", () => {
    const offenders = [...filesUnder("src/topology"), ...filesUnder("src/cache")].filter((f) => /from\s+["']\.\.\/(actors|runtime|inference)\//.test(readFileSync(f, "utf8")))
    expect(offenders).toEqual([])
  })

  it("no behaviour or strategy code branches on a strategy's name", () => {
    const offenders = [...filesUnder("src/actors"), ...filesUnder("src/runtime")].filter((f) => /strategy\s*===\s*["']/.test(readFileSync(f, "utf8")))
    expect(offenders).toEqual([])
  })
})
