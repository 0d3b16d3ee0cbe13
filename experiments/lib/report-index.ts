/**
 * results/index.html: one page over every run under results/, newest first per experiment, with each
 * run's key numbers (its summary.json) and its plots. No scripts, styles or fonts from elsewhere: the
 * page and the plot files beside it are all it needs. Rewritten (atomically) at the end of every run.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { atomicWrite, resultsRoot } from "./results.js"

interface RunEntry {
  readonly experiment: string
  readonly id: string
  readonly dir: string
  readonly summary: Record<string, unknown> | undefined
  readonly plots: ReadonlyArray<string>
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!)

const readJson = (path: string): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>
  } catch {
    return undefined
  }
}

export const listRuns = (root = resultsRoot()): Array<RunEntry> => {
  if (!existsSync(root)) return []
  const runs: Array<RunEntry> = []
  for (const experiment of readdirSync(root).sort()) {
    const eDir = join(root, experiment)
    if (!statSync(eDir).isDirectory()) continue
    for (const id of readdirSync(eDir).sort().reverse()) {
      const dir = join(eDir, id)
      // A run is a directory with its config.json (written first); results may still be coming.
      if (!statSync(dir).isDirectory() || !existsSync(join(dir, "config.json"))) continue
      const files = readdirSync(dir).filter((f) => !f.includes(".tmp-"))
      runs.push({ experiment, id, dir, summary: readJson(join(dir, "summary.json")), plots: files.filter((f) => f.endsWith(".svg")).sort() })
    }
  }
  return runs
}

const formatValue = (v: unknown): string =>
  typeof v === "number" ? (Number.isInteger(v) ? v.toLocaleString("en-US") : v.toPrecision(4)) : typeof v === "string" ? v : JSON.stringify(v)

export const renderIndex = (runs: ReadonlyArray<RunEntry>, root = resultsRoot()): string => {
  const byExperiment = new Map<string, Array<RunEntry>>()
  for (const r of runs) byExperiment.set(r.experiment, [...(byExperiment.get(r.experiment) ?? []), r])
  const sections = [...byExperiment].map(([experiment, list]) => {
    const items = list.map((r) => {
      const rel = (f: string) => escape(relative(root, join(r.dir, f)).split("\\").join("/"))
      const numbers = r.summary
        ? `<table>${Object.entries(r.summary).map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(formatValue(v))}</td></tr>`).join("")}</table>`
        : ""
      const plots = r.plots.map((p) => `<figure><a href="${rel(p)}"><img src="${rel(p)}" alt="${escape(`${experiment} ${p}`)}"></a><figcaption>${escape(p)}</figcaption></figure>`).join("")
      return `<article><h3>${escape(r.id)}</h3><p><a href="${rel("config.json")}">config.json</a>${existsSync(join(r.dir, "results.json")) ? ` · <a href="${rel("results.json")}">results.json</a>` : ""}</p>${numbers}<div class="plots">${plots}</div></article>`
    })
    return `<section id="${escape(experiment)}"><h2>${escape(experiment)}</h2>${items.join("")}</section>`
  })
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SkyMemory results</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#222}
nav a{margin-right:1rem} article{border-top:1px solid #ddd;padding:.5rem 0}
table{border-collapse:collapse;margin:.5rem 0} th,td{padding:2px 8px;text-align:left;border-bottom:1px solid #eee;font-size:.9rem}
.plots{display:flex;flex-wrap:wrap;gap:1rem} figure{margin:0} img{max-width:560px;border:1px solid #eee}
</style></head><body>
<h1>SkyMemory results</h1>
<p>${runs.length} runs under <code>${escape(root)}/</code>, newest first per experiment.</p>
<nav>${[...byExperiment.keys()].map((e) => `<a href="#${escape(e)}">${escape(e)}</a>`).join("")}</nav>
${sections.join("\n")}
</body></html>
`
}

/** Rewrite results/index.html from what is on disk; returns its path. */
export const writeIndex = (root = resultsRoot()): string => {
  const path = join(root, "index.html")
  atomicWrite(path, renderIndex(listRuns(root), root))
  return path
}
