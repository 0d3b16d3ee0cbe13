// The live view's page: one WebSocket, binary frames decoded into typed arrays (frames.ts has the layout),
// a globe drawn on a canvas with d3-geo's orthographic projection every animation frame. Frame intervals
// are kept in window.skyView.frameTimes for the benchmark and the tests.
"use strict"

const ARC_SECONDS = 1.5
const ARC_COLOURS = ["#4cd964", "#ff5a5f", "#b57bff", "#4aa3ff"]
const SHELL_COLOURS = ["#e8eef5", "#7fd3ff", "#ffd166", "#c3a6ff", "#8ef0b5", "#ff9f80", "#f2a7d8", "#b8c4d0"]

const view = (window.skyView = { frameTimes: [], frames: 0, satellites: 0, drawn: 0, messages: 0, errors: [], thinking: false })
const st = { init: null, latLon: null, serving: null, linksUp: null, occ: null, time: 0, arcs: [], highlight: new Map(), paused: false }

const canvas = document.getElementById("globe")
const ctx = canvas.getContext("2d")
const projection = d3.geoOrthographic().clipAngle(90).precision(1)
const path = d3.geoPath(projection, ctx)
let land = null
let rotation = [-10, -30]
const pixels = { x: new Float32Array(0), y: new Float32Array(0), visible: new Uint8Array(0) }
/** Where satellite i is on the page (CSS pixels), or null if it is on the far side: for tests and the benchmark. */
view.screenOf = (i) => {
  if (!pixels.visible[i]) return null
  const r = canvas.getBoundingClientRect()
  return { x: r.left + pixels.x[i] / devicePixelRatio, y: r.top + pixels.y[i] / devicePixelRatio }
}

fetch("/lib/land-110m.json").then((r) => r.json()).then((topo) => { land = topojson.feature(topo, topo.objects.land) })

const ws = new WebSocket(`ws://${location.host}/ws`)
ws.binaryType = "arraybuffer"
const send = (m) => { if (ws.readyState === 1) ws.send(JSON.stringify(m)) }
ws.onopen = () => send({ type: "rate", fps: Number(document.getElementById("fps").value) })
ws.onmessage = (e) => {
  view.messages++
  if (typeof e.data === "string") onJson(JSON.parse(e.data))
  else onFrame(e.data)
}
/** Frames per second from the server (the frames/s menu; the benchmark sets it directly). */
view.setRate = (fps) => send({ type: "rate", fps })
ws.onclose = () => { document.getElementById("drawn").textContent = "disconnected" }

function onJson(m) {
  if (m.type === "init") {
    st.init = m
    const S = m.satellites
    view.satellites = S
    st.shellOf = new Uint8Array(S)
    m.shells.forEach((s, k) => st.shellOf.fill(k, s.from, s.to))
    pixels.x = new Float32Array(S); pixels.y = new Float32Array(S); pixels.visible = new Uint8Array(S)
    document.getElementById("constellation").textContent = `${m.constellation} · ${m.workload} workload · ${m.strategy}`
    if (m.users.length > 0) rotation = [-m.users[0].lon, -m.users[0].lat]
  } else if (m.type === "stats") onStats(m)
  else if (m.type === "satellite") showPanel(m)
  else if (m.type === "answer") showAnswer(m)
  else if (m.type === "error") {
    view.errors.push(m.message)
    // A prompt that failed is answered with an error: say so where its answer would go.
    if (m.message.startsWith("prompt failed")) { view.thinking = false; document.getElementById("answer").textContent = m.message }
  }
}

function onFrame(buf) {
  const v = new DataView(buf)
  if (v.getUint8(0) !== 1 || !st.init) return
  // Drawn (or about to be): the server sends a few unacknowledged frames at most.
  send({ type: "ack", seq: v.getUint32(4, true) })
  const whole = v.getUint8(1) === 1
  st.time = v.getFloat64(8, true)
  const S = v.getUint32(16, true), U = v.getUint32(20, true), A = v.getUint32(24, true)
  const linkEntries = v.getUint32(28, true), occEntries = v.getUint32(32, true)
  let o = 40
  st.latLon = new Float32Array(buf, o, 2 * S); o += 8 * S
  st.serving = new Int32Array(buf, o, U); o += 4 * U
  const arcs = new Int32Array(buf, o, 3 * A); o += 12 * A
  const now = performance.now() / 1e3
  for (let k = 0; k < A; k++) st.arcs.push({ from: arcs[3 * k], to: arcs[3 * k + 1], kind: arcs[3 * k + 2], t0: now })
  if (st.arcs.length > 3000) st.arcs.splice(0, st.arcs.length - 3000)
  if (whole) {
    st.linksUp = new Uint8Array(buf, o, linkEntries).slice()
    st.occ = new Uint8Array(buf, o + linkEntries, S).slice()
  } else {
    const flipped = new Uint32Array(buf, o, linkEntries); o += 4 * linkEntries
    for (const l of flipped) st.linksUp[l] ^= 1
    const changed = new Uint32Array(buf, o, occEntries)
    for (const c of changed) st.occ[c >>> 8] = c & 255
  }
  view.frames++
}

function onStats(m) {
  st.paused = m.paused
  const speed = document.getElementById("speed")
  if (document.activeElement !== speed) {
    if (![...speed.options].some((x) => Number(x.value) === m.speed)) speed.add(new Option(String(m.speed)))
    speed.value = [...speed.options].find((x) => Number(x.value) === m.speed).value
  }
  document.getElementById("pause").textContent = m.paused ? "resume" : "pause"
  document.getElementById("clock").textContent = `t = ${m.time.toFixed(1)} s virtual · ${m.speed}x real time${m.paused ? " · paused" : ""}`
  const rows = [["messages delivered", m.delivered], ["stored MiB", (m.storedBytes / 2 ** 20).toFixed(1)],
    ...Object.entries(m.counters).sort(([a], [b]) => a.localeCompare(b)),
    ["viewers", m.server.viewers], ["frames dropped (slow viewers)", m.server.framesDropped], ["messages refused", m.server.refused]]
  document.getElementById("counters").innerHTML = rows.map(([k, v]) => `<tr><td>${k}</td><td>${typeof v === "number" ? Math.round(v * 100) / 100 : v}</td></tr>`).join("")
  const r = m.retrieval
  document.getElementById("latency").textContent = r.count > 0 ? `${r.count} retrievals: p50 ${r.p50Ms.toFixed(0)} ms, p90 ${r.p90Ms.toFixed(0)} ms, p99 ${r.p99Ms.toFixed(0)} ms` : "no retrievals yet"
  drawHistogram(r.cdf)
}

/** Bars over log-spaced latency bins; each step of the hdr histogram's percentiles is 1% of retrievals. */
function drawHistogram(cdf) {
  const c = document.getElementById("histogram"), g = c.getContext("2d")
  g.clearRect(0, 0, c.width, c.height)
  if (!cdf || cdf.length === 0) return
  const lo = Math.max(0.1, cdf[0].ms), hi = Math.max(lo * 1.01, cdf[cdf.length - 1].ms)
  const bins = 24, counts = new Array(bins).fill(0)
  const x = d3.scaleLog().domain([lo, hi]).range([0, bins - 1e-9]).clamp(true)
  let prev = 0
  for (const p of cdf) { counts[Math.floor(x(Math.max(lo, p.ms)))] += p.percentile - prev; prev = p.percentile }
  const top = Math.max(...counts), w = c.width / bins
  g.fillStyle = "#4aa3ff"
  counts.forEach((n, i) => { const h = (n / top) * (c.height - 14); g.fillRect(i * w + 1, c.height - 12 - h, w - 2, h) })
  g.fillStyle = "#8797a8"; g.font = "10px sans-serif"
  g.fillText(`${lo.toFixed(0)} ms`, 0, c.height - 1); const t = `${hi.toFixed(0)} ms`; g.fillText(t, c.width - g.measureText(t).width, c.height - 1)
}

function showPanel(m) {
  document.getElementById("panel").hidden = false
  document.getElementById("panel-body").innerHTML = `<b>${m.name}</b> (#${m.satellite})<br>${m.shell}, plane ${m.plane}, slot ${m.slot}<br>` +
    `blocks ${m.blocks}<br>bytes ${(m.bytes / 2 ** 20).toFixed(2)} MiB of ${(m.capacityBytes / 2 ** 20).toFixed(0)} MiB<br>hits ${m.hits}<br>evictions ${m.evictions}`
}
document.getElementById("panel-close").onclick = () => { document.getElementById("panel").hidden = true }

function showAnswer(m) {
  view.thinking = false
  const until = performance.now() / 1e3 + 8
  for (const s of m.satellites) st.highlight.set(s, until)
  document.getElementById("answer").textContent = `${JSON.stringify(m.text)}\n${m.cachedTokens}/${m.promptTokens} tokens from orbit` +
    `${m.satellites.length ? ` (satellites ${m.satellites.join(", ")})` : ""}; TTFT ${m.ttftMs.toFixed(1)} ms`
}

document.getElementById("pause").onclick = () => send({ type: st.paused ? "resume" : "pause" })
document.getElementById("speed").onchange = (e) => send({ type: "speed", x: Number(e.target.value) })
document.getElementById("fps").onchange = (e) => send({ type: "rate", fps: Number(e.target.value) })
document.getElementById("prompt").onsubmit = (e) => {
  e.preventDefault()
  const text = document.getElementById("prompt-text").value.trim()
  // One prompt at a time (the server refuses a second while the first is answered).
  if (text && !view.thinking) { view.thinking = true; send({ type: "prompt", text }); document.getElementById("answer").textContent = "thinking…" }
}

// Drag turns the globe; a click (no drag) on a satellite opens its panel.
let drag = null
canvas.addEventListener("pointerdown", (e) => { drag = { x: e.clientX, y: e.clientY, r: rotation.slice(), moved: false } })
window.addEventListener("pointermove", (e) => {
  if (!drag) return
  const dx = e.clientX - drag.x, dy = e.clientY - drag.y
  if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true
  rotation = [drag.r[0] + dx * 0.3, Math.max(-89, Math.min(89, drag.r[1] - dy * 0.3))]
})
window.addEventListener("pointerup", (e) => {
  if (drag && !drag.moved) pick(e)
  drag = null
})

function pick(e) {
  const r = canvas.getBoundingClientRect()
  const px = (e.clientX - r.left) * devicePixelRatio, py = (e.clientY - r.top) * devicePixelRatio
  let best = -1, bestD = 10 * devicePixelRatio
  for (let i = 0; i < view.satellites; i++) {
    if (!pixels.visible[i]) continue
    const d = Math.hypot(pixels.x[i] - px, pixels.y[i] - py)
    if (d < bestD) { bestD = d; best = i }
  }
  if (best >= 0) send({ type: "inspect", satellite: best })
}

function resize() {
  canvas.width = canvas.clientWidth * devicePixelRatio
  canvas.height = canvas.clientHeight * devicePixelRatio
}
window.addEventListener("resize", resize)
resize()

function draw() {
  const W = canvas.width, H = canvas.height
  projection.translate([W / 2, H / 2]).scale(Math.min(W, H) * 0.46).rotate(rotation)
  ctx.clearRect(0, 0, W, H)
  ctx.beginPath(); path({ type: "Sphere" }); ctx.fillStyle = "#0d2033"; ctx.fill()
  if (land) { ctx.beginPath(); path(land); ctx.fillStyle = "#243a50"; ctx.fill() }
  if (!st.init || !st.latLon) return
  const S = view.satellites, ll = st.latLon
  const centre = [-rotation[0], -rotation[1]]
  let visible = 0
  for (let i = 0; i < S; i++) {
    const p = [ll[2 * i + 1], ll[2 * i]]
    const on = d3.geoDistance(p, centre) < Math.PI / 2
    pixels.visible[i] = on ? 1 : 0
    if (!on) continue
    visible++
    const xy = projection(p)
    pixels.x[i] = xy[0]; pixels.y[i] = xy[1]
  }
  // Links: up faint blue, down red.
  const a = st.init.linkA, b = st.init.linkB
  for (const up of [1, 0]) {
    ctx.beginPath()
    for (let l = 0; l < a.length; l++) {
      if (st.linksUp[l] !== up) continue
      const i = a[l], j = b[l]
      if (!pixels.visible[i] || !pixels.visible[j]) continue
      ctx.moveTo(pixels.x[i], pixels.y[i]); ctx.lineTo(pixels.x[j], pixels.y[j])
    }
    ctx.strokeStyle = up ? "rgba(90,150,220,0.35)" : "rgba(255,90,95,0.6)"; ctx.lineWidth = 1; ctx.stroke()
  }
  // Ground actors and their serving satellites.
  const users = st.init.users
  ctx.beginPath()
  const userXY = []
  for (let u = 0; u < users.length; u++) {
    const p = [users[u].lon, users[u].lat]
    if (d3.geoDistance(p, centre) >= Math.PI / 2) { userXY.push(null); continue }
    const xy = projection(p); userXY.push(xy)
    const s = st.serving[u]
    if (s >= 0 && pixels.visible[s]) { ctx.moveTo(xy[0], xy[1]); ctx.lineTo(pixels.x[s], pixels.y[s]) }
  }
  ctx.strokeStyle = "rgba(120,230,140,0.5)"; ctx.stroke()
  ctx.fillStyle = "#78e68c"
  for (const xy of userXY) if (xy) { ctx.beginPath(); ctx.moveTo(xy[0], xy[1] - 5); ctx.lineTo(xy[0] - 4, xy[1] + 3); ctx.lineTo(xy[0] + 4, xy[1] + 3); ctx.fill() }
  // Satellites by shell; occupancy as an orange ring growing with the bytes stored.
  const d = Math.max(2, devicePixelRatio * 2.5)
  for (let k = 0; k < st.init.shells.length; k++) {
    ctx.fillStyle = SHELL_COLOURS[k % SHELL_COLOURS.length]
    for (let i = st.init.shells[k].from; i < st.init.shells[k].to; i++) if (pixels.visible[i]) ctx.fillRect(pixels.x[i] - d / 2, pixels.y[i] - d / 2, d, d)
  }
  ctx.strokeStyle = "rgba(255,150,40,0.9)"
  ctx.beginPath()
  for (let i = 0; i < S; i++) {
    if (!pixels.visible[i] || st.occ[i] === 0) continue
    const r = d + (st.occ[i] / 255) * 8
    ctx.moveTo(pixels.x[i] + r, pixels.y[i]); ctx.arc(pixels.x[i], pixels.y[i], r, 0, 2 * Math.PI)
  }
  ctx.stroke()
  // Requests as fading arcs between their ends (satellites or ground actors).
  const now = performance.now() / 1e3
  st.arcs = st.arcs.filter((x) => now - x.t0 < ARC_SECONDS)
  const at = (actor) => actor < S ? (pixels.visible[actor] ? [pixels.x[actor], pixels.y[actor]] : null) : userXY[actor - S] ?? null
  for (const x of st.arcs) {
    const p = at(x.from), q = at(x.to)
    if (!p || !q) continue
    ctx.globalAlpha = 1 - (now - x.t0) / ARC_SECONDS
    ctx.strokeStyle = ARC_COLOURS[x.kind] ?? "#fff"; ctx.lineWidth = 1.5
    const mx = (p[0] + q[0]) / 2, my = (p[1] + q[1]) / 2 - 0.2 * Math.hypot(q[0] - p[0], q[1] - p[1])
    ctx.beginPath(); ctx.moveTo(p[0], p[1]); ctx.quadraticCurveTo(mx, my, q[0], q[1]); ctx.stroke()
  }
  ctx.globalAlpha = 1; ctx.lineWidth = 1
  // Satellites that served the last prompt's KV.
  ctx.strokeStyle = "#ffffff"; ctx.lineWidth = 2
  for (const [s, until] of st.highlight) {
    if (until < now) { st.highlight.delete(s); continue }
    if (!pixels.visible[s]) continue
    ctx.beginPath(); ctx.arc(pixels.x[s], pixels.y[s], 9, 0, 2 * Math.PI); ctx.stroke()
  }
  ctx.lineWidth = 1
  view.drawn = S
  document.getElementById("drawn").textContent = `drawing ${S} satellites (${visible} on this side)`
}

let lastFrame = 0
function loop(t) {
  if (lastFrame > 0) {
    view.frameTimes.push(t - lastFrame)
    if (view.frameTimes.length > 2000) view.frameTimes.splice(0, 1000)
  }
  lastFrame = t
  draw()
  requestAnimationFrame(loop)
}
requestAnimationFrame(loop)
