import { describe, expect, it } from "vitest"
import { Tag } from "../src/actors/protocol.js"
import { makeRunConfig, type RunConfig } from "../src/actors/index.js"
import type { SkyBehaviour } from "../src/actors/sky-context.js"
import { makeWorld } from "../src/actors/world.js"
import { SilentTagSent } from "../src/runtime/behaviour.js"
import { SilentTags } from "../src/runtime/silent-tags.js"
import type { Admission } from "../src/runtime/world.js"
import { runInProcess } from "../src/runtime/local.js"

// Behaviours declare the tags whose delivery only changes state (Behaviour.silentTags); the engine's
// window bounds then ignore those deliveries. These tests run SkyMemory's world with some kinds'
// behaviours changed: a world is a value, so the change is a wrapper round its makeShard.
const runWith = (config: RunConfig, shards: number, change: (kind: string, b: SkyBehaviour<unknown>) => SkyBehaviour<unknown>) => {
  const world = makeWorld(config)
  return runInProcess({
    ...world,
    makeShard: (spec) => {
      const part = world.makeShard(spec)
      return { ...part, behaviours: part.behaviours.map((b, kind) => (b ? change(world.kindNames[kind]!, b) : b)) }
    }
  }, shards)
}

describe("silent tags", () => {
  it("a tag is silent at the kinds that declare it, and never where the admission model may refuse it (a refusal is answered)", () => {
    const kinds = Uint8Array.of(0, 1, 1, 2)
    const admission = { mayRefuse: (kind: number, tag: number) => kind === 1 && tag === 3 } as Admission
    const silent = new SilentTags(kinds, 5, [{ silentTags: [2, 3] }, { silentTags: [2, 3, 4] }, undefined], admission)
    const silentAt = (actor: number) => [0, 1, 2, 3, 4].filter((tag) => silent.has(actor, tag))
    expect([0, 1, 2, 3].map(silentAt)).toEqual([[2, 3], [2, 4], [2, 4], []])
    // Without an admission model, whatever is declared.
    expect(new SilentTags(kinds, 5, [{ silentTags: [2, 3] }, { silentTags: [2, 3, 4] }, undefined], undefined).has(1, 3)).toBe(true)
  })

  const config = makeRunConfig({ preset: "starlink-shell1", simSeconds: 6, users: 32, requestRatePerUser: 4 })

  it("give the same run in fewer windows than bounding every delivery", async () => {
    const declared = await runWith(config, 2, (_, b) => b)
    const undeclared = await runWith(config, 2, (kind, { silentTags, ...b }) => (kind === "satellite" || kind === "ground" ? b : { ...b, ...(silentTags ? { silentTags } : {}) }))
    expect(declared.traceHash).toBe(undeclared.traceHash)
    expect(declared.events).toBe(undeclared.events)
    expect(declared.dropped.invalid).toBe(0)
    expect(declared.deliveredByTag.Beacon).toBeGreaterThan(6 * 1584 * 3)
    expect(declared.windows).toBeLessThan(0.95 * undeclared.windows)
  }, 60_000)

  it("a behaviour that sends while handling a tag it declared silent stops the run with SilentTagSent", async () => {
    const err = await runWith(makeRunConfig({ preset: "paper-19x5", simSeconds: 3 }), 2, (kind, b) => kind !== "satellite" ? b : {
      ...b,
      handle: (state, msg, ctx) => {
        if (msg.tag === Tag.Beacon) ctx.send(msg.origin, Tag.Beacon, 64, 0, 0, 0, msg.aux ^ 1)
        b.handle(state, msg, ctx)
      }
    }).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(SilentTagSent)
    expect((err as SilentTagSent).tag).toBe(Tag.Beacon)
    expect((err as Error).message).toMatch(/declared tag 2 silent but sent tag 2/)
  })
})
