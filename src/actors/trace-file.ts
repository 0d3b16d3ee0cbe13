import { readFileSync } from "node:fs"
import { gunzipSync } from "node:zlib"
import { parseTrace, type ParsedTrace } from "../cache/trace.js"

/** Read a Mooncake trace (.jsonl or .jsonl.gz); errors name the file and line. */
export const readTrace = (path: string, opts: { lenient?: boolean; limit?: number } = {}): ParsedTrace => {
  let raw: Buffer
  try {
    raw = readFileSync(path)
  } catch (e) {
    throw Object.assign(new Error(`cannot read trace ${path}: ${(e as Error).message}`), { field: "--trace" })
  }
  const text = path.endsWith(".gz") ? gunzipSync(raw).toString("utf8") : raw.toString("utf8")
  return parseTrace(text, path, opts)
}
