import { Data } from "effect"

/** Every error the topology layer raises; `field` names the input that was wrong. */
export class TopologyError extends Data.TaggedError("TopologyError")<{
  readonly field: string
  readonly message: string
}> {}

/** One table of error factories, so messages stay consistent (piscina's style). */
export const TopologyErrors = {
  unknownPreset: (name: string, known: ReadonlyArray<string>) =>
    new TopologyError({ field: "preset", message: `unknown preset "${name}" (known: ${known.join(", ")})` }),
  invalidShell: (field: string, value: unknown, expected: string) =>
    new TopologyError({ field, message: `shell ${field} = ${String(value)}: expected ${expected}` }),
  /** A catalog file that cannot be used; `line` 0 = the file as a whole. */
  invalidCatalog: (file: string, line: number, reason: string) =>
    new TopologyError({ field: line > 0 ? `${file}:${line}` : file, message: reason }),
  invalidSpan: (from: number, to: number) =>
    new TopologyError({ field: "span", message: `time span [${from}, ${to}] is empty or not finite` })
}
