/**
 * The live view's server (@effect/platform-node): the page and its libraries from this folder and
 * node_modules (nothing from a CDN: it runs offline), and a WebSocket per viewer at /ws. One fiber paces
 * the emulation to the wall clock and cuts each viewer's frames at the rate that viewer asked for; each
 * viewer has its own sender fiber behind a bounded queue, so a slow or vanished viewer loses frames and
 * never slows the emulation or the other viewers. Viewers' messages are decoded with Schema
 * (messages.ts); a bad one is refused, counted and answered with an error, never acted on.
 */
import { existsSync, readFileSync } from "node:fs"
import { createServer } from "node:http"
import { createRequire } from "node:module"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Fiber, Layer, Queue } from "effect"
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "effect/http"
import { NodeHttpServer } from "@effect/platform-node"
import type { FrameSource } from "./frames.js"
import { ViewerFrames } from "./frames.js"
import { type ClientMessage, parseClientMessage } from "./messages.js"
import type { LiveSession } from "./session.js"

const require = createRequire(import.meta.url)
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))

/** A file shipped in an installed package, found on node's module paths (d3's exports hide its dist/). */
const packageFile = (pkg: string, file: string): string => {
  for (const dir of require.resolve.paths(pkg) ?? []) {
    const candidate = join(dir, pkg, file)
    if (existsSync(candidate)) return candidate
  }
  throw new Error(`${pkg}/${file} is not installed (npm ci)`)
}

/** Everything the page loads, read once: path -> (content type, bytes). */
const assets = (): Map<string, { type: string; body: Uint8Array }> => {
  const files: Array<[string, string, string]> = [
    ["/", "text/html; charset=utf-8", here("./page/index.html")],
    ["/view.js", "text/javascript; charset=utf-8", here("./page/view.js")],
    ["/view.css", "text/css; charset=utf-8", here("./page/view.css")],
    ["/lib/d3.min.js", "text/javascript; charset=utf-8", packageFile("d3", "dist/d3.min.js")],
    ["/lib/topojson-client.min.js", "text/javascript; charset=utf-8", packageFile("topojson-client", "dist/topojson-client.min.js")],
    ["/lib/land-110m.json", "application/json", packageFile("world-atlas", "land-110m.json")]
  ]
  return new Map(files.map(([path, type, file]) => [path, { type, body: readFileSync(file) }]))
}

/**
 * Flow control per viewer. A WebSocket write never waits (the socket buffers whatever it is given), so
 * the page acknowledges each frame it draws, and a viewer gets a new frame only while fewer than
 * UNACKED_FRAMES of its frames are unacknowledged: one that stops reading stops getting frames (they are
 * dropped for it, not committed), and what the server holds for it stays bounded. Replies (stats, errors,
 * a satellite's store, an answer) wait in a bounded outbox of OUTBOX; beyond it they are dropped.
 */
const UNACKED_FRAMES = 4
const OUTBOX = 64
const TICK_MS = 1000 / 30
const STATS_MS = 1000

interface Viewer {
  readonly id: number
  fps: number
  lastFrameAt: number
  readonly frames: ViewerFrames
  readonly outbox: Queue.Queue<Uint8Array | string>
  /** Frames the page has acknowledged (the next seq it expects). */
  acked: number
  /** A prompt of this viewer is being answered (one at a time: the model's worker is shared). */
  prompting: boolean
}

export interface LiveCounters {
  viewers: number
  connections: number
  /** Viewers turned away at --max-viewers (HTTP 503). */
  turnedAway: number
  refused: number
  framesSent: number
  framesDropped: number
}

export interface LiveServerOptions {
  readonly host: string
  readonly port: number
  /** Most viewers at once; one more gets HTTP 503 (each costs the pacer a frame a tick). */
  readonly maxViewers: number
  /** Called once listening, with the page's URL. */
  readonly onListening: (url: string) => void
}

export const serveLive = (session: LiveSession, o: LiveServerOptions) => {
  const files = assets()
  const viewers = new Map<number, Viewer>()
  const counters: LiveCounters = { viewers: 0, connections: 0, turnedAway: 0, refused: 0, framesSent: 0, framesDropped: 0 }
  let nextId = 0
  const occupancy = new Uint8Array(session.satellites)
  const serving = new Int32Array(session.kv.world.users.length)

  /** The state frames are cut from, taken once per tick (only when some viewer is due). */
  const source = (): FrameSource => ({
    time: session.now, latLon: session.latLon(), serving: session.serving(serving), linksUp: session.linksUp,
    occupancy: session.occupancy(occupancy), arcSeq: session.arcs.seq, arcsSince: (from, max) => session.arcs.since(from, max)
  })

  const send = (v: Viewer, m: Uint8Array | string) => Queue.offer(v.outbox, m)
  const sendJson = (v: Viewer, value: unknown) => send(v, JSON.stringify(value))

  const act = (v: Viewer, m: ClientMessage) =>
    Effect.gen(function* () {
      switch (m.type) {
        case "ack":
          v.acked = Math.max(v.acked, Math.min(m.seq + 1, v.frames.seq))
          return
        case "rate":
          v.fps = m.fps
          return
        case "pause":
          session.paused = true
          return
        case "resume":
          session.paused = false
          return
        case "speed":
          session.speed = m.x
          return
        case "inspect":
          yield* sendJson(v, session.inspect(m.satellite))
          return
        case "prompt": {
          // The answer comes when the model and the constellation are done; the viewer keeps its frames meanwhile.
          const answer = yield* Effect.tryPromise(() => session.prompt(m.text)).pipe(
            Effect.catch((e) => Effect.succeed({ type: "error" as const, message: `prompt failed: ${String((e as { cause?: unknown }).cause ?? e)}` })),
            Effect.ensuring(Effect.sync(() => (v.prompting = false)))
          )
          yield* sendJson(v, answer)
        }
      }
    })

  /** One viewer: its sender and its reader, until the socket closes. */
  const viewerSocket = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (counters.viewers >= o.maxViewers) {
      counters.turnedAway++
      return HttpServerResponse.text(`at most ${o.maxViewers} viewers at once`, { status: 503 })
    }
    const socket = yield* request.upgrade
    const writer = yield* socket.writer
    const reader = yield* socket.reader
    const v: Viewer = { id: nextId++, fps: 10, lastFrameAt: 0, frames: new ViewerFrames(), outbox: yield* Queue.dropping<Uint8Array | string>(OUTBOX), acked: 0, prompting: false }
    counters.connections++
    counters.viewers++
    yield* sendJson(v, session.describe())
    const sender = yield* Effect.forkChild(Effect.forever(Effect.flatMap(Queue.take(v.outbox), (m) => writer.write(m))))
    viewers.set(v.id, v)
    yield* Effect.gen(function* () {
      for (;;) {
        const batch = yield* reader.pull
        for (const raw of batch) {
          const parsed = parseClientMessage(raw)
          if (!parsed.ok) {
            counters.refused++
            yield* sendJson(v, { type: "error", message: `refused: ${parsed.reason}` })
            continue
          }
          // Prompts run beside the reader: a viewer can pause or inspect while the model thinks. One at a
          // time per viewer, or a viewer could queue the model's worker up without bound.
          if (parsed.message.type === "prompt") {
            if (v.prompting) {
              counters.refused++
              yield* sendJson(v, { type: "error", message: "refused: a prompt of this viewer is still being answered" })
              continue
            }
            v.prompting = true
            yield* Effect.forkChild(act(v, parsed.message))
          } else yield* act(v, parsed.message)
        }
      }
    }).pipe(Effect.ignore)
    viewers.delete(v.id)
    counters.viewers--
    yield* Fiber.interrupt(sender)
    return HttpServerResponse.empty()
  }).pipe(Effect.scoped, Effect.catch(() => Effect.succeed(HttpServerResponse.empty({ status: 400 }))))

  /** Pace the emulation and cut frames; stats once a second. */
  const pacer = Effect.gen(function* () {
    let last = performance.now()
    let lastStats = 0
    for (;;) {
      yield* Effect.sleep(TICK_MS)
      const now = performance.now()
      const dt = Math.min(0.25, (now - last) / 1e3)
      last = now
      yield* Effect.promise(() => session.tick(dt))
      // Viewers whose next frame is due; those too far behind on acknowledgements lose it.
      const due = [...viewers.values()].filter((v) => now - v.lastFrameAt >= 1000 / v.fps - 1)
      for (const v of due) v.lastFrameAt = now
      const ready = due.filter((v) => v.frames.seq - v.acked < UNACKED_FRAMES)
      counters.framesDropped += due.length - ready.length
      if (ready.length > 0) {
        const src = source()
        for (const v of ready) {
          const frame = v.frames.next(src)
          if (yield* send(v, frame.bytes)) {
            frame.commit()
            counters.framesSent++
          } else counters.framesDropped++
        }
      }
      if (now - lastStats >= STATS_MS && viewers.size > 0) {
        lastStats = now
        const stats = JSON.stringify({ ...session.stats(), server: counters })
        for (const v of viewers.values()) yield* send(v, stats)
      }
    }
  })

  const routes = Layer.mergeAll(
    HttpRouter.add("GET", "/ws", viewerSocket),
    HttpRouter.add("GET", "/favicon.ico", HttpServerResponse.empty({ status: 204 })),
    ...[...files.keys()].map((path) => HttpRouter.add("GET", path as `/${string}`, () => {
      const f = files.get(path)!
      return Effect.succeed(HttpServerResponse.uint8Array(f.body, { contentType: f.type }))
    }))
  )

  return Effect.gen(function* () {
    const announce = HttpServer.addressFormattedWith((address) => Effect.sync(() => o.onListening(`${address}/`)))
    yield* Effect.forkChild(pacer)
    yield* Layer.launch(
      HttpRouter.serve(routes, { disableLogger: true, disableListenLog: true }).pipe(
        Layer.provideMerge(Layer.effectDiscard(announce).pipe(Layer.provideMerge(NodeHttpServer.layer(() => createServer(), { port: o.port, host: o.host, websocket: { maxPayload: 64 * 1024 } }))))
      )
    )
  })
}

export type { LiveSession }
