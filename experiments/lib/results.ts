/**
 * Where an experiment leaves its results: results/NAME/RUN-ID/ with config.json (everything needed to
 * rerun it), results.json and results.csv. Every file is written to a temporary name and renamed, so an
 * interrupted run never leaves a half-written result, and earlier runs are never touched (each run's
 * directory is its own, even for runs started at the same instant).
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { stringify } from "csv-stringify/sync"

/** The checkout this module belongs to (experiments/lib/ is two levels down). */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..")

export interface RunDirectory {
  readonly path: string
  writeJson(name: string, value: unknown): string
  writeCsv(name: string, rows: ReadonlyArray<Record<string, unknown>>): string
  writeText(name: string, text: string | Uint8Array): string
  /** The run's key numbers (a flat object), shown on results/index.html. */
  writeSummary(numbers: Record<string, number | string | null>): string
}

export const atomicWrite = (path: string, data: string | Uint8Array): void => {
  const tmp = `${path}.tmp-${process.pid}`
  writeFileSync(tmp, data)
  renameSync(tmp, path)
}

/**
 * What ran: Node, the package's version, and the commit checked out ("-dirty" with uncommitted changes
 * to tracked files; "unknown" outside a git checkout), read once per process.
 */
let versionsRead: { node: string; skymemory: string; commit: string } | undefined
export const versions = () => {
  if (versionsRead) return versionsRead
  const git = (...args: Array<string>) => spawnSync("git", args, { cwd: PACKAGE_ROOT, encoding: "utf8" })
  const head = git("rev-parse", "HEAD")
  const dirty = head.status === 0 && git("status", "--porcelain", "--untracked-files=no").stdout.trim() !== ""
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }
  versionsRead = { node: process.version, skymemory: pkg.version, commit: head.status === 0 ? `${head.stdout.trim()}${dirty ? "-dirty" : ""}` : "unknown" }
  return versionsRead
}

const runId = (seed: number): string => `${new Date().toISOString().replace(/[:.]/g, "-")}-seed${seed}`

/** Where results go: results/ under the working directory, or SKYMEMORY_RESULTS. */
export const resultsRoot = (): string => process.env.SKYMEMORY_RESULTS ?? "results"

/**
 * A new directory for this run: made exclusively, so that runs started in the same millisecond with the
 * same seed (a script starting several at once) each get their own ("-2", "-3", ... after the first).
 */
const newRunPath = (parent: string, id: string): string => {
  mkdirSync(parent, { recursive: true })
  for (let k = 1; ; k++) {
    const path = join(parent, k === 1 ? id : `${id}-${k}`)
    try {
      mkdirSync(path)
      return path
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
    }
  }
}

export const openRunDirectory = (experiment: string, config: Record<string, unknown> & { seed: number }, root = resultsRoot()): RunDirectory => {
  const path = newRunPath(join(root, experiment), runId(config.seed))
  const dir: RunDirectory = {
    path,
    writeText: (name, text) => {
      const p = join(path, name)
      atomicWrite(p, text)
      return p
    },
    writeJson: (name, value) => dir.writeText(name, `${JSON.stringify(value, null, 2)}\n`),
    writeCsv: (name, rows) => dir.writeText(name, stringify(rows as Array<Record<string, unknown>>, { header: true })),
    writeSummary: (numbers) => dir.writeJson("summary.json", numbers)
  }
  dir.writeJson("config.json", { experiment, ...config, versions: versions() })
  return dir
}
