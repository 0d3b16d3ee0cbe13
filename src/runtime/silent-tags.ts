/**
 * Silent tags: per actor kind, the tags whose delivery cannot send (Behaviour.silentTags), which the
 * window bounds may ignore (ShardEngine.earliestOutput). A tag the admission model may refuse at that
 * kind is never silent there: a refusal is answered, so the delivery does send.
 */
import type { Behaviour } from "./behaviour.js"
import type { Admission } from "./world.js"

export class SilentTags {
  /** Per kind, per tag: 1 if silent. */
  private readonly table: ReadonlyArray<Uint8Array>

  constructor(
    private readonly kinds: Uint8Array,
    tags: number,
    behaviours: ReadonlyArray<Pick<Behaviour<unknown, never>, "silentTags"> | undefined>,
    admission: Admission | undefined
  ) {
    this.table = behaviours.map((b, kind) => {
      const t = new Uint8Array(tags)
      for (const tag of b?.silentTags ?? []) if (!admission?.mayRefuse(kind, tag)) t[tag] = 1
      return t
    })
  }

  /** Whether delivering `tag` to `actor` cannot send. */
  has(actor: number, tag: number): boolean {
    return this.table[this.kinds[actor]!]![tag] === 1
  }
}
