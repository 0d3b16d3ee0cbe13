import { afterEach, describe, expect, it } from "vitest"
import type { Behaviour } from "../src/actors/actor.js"
import { SilentTagSent } from "../src/actors/actor.js"
import { Tag } from "../src/actors/messages.js"
import { actorKinds } from "../src/actors/registry.js"
import { makeRunConfig, runInProcess } from "../src/runtime/index.js"

// Behaviours declare the tags whose delivery only changes state (Behaviour.silentTags); the engine's
// window bounds then ignore those deliveries. These tests swap a kind's factory for a variant.
const original = { ...actorKinds }
afterEach(() => Object.assign(actorKinds, original))

const variant = (kind: "satellite" | "ground", change: (b: Behaviour<unknown>) => Behaviour<unknown>) => {
  const make = original[kind]!
  actorKinds[kind] = (k) => change(make(k))
}

describe("silent tags", () => {
  const config = makeRunConfig({ preset: "starlink-shell1", simSeconds: 6, users: 32, requestRatePerUser: 4 })

  it("give the same run in fewer windows than bounding every delivery", async () => {
    const declared = await runInProcess(config, 2)
    for (const kind of ["satellite", "ground"] as const) variant(kind, ({ silentTags: _, ...b }) => b)
    const undeclared = await runInProcess(config, 2)
    expect(declared.traceHash).toBe(undeclared.traceHash)
    expect(declared.events).toBe(undeclared.events)
    expect(declared.dropped.invalid).toBe(0)
    expect(declared.deliveredByTag.Beacon).toBeGreaterThan(6 * 1584 * 3)
    expect(declared.windows).toBeLessThan(0.95 * undeclared.windows)
  }, 60_000)

  it("a behaviour that sends while handling a tag it declared silent stops the run with SilentTagSent", async () => {
    variant("satellite", (b) => ({
      ...b,
      handle: (state, msg, ctx) => {
        if (msg.tag === Tag.Beacon) ctx.send(msg.origin, Tag.Beacon, 64, 0, 0, 0, msg.aux ^ 1)
        b.handle!(state, msg, ctx)
      }
    }))
    const err = await runInProcess(makeRunConfig({ preset: "paper-19x5", simSeconds: 3 }), 2).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(SilentTagSent)
    expect((err as SilentTagSent).tag).toBe(Tag.Beacon)
    expect((err as Error).message).toMatch(/declared tag 2 silent but sent tag 2/)
  })
})
