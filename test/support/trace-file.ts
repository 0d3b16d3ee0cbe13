/**
 * A Mooncake-format trace written for a test: one request a line (timestamp ms, hash_ids; input_length
 * from the blocks unless given), in time order, in a fresh temporary folder. Returns its path.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface TraceLine {
  readonly timestamp: number
  readonly hash_ids: ReadonlyArray<number>
  readonly input_length?: number
  readonly output_length?: number
}

export const writeTrace = (lines: ReadonlyArray<TraceLine>): string => {
  const sorted = [...lines].sort((a, b) => a.timestamp - b.timestamp)
  const path = join(mkdtempSync(join(tmpdir(), "skymemory-trace-")), "trace.jsonl")
  writeFileSync(path, sorted.map((l) => JSON.stringify({ input_length: 512 * l.hash_ids.length, output_length: 1, ...l })).join("\n") + "\n")
  return path
}
