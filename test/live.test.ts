/**
 * The live view from the outside: the server as a user starts it, the page in headless Chromium, raw
 * WebSocket viewers beside it (ten at once, and hostile ones), and SIGTERM; and, alone, the frames and
 * the bounds of what a viewer may send.
 */
import type { ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type Browser, chromium } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ArcRing } from "../experiments/live/arc-ring.js"
import { ViewerFrames, type FrameSource } from "../experiments/live/frames.js"
import { MAX_CLIENT_MESSAGE_BYTES, parseClientMessage } from "../experiments/live/messages.js"
import { startExperimentServer } from "../experiments/lib/spawn-server.js"

const env = { ...process.env, SKYMEMORY_RESULTS: mkdtempSync(join(tmpdir(), "skymemory-live-")) }

const startServer = (args: ReadonlyArray<string>) => startExperimentServer("live", args, { env, stderr: "pipe" })

/** A raw viewer: every message it gets, parsed (JSON) or as the frame's byte length. */
const viewer = async (url: string) => {
  const ws = new WebSocket(`${url.replace("http", "ws")}ws`)
  ws.binaryType = "arraybuffer"
  const got = { json: [] as Array<Record<string, any>>, frames: 0, closed: false }
  ws.onmessage = (e) => {
    if (typeof e.data === "string") got.json.push(JSON.parse(e.data))
    else {
      got.frames++
      // Acknowledged as the page does: unacknowledged frames stop after a few.
      ws.send(JSON.stringify({ type: "ack", seq: new DataView(e.data as ArrayBuffer).getUint32(4, true) }))
    }
  }
  ws.onclose = () => { got.closed = true }
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject })
  return { ws, got }
}

const until = async (f: () => boolean, ms = 15_000) => {
  const t0 = Date.now()
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error("timed out waiting")
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe("the live view", () => {
  let server: { child: ChildProcess; url: string }
  let browser: Browser
  beforeAll(async () => {
    server = await startServer(["--preset", "starlink-shell1", "--speed", "10"])
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] })
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    server?.child.kill("SIGKILL")
  })

  it("the page draws the constellation, moves, opens a satellite's panel and answers a prompt", async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } })
    const errors: Array<string> = []
    page.on("pageerror", (e) => errors.push(e.message))
    await page.goto(server.url)
    await page.waitForFunction(() => (globalThis as any).skyView.frames > 3, null, { timeout: 20_000 })
    expect(await page.textContent("#drawn")).toMatch(/^drawing 1584 satellites \(\d+ on this side\)$/)
    const first = await page.screenshot()
    await page.waitForTimeout(1000)
    const second = await page.screenshot()
    expect(Buffer.compare(first, second)).not.toBe(0)
    // A satellite on this side: click it, its panel opens with its store.
    const at = await page.evaluate(() => {
      const v = (globalThis as any).skyView
      for (let i = 0; i < v.satellites; i++) {
        const p = v.screenOf(i)
        if (p && p.x > 100 && p.y > 100) return { i, ...p }
      }
      return null
    })
    expect(at).not.toBeNull()
    await page.mouse.click(at!.x, at!.y)
    await page.waitForSelector("#panel:not([hidden])", { timeout: 10_000 })
    expect(await page.textContent("#panel-body")).toMatch(/blocks \d+.*bytes .*MiB.*hits \d+.*evictions \d+/s)
    // A prompt, then the same prompt longer: the second reuses KV from orbit and lights its satellites.
    for (const text of ["What is a satellite?", "What is a satellite? Tell me more."]) {
      await page.fill("#prompt-text", text)
      await page.click("#prompt button")
      await page.waitForFunction(() => /tokens from orbit/.test((globalThis as any).document.getElementById("answer").textContent ?? ""), null, { timeout: 60_000 })
    }
    expect(await page.textContent("#answer")).toMatch(/[1-9]\d*\/\d+ tokens from orbit \(satellites \d+/)
    expect(errors).toEqual([])
    await page.close()
  }, 120_000)

  it("ten viewers at once each get the constellation and frames; bad messages are refused and counted", async () => {
    const viewers = await Promise.all(Array.from({ length: 10 }, () => viewer(server.url)))
    await until(() => viewers.every((v) => v.got.frames >= 5))
    for (const v of viewers) expect(v.got.json[0]).toMatchObject({ type: "init", satellites: 1584 })
    const [bad] = viewers
    for (const m of ["not json", JSON.stringify({ type: "speed", x: "fast" }), JSON.stringify({ type: "launch" }), "x".repeat(10_000)]) bad!.ws.send(m)
    bad!.ws.send(new Uint8Array([1, 2, 3]))
    await until(() => bad!.got.json.filter((m) => m.type === "error").length >= 5)
    expect(bad!.got.json.filter((m) => m.type === "error").map((m) => m.message)).toEqual([
      "refused: not JSON", "refused: not a known message", "refused: not a known message", "refused: message of 10000 characters (limit 4096)", "refused: binary message"
    ])
    // Still served after them; the server counted them and all ten viewers.
    const frames = bad!.got.frames
    await until(() => bad!.got.frames > frames + 3)
    await until(() => bad!.got.json.some((m) => m.type === "stats" && m.server.refused >= 5 && m.server.viewers >= 10))
    // A message over the transport's limit closes that connection only.
    const huge = await viewer(server.url)
    huge.ws.send("y".repeat(200_000))
    await until(() => huge.got.closed)
    const others = viewers.map((v) => v.got.frames)
    await until(() => viewers.every((v, i) => v.got.frames > others[i]! + 2))
    // Inspect answers with the store; pause stops virtual time.
    bad!.ws.send(JSON.stringify({ type: "inspect", satellite: 7 }))
    await until(() => bad!.got.json.some((m) => m.type === "satellite" && m.satellite === 7))
    for (const v of viewers) v.ws.close()
  }, 60_000)

  it("a viewer that stops reading loses frames; the emulation and the other viewers go on at their rate", async () => {
    const big = await startServer(["--preset", "starlink-phase1", "--speed", "10"])
    try {
      // A raw WebSocket: the handshake, one masked message asking 60 frames/s, then never another read.
      const port = Number(new URL(big.url).port)
      const slow = connect(port, "127.0.0.1")
      await new Promise((r) => slow.once("connect", r))
      slow.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
      const text = Buffer.from(JSON.stringify({ type: "rate", fps: 60 }))
      const mask = randomBytes(4)
      slow.write(Buffer.concat([Buffer.from([0x81, 0x80 | text.length]), mask, Buffer.from(text.map((b, i) => b ^ mask[i % 4]!))]))
      slow.pause()
      const fine = await viewer(big.url)
      const t0 = Date.now()
      await until(() => fine.got.json.some((m) => m.type === "stats" && m.server.framesDropped > 0), 40_000)
      const seconds = (Date.now() - t0) / 1000
      // The reading viewer kept getting frames at about its 10 per second, and virtual time kept moving.
      expect(fine.got.frames).toBeGreaterThan(0.6 * 10 * seconds)
      const times = fine.got.json.filter((m) => m.type === "stats").map((m) => m.time as number)
      expect(times.at(-1)!).toBeGreaterThan(times[0]! + 0.5 * 10 * (seconds - 2))
      fine.ws.close()
      slow.destroy()
    } finally {
      big.child.kill("SIGKILL")
    }
  }, 90_000)

  it("turns viewers past --max-viewers away (HTTP 503) and takes one prompt a viewer at a time", async () => {
    const small = await startServer(["--preset", "paper-19x5", "--speed", "10", "--max-viewers", "2"])
    try {
      const [a, b] = await Promise.all([viewer(small.url), viewer(small.url)])
      // A third viewer's handshake, raw: the answer's status line and body.
      const third = await new Promise<string>((resolve) => {
        const { port } = new URL(small.url)
        const s = connect(Number(port), "127.0.0.1")
        let reply = ""
        s.on("data", (d) => (reply += d.toString()))
        s.on("close", () => resolve(reply))
        setTimeout(() => s.destroy(), 2000)
        s.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
      })
      expect(third).toMatch(/^HTTP\/1\.1 503 /)
      expect(third).toMatch(/\r\n\r\nat most 2 viewers at once$/)
      // A place frees when a viewer leaves.
      b.ws.close()
      await until(() => a.got.json.some((m) => m.type === "stats" && m.server.viewers === 1 && m.server.turnedAway === 1))
      const c = await viewer(small.url)
      // Two prompts back to back: the second is refused while the first is answered, then one is taken again.
      a.ws.send(JSON.stringify({ type: "prompt", text: "hello there" }))
      a.ws.send(JSON.stringify({ type: "prompt", text: "and again" }))
      await until(() => a.got.json.some((m) => m.type === "answer"), 60_000)
      expect(a.got.json.filter((m) => m.type === "error").map((m) => m.message)).toEqual(["refused: a prompt of this viewer is still being answered"])
      a.ws.send(JSON.stringify({ type: "prompt", text: "and again" }))
      await until(() => a.got.json.filter((m) => m.type === "answer").length === 2, 60_000)
      expect(a.got.json.filter((m) => m.type === "error")).toHaveLength(1)
      a.ws.close()
      c.ws.close()
    } finally {
      small.child.kill("SIGKILL")
    }
  }, 120_000)

  it("SIGTERM stops the server within a second, exit code 0", async () => {
    const { child } = await startServer(["--preset", "paper-19x5"])
    const t0 = Date.now()
    const code = new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)))
    child.kill("SIGTERM")
    expect(await code).toBe(0)
    expect(Date.now() - t0).toBeLessThan(1000)
  }, 30_000)
})

describe("live frames", () => {
  const S = 5, L = 4
  // The server's link state and occupancy are arrays updated in place each tick (the topology's
  // snapshot, one reused buffer): the source here reuses its two as well.
  const linksUp = new Uint8Array(L), occupancy = new Uint8Array(S)
  const source = (time: number, up: Array<number>, occ: Array<number>, arcSeq: number): FrameSource => {
    linksUp.set(up)
    occupancy.set(occ)
    return {
      time, latLon: Float64Array.from({ length: 2 * S }, (_, k) => time * 10 + k - 4.5), serving: Int32Array.of(time, -1), linksUp, occupancy, arcSeq,
      arcsSince: (from) => Int32Array.from(Array.from({ length: arcSeq - from }, (_, k) => [from + k, 0, 1]).flat())
    }
  }
  /** The page's decoding (view.js onFrame), applied to a state. */
  const apply = (state: { time: number; latLon: Array<number>; serving: Array<number>; up: Uint8Array; occ: Uint8Array; arcs: Array<number> }, bytes: Uint8Array) => {
    const buf = bytes.buffer
    const v = new DataView(buf)
    const n = v.getUint32(16, true), U = v.getUint32(20, true), A = v.getUint32(24, true), le = v.getUint32(28, true), oe = v.getUint32(32, true)
    state.time = v.getFloat64(8, true)
    state.latLon = Array.from(new Float32Array(buf, 40, 2 * n))
    state.serving = Array.from(new Int32Array(buf, 40 + 8 * n, U))
    let o = 40 + 8 * n + 4 * U
    const arcs = new Int32Array(buf, o, 3 * A)
    for (let k = 0; k < A; k++) state.arcs.push(arcs[3 * k]!)
    o += 12 * A
    if (v.getUint8(1) === 1) {
      state.up = new Uint8Array(buf, o, le).slice()
      state.occ = new Uint8Array(buf, o + le, n).slice()
    } else {
      for (const l of new Uint32Array(buf, o, le)) state.up[l]! ^= 1
      for (const c of new Uint32Array(buf, o + 4 * le, oe)) state.occ[c >>> 8] = c & 255
    }
  }

  it("deltas rebuild the state; a dropped frame is not committed, so the next one carries its changes", () => {
    const frames = new ViewerFrames()
    const page = { time: -1, latLon: [] as Array<number>, serving: [] as Array<number>, up: new Uint8Array(L), occ: new Uint8Array(S), arcs: [] as Array<number> }
    const states: Array<[Array<number>, Array<number>, number]> = [[[1, 1, 0, 1], [0, 0, 9, 0, 0], 2], [[1, 0, 0, 1], [0, 4, 9, 0, 0], 5], [[0, 0, 1, 1], [0, 4, 200, 0, 1], 6], [[0, 1, 1, 1], [3, 4, 200, 0, 1], 9]]
    const seqs: Array<number> = []
    states.forEach(([up, occ, arcSeq], k) => {
      const f = frames.next(source(k, up, occ, arcSeq))
      // 4-byte aligned, whole or delta; the seq the viewer acknowledges counts committed frames.
      expect(f.bytes.length % 4).toBe(0)
      seqs.push(new DataView(f.bytes.buffer).getUint32(4, true))
      if (k === 2) return // the viewer's outbox was full: dropped, not committed
      apply(page, f.bytes)
      f.commit()
      // Positions and serving satellites are whole in every frame.
      expect([page.time, page.latLon, page.serving]).toEqual([k, Array.from({ length: 2 * S }, (_, j) => k * 10 + j - 4.5), [k, -1]])
      expect(Array.from(page.up)).toEqual(up)
      expect(Array.from(page.occ)).toEqual(occ)
    })
    // Arcs: none before the first frame; then every arc once, the dropped frame's included.
    expect(page.arcs).toEqual([2, 3, 4, 5, 6, 7, 8])
    expect(seqs).toEqual([0, 1, 2, 2])
  })

  it("the arc ring gives each arc from a viewer's sequence number on, the newest `max` of them, and skips what it no longer holds", () => {
    const ring = new ArcRing(4)
    const push = (n: number) => { for (let k = 0; k < n; k++) ring.push(ring.seq, 100 + ring.seq, ring.seq % 4) }
    const seqs = (arcs: Int32Array) => Array.from({ length: arcs.length / 3 }, (_, k) => {
      expect([arcs[3 * k + 1], arcs[3 * k + 2]]).toEqual([100 + arcs[3 * k]!, arcs[3 * k]! % 4])
      return arcs[3 * k]
    })
    push(3)
    expect([seqs(ring.since(0, 10)), seqs(ring.since(2, 10)), seqs(ring.since(3, 10)), seqs(ring.since(0, 2))]).toEqual([[0, 1, 2], [2], [], [1, 2]])
    // Past the ring's end: it wraps, and a viewer still at 0 gets the four it holds, oldest first.
    push(3)
    expect([ring.seq, seqs(ring.since(0, 10)), seqs(ring.since(5, 10)), seqs(ring.since(3, 3))]).toEqual([6, [2, 3, 4, 5], [5], [3, 4, 5]])
  })
})

describe("viewers' messages", () => {
  it("are taken within their bounds and refused one step past them, whatever else they carry", () => {
    const reason = (m: unknown) => {
      const r = parseClientMessage(typeof m === "string" ? m : JSON.stringify(m))
      return r.ok ? "ok" : r.reason
    }
    const taken = [
      { type: "ack", seq: 0 }, { type: "rate", fps: 1 }, { type: "rate", fps: 60 }, { type: "speed", x: 0.01 }, { type: "speed", x: 10_000 },
      { type: "inspect", satellite: 0 }, { type: "prompt", text: "a" }, { type: "prompt", text: "p".repeat(500) }, { type: "pause", extra: 1 }
    ]
    for (const m of taken) expect([m, reason(m)]).toEqual([m, "ok"])
    const refused = [
      { type: "ack", seq: -1 }, { type: "ack", seq: 1.5 }, { type: "rate", fps: 0 }, { type: "rate", fps: 61 }, { type: "speed", x: 0.0099 },
      { type: "speed", x: 10_001 }, { type: "speed", x: "1e400" }, { type: "inspect", satellite: -1 }, { type: "prompt", text: "" },
      { type: "prompt", text: "p".repeat(501) }, { type: "Pause" }, [{ type: "pause" }], null, 7
    ]
    for (const m of refused) expect([m, reason(m)]).toEqual([m, "not a known message"])
    // The length limit is checked before parsing, at its exact edge.
    const padded = (n: number) => JSON.stringify({ type: "pause", pad: "x".repeat(n - 25) })
    expect(padded(MAX_CLIENT_MESSAGE_BYTES)).toHaveLength(MAX_CLIENT_MESSAGE_BYTES)
    expect(reason(padded(MAX_CLIENT_MESSAGE_BYTES))).toBe("ok")
    expect(reason(padded(MAX_CLIENT_MESSAGE_BYTES + 1))).toBe(`message of ${MAX_CLIENT_MESSAGE_BYTES + 1} characters (limit ${MAX_CLIENT_MESSAGE_BYTES})`)
    expect(reason("{\"type\": \"pause\"")).toBe("not JSON")
  })
})
