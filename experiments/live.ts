/**
 * Watch it fly: the constellation running on the live host, paced to the wall clock at --speed times
 * real time, drawn in the browser (a rotatable globe: satellites coloured by shell with their cache
 * occupancy, links up and down, users and their serving satellites, requests as fading arcs, counters,
 * the retrieval latency distribution, a satellite's store on click, a prompt box answered by the
 * inference actor). The first line on stdout is the page's URL; SIGINT or SIGTERM stops it (exit 0).
 * Served by @effect/platform-node (live/server.ts); the emulation is live/session.ts, frames live/frames.ts.
 * `npx tsx experiments/live.ts --preset starlink-shell1 --speed 10`   (--port 0: any free port)
 */
import { Effect } from "effect"
import { strategyNames } from "../src/cache/strategies.js"
import { flag, parseCli, reportError, traceFlags } from "./lib/cli.js"
import { runServer } from "./lib/server-main.js"
import { atFlag, catalogFlags, presetFlag, resolveConstellation } from "./lib/constellation-flags.js"
import { serveLive } from "./live/server.js"
import { LiveSession } from "./live/session.js"

export const liveSpec = {
  name: "live",
  summary: "a live view of the running constellation in the browser",
  flags: {
    preset: presetFlag("starlink-shell1"),
    ...catalogFlags,
    at: atFlag,
    port: flag.number("TCP port (0: any free port)", 8080, { min: 0, max: 65535, integer: true, placeholder: "P" }),
    host: flag.string("address to listen on (loopback by default; another address exposes the view to the network)", "127.0.0.1", "ADDR"),
    speed: flag.number("virtual seconds per wall second", 1, { min: 0.01, max: 10_000, placeholder: "X" }),
    workload: flag.choice("what the ground does: beacons + key-homed gets/puts, or a trace through the cache protocol", ["standard", "replay"] as const, "standard"),
    strategy: flag.choice("placement strategy (replay workload and the prompt box)", strategyNames, "hop_rotation"),
    users: flag.number("ground users of the standard workload", 32, { min: 0, integer: true }),
    model: flag.string("the prompt box's model (generated: tiny, qwen-shape; or a model folder)", "tiny", "NAME|PATH"),
    maxViewers: flag.number("most viewers at once; more are turned away (HTTP 503)", 32, { min: 1, integer: true, placeholder: "N" }),
    capacityMb: flag.number("store capacity per satellite, MiB (small: watch evictions)", 1024, { min: 1, integer: true, placeholder: "MB" }),
    ...traceFlags(2000)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // Flags and the constellation first, with the experiments' one-line errors and exit 2; then the server
  // under Effect's Node runtime, which turns SIGINT / SIGTERM into interruption (the session closes, exit 0).
  let ready: { o: ReturnType<typeof parseCli<typeof liveSpec.flags>>; session: LiveSession } | undefined
  try {
    const o = parseCli(liveSpec)
    const { catalog } = resolveConstellation(o)
    const session = new LiveSession({
      preset: o.preset, catalog, seed: o.seed, workload: o.workload, strategy: o.strategy, trace: o.trace,
      requests: Number.isFinite(o.requests) ? o.requests : 1_000_000, users: o.users, model: o.model, capacityMb: o.capacityMb
    }, o.speed)
    ready = { o, session }
  } catch (e) {
    reportError(e)
  }
  if (ready) {
    const { o, session } = ready
    runServer(
      serveLive(session, { host: o.host, port: o.port, maxViewers: o.maxViewers, onListening: (url) => process.stdout.write(`${url}\n`) }).pipe(
        Effect.ensuring(Effect.promise(() => session.close()))
      ),
      `--host ${o.host} --port ${o.port}`
    )
  }
}
