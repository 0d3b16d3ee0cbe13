/**
 * The Redis front end beside a real redis-server on this machine, in one run: redis-benchmark SET and GET
 * ops/s with 1 KiB and 64 KiB values at 50 connections (serve.ts at --speed max; medians of --runs,
 * interleaved with redis-server's), and at --speed 1 the GET latency a client sees against the
 * constellation's own fetch-time histogram (INFO constellation).
 * Each server gets --warmup unmeasured passes of the same tests first (JIT warm-up, alike for both).
 * `npx tsx experiments/serve-bench.ts [--runs 3] [--requests 10000] [--warmup 1] [--json]`
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { type AddressInfo, createServer } from "node:net"
import os from "node:os"
import { promisify } from "node:util"
import { createClient } from "redis"
import { flag, parseCli, runMain } from "./lib/cli.js"
import { startExperimentServer } from "./lib/spawn-server.js"
import { fmt, printResult } from "./lib/output.js"
import { makeStepProgress } from "./lib/progress.js"
import { writeIndex } from "./lib/report-index.js"
import { openRunDirectory } from "./lib/results.js"
import { quantile, summarizeSamples } from "./lib/stats.js"

const exec = promisify(execFile)

const spec = {
  name: "serve-bench",
  summary: "the Redis front end against redis-server: ops/s with redis-benchmark, and GET latency at real time",
  flags: {
    runs: flag.number("interleaved runs per server", 3, { min: 1, integer: true }),
    requests: flag.number("redis-benchmark requests per test", 10_000, { min: 100, integer: true }),
    warmup: flag.number("unmeasured redis-benchmark passes on each server before its measured one (a long-running server is warm)", 1, { min: 0, integer: true }),
    preset: flag.string("constellation of the front end", "starlink-shell1", "NAME"),
    latencyGets: flag.number("GETs timed at --speed 1", 200, { min: 10, integer: true })
  }
}

const startServe = async (args: ReadonlyArray<string>): Promise<{ child: ChildProcess; port: number }> => {
  const { child, url } = await startExperimentServer("serve", args)
  return { child, port: Number(url.split(":").at(-1)) }
}

/** A port free now (the kernel's pick; a random one may be held by one of redis-benchmark's own connections). */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
    probe.on("error", reject)
  })

const startRedis = async (): Promise<{ child: ChildProcess; port: number }> => {
  const port = await freePort()
  const child = spawn("redis-server", ["--port", String(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"], { stdio: "ignore" })
  for (let k = 0; k < 50; k++) {
    try {
      if ((await exec("redis-cli", ["-p", String(port), "PING"])).stdout.trim() === "PONG") return { child, port }
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error("redis-server did not start (apt-get install redis-server)")
}

/** redis-benchmark's CSV rows: test -> requests per second; failures show as errors in its output. */
const benchmark = async (port: number, valueBytes: number, requests: number) => {
  const { stdout, stderr } = await exec("redis-benchmark", ["-p", String(port), "-t", "set,get", "-n", String(requests), "-c", "50", "-d", String(valueBytes), "-r", "1000", "-q", "--csv"], { maxBuffer: 1 << 24 })
  const rps: Record<string, number> = {}
  for (const line of stdout.split("\n")) {
    const m = /^"(SET|GET)","([\d.]+)"/.exec(line)
    if (m) rps[m[1]!] = Number(m[2])
  }
  const errors = (stdout + stderr).split("\n").filter((l) => /ERR|error/i.test(l) && !/CONFIG/.test(l)).length
  return { set: rps.SET ?? Number.NaN, get: rps.GET ?? Number.NaN, errors }
}

runMain(async () => {
  const o = parseCli(spec)
  const sizes = [1024, 65536]
  const progress = makeStepProgress("serve-bench", o.runs * 2 + 1, o.quiet || o.json)
  const samples: Record<string, Array<number>> = {}
  let errors = 0
  const add = (k: string, v: number) => (samples[k] ??= []).push(v)
  for (let run = 0; run < o.runs; run++) {
    for (const server of ["redis-server", "skymemory"] as const) {
      const s = server === "redis-server" ? await startRedis() : await startServe(["--preset", o.preset, "--speed", "max", "--seed", String(o.seed)])
      try {
        for (let w = 0; w < o.warmup; w++) for (const size of sizes) await benchmark(s.port, size, o.requests)
        for (const size of sizes) {
          const b = await benchmark(s.port, size, o.requests)
          add(`${server} SET ${size}`, b.set)
          add(`${server} GET ${size}`, b.get)
          if (server === "skymemory") errors += b.errors
        }
      } finally {
        s.child.kill("SIGTERM")
      }
      progress.step(`${server} run ${run + 1}`)
    }
  }
  // At real time: what a client waits for a GET, and what the constellation took for it.
  const live = await startServe(["--preset", o.preset, "--speed", "1", "--seed", String(o.seed)])
  const waits: Array<number> = []
  let info = ""
  try {
    const client = await createClient({ url: `redis://127.0.0.1:${live.port}` }).connect()
    for (let k = 0; k < 20; k++) await client.set(`bench:${k}`, Buffer.alloc(1024, k))
    for (let k = 0; k < o.latencyGets; k++) {
      const t0 = performance.now()
      await client.get(`bench:${k % 20}`)
      waits.push(performance.now() - t0)
    }
    info = await client.info("constellation")
    await client.quit()
  } finally {
    live.child.kill("SIGTERM")
  }
  progress.step("latency at speed 1")
  progress.stop()
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1])
  const med = (k: string) => summarizeSamples(samples[k]!).median
  const rows = sizes.flatMap((size) => (["SET", "GET"] as const).map((op) => ({
    op, valueBytes: size, redisServerOpsPerSecond: med(`redis-server ${op} ${size}`), skymemoryOpsPerSecond: med(`skymemory ${op} ${size}`),
    ratio: med(`skymemory ${op} ${size}`) / med(`redis-server ${op} ${size}`)
  })))
  const sorted = Float64Array.from(waits).sort()
  const latency = {
    gets: waits.length, clientMs: { p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99) },
    constellationFetchMs: { p50: field("fetch_ms_p50"), p90: field("fetch_ms_p90"), p99: field("fetch_ms_p99") }
  }
  const machine = { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, node: process.version }
  const result = { machine, preset: o.preset, runs: o.runs, requests: o.requests, warmup: o.warmup, connections: 50, rows, errors, latency, samples }
  const dir = openRunDirectory("serve-bench", { seed: o.seed, runs: o.runs, requests: o.requests, warmup: o.warmup, latencyGets: o.latencyGets, preset: o.preset })
  dir.writeJson("results.json", result)
  dir.writeSummary({ "GET 1 KiB ratio to redis-server": rows[1]!.ratio, errors, "client GET p50 ms at speed 1": latency.clientMs.p50, "constellation fetch p50 ms": latency.constellationFetchMs.p50 })
  writeIndex()
  printResult(o.json, result, () => [
    `serve-bench on ${machine.cpu} (${machine.cores} cores): redis-benchmark, 50 connections, ${o.requests} requests per test after ${o.warmup} unmeasured pass(es), medians of ${o.runs} interleaved runs; front end on ${o.preset} at --speed max`,
    "op   value     redis-server ops/s   skymemory ops/s   ratio",
    ...rows.map((r) => `${r.op.padEnd(4)} ${`${r.valueBytes / 1024} KiB`.padEnd(8)} ${fmt(r.redisServerOpsPerSecond, 0).padStart(20)} ${fmt(r.skymemoryOpsPerSecond, 0).padStart(17)} ${fmt(r.ratio, 3).padStart(7)}`),
    `errors reported by redis-benchmark against skymemory: ${errors}`,
    `at --speed 1, ${waits.length} GETs of 1 KiB: client waits p50 ${fmt(latency.clientMs.p50, 1)} / p90 ${fmt(latency.clientMs.p90, 1)} / p99 ${fmt(latency.clientMs.p99, 1)} ms; the constellation's fetch p50 ${fmt(latency.constellationFetchMs.p50, 1)} / p90 ${fmt(latency.constellationFetchMs.p90, 1)} / p99 ${fmt(latency.constellationFetchMs.p99, 1)} ms`,
    `written to ${dir.path}`
  ].join("\n"))
})
