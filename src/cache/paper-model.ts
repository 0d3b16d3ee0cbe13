/**
 * The SkyMemory paper's simplified retrieval model ("paper-parity mode"): a P x N grid of satellites
 * (planes x slots) with fixed neighbour distances, S servers placed around a centre satellite by one of
 * the paper's three strategies, and a KV cache of `kvcBytes` cut into `chunkBytes` chunks striped over the
 * servers (chunk c on server c mod S). Per server: time = distance / v + chunk processing time x chunks on
 * that server; the KVC retrieval time is the max over servers (min and mean reported too).
 *
 * A separate, named model: it never touches the physical constellation (src/topology), so the two can be
 * compared side by side. Pure functions of their inputs.
 */
export type PaperStrategy = "rotation" | "hop" | "hop_rotation"
export const paperStrategies: ReadonlyArray<PaperStrategy> = ["rotation", "hop", "hop_rotation"]

export interface PaperModelParams {
  readonly planes: number
  readonly slotsPerPlane: number
  /** 0-based centre satellite (the paper's plane 8 / slot 8 of 15 x 15 is 7 / 7). */
  readonly centrePlane: number
  readonly centreSlot: number
  readonly altitudeMeters: number
  readonly kvcBytes: number
  readonly chunkBytes: number
  readonly servers: number
  readonly chunkProcessingSeconds: number
  readonly earthRadiusMeters: number
  /** Signal speed, m/s (the paper's 2.998e8). */
  readonly speedMetersPerSecond: number
}

const MiB = 1024 * 1024

/** The paper's defaults. S is not given with them; 9 (its smallest sweep value) is ours. */
export const paperDefaults: PaperModelParams = {
  planes: 15,
  slotsPerPlane: 15,
  centrePlane: 7,
  centreSlot: 7,
  altitudeMeters: 550_000,
  kvcBytes: 2.9 * MiB,
  chunkBytes: 12_288,
  servers: 9,
  chunkProcessingSeconds: 0.001,
  earthRadiusMeters: 6_371_000,
  speedMetersPerSecond: 2.998e8
}

export interface GridCell {
  readonly plane: number
  readonly slot: number
}

const mod = (a: number, n: number) => ((a % n) + n) % n

/** Shortest distance between two indices on a ring of n. */
export const ringOffset = (a: number, b: number, n: number): number => {
  const d = mod(a - b, n)
  return Math.min(d, n - d)
}

/** Side of the placement box: k = ceil(sqrt(S)). */
export const boxSide = (servers: number): number => Math.ceil(Math.sqrt(servers))

/** First plane / slot of the k x k box centred on the centre (for even k it reaches one further up). */
const boxOrigin = (p: PaperModelParams, k: number): GridCell => ({
  plane: mod(p.centrePlane - Math.floor((k - 1) / 2), p.planes),
  slot: mod(p.centreSlot - Math.floor((k - 1) / 2), p.slotsPerPlane)
})

const inBox = (p: PaperModelParams, k: number, c: GridCell): boolean => {
  const o = boxOrigin(p, k)
  return mod(c.plane - o.plane, p.planes) < k && mod(c.slot - o.slot, p.slotsPerPlane) < k
}

/** Breadth-first order over the +Grid torus from the centre; neighbours: prev plane, next slot, next plane, prev slot. */
const bfs = (p: PaperModelParams, count: number, allowed: (c: GridCell) => boolean): Array<GridCell> => {
  const seen = new Uint8Array(p.planes * p.slotsPerPlane)
  const start = { plane: p.centrePlane, slot: p.centreSlot }
  const out: Array<GridCell> = []
  const queue: Array<GridCell> = [start]
  seen[start.plane * p.slotsPerPlane + start.slot] = 1
  for (let head = 0; head < queue.length && out.length < count; head++) {
    const c = queue[head]!
    out.push(c)
    for (const [dp, ds] of [[-1, 0], [0, 1], [1, 0], [0, -1]] as const) {
      const n = { plane: mod(c.plane + dp, p.planes), slot: mod(c.slot + ds, p.slotsPerPlane) }
      const id = n.plane * p.slotsPerPlane + n.slot
      if (seen[id] || !allowed(n)) continue
      seen[id] = 1
      queue.push(n)
    }
  }
  return out
}

/** The satellites of servers 0 .. S-1 under a strategy. Throws if the grid cannot hold S servers. */
export const placeServers = (strategy: PaperStrategy, p: PaperModelParams): ReadonlyArray<GridCell> => {
  const S = p.servers
  const k = boxSide(S)
  if (!Number.isInteger(S) || S < 1) throw new RangeError(`servers must be a positive integer, got ${S}`)
  if (S > p.planes * p.slotsPerPlane || (strategy !== "hop" && (k > p.planes || k > p.slotsPerPlane)))
    throw new RangeError(`a ${p.planes} x ${p.slotsPerPlane} grid cannot hold ${S} servers with ${strategy}`)
  switch (strategy) {
    case "rotation": {
      const o = boxOrigin(p, k)
      return Array.from({ length: S }, (_, i) => ({ plane: mod(o.plane + Math.floor(i / k), p.planes), slot: mod(o.slot + (i % k), p.slotsPerPlane) }))
    }
    case "hop":
      return bfs(p, S, () => true)
    case "hop_rotation":
      return bfs(p, S, (c) => inBox(p, k, c))
  }
}

/** In-plane (dm) and inter-plane (dn) neighbour distances, m. */
export const neighbourDistances = (p: PaperModelParams): { dm: number; dn: number } => {
  const r = p.earthRadiusMeters + p.altitudeMeters
  return {
    dm: r * Math.sqrt(2 - 2 * Math.cos((2 * Math.PI) / p.slotsPerPlane)),
    dn: r * Math.sqrt(2 - 2 * Math.cos((2 * Math.PI) / p.planes))
  }
}

/**
 * Distance from the requester to a server, m: on board (hop) the ISL path of dPlanes inter-plane and
 * dSlots in-plane hops from the centre; from the ground (rotation, hop_rotation) the slant range to a
 * satellite D away along the grid, D = sqrt((dPlanes dn)^2 + (dSlots dm)^2), at altitude h.
 */
export const serverDistance = (strategy: PaperStrategy, p: PaperModelParams, c: GridCell): number => {
  const { dm, dn } = neighbourDistances(p)
  const dPlanes = ringOffset(c.plane, p.centrePlane, p.planes)
  const dSlots = ringOffset(c.slot, p.centreSlot, p.slotsPerPlane)
  if (strategy === "hop") return dPlanes * dn + dSlots * dm
  const D2 = (dPlanes * dn) ** 2 + (dSlots * dm) ** 2
  return Math.sqrt(D2 + p.altitudeMeters ** 2)
}

export interface RetrievalTime {
  readonly maxSeconds: number
  readonly minSeconds: number
  readonly avgSeconds: number
  readonly chunks: number
  /** Per server: chunks held and time, s (servers holding no chunk are left out of max/min/mean). */
  readonly perServer: ReadonlyArray<{ readonly cell: GridCell; readonly chunks: number; readonly seconds: number }>
}

export const retrievalTime = (strategy: PaperStrategy, p: PaperModelParams): RetrievalTime => {
  const cells = placeServers(strategy, p)
  const chunks = Math.ceil(p.kvcBytes / p.chunkBytes)
  const S = p.servers
  const perServer = cells.map((cell, i) => {
    // Chunks c = i, i + S, i + 2S, ... below `chunks`.
    const n = i < chunks ? Math.floor((chunks - 1 - i) / S) + 1 : 0
    return { cell, chunks: n, seconds: serverDistance(strategy, p, cell) / p.speedMetersPerSecond + p.chunkProcessingSeconds * n }
  })
  const holding = perServer.filter((s) => s.chunks > 0).map((s) => s.seconds)
  return {
    maxSeconds: Math.max(...holding),
    minSeconds: Math.min(...holding),
    avgSeconds: holding.reduce((a, b) => a + b, 0) / holding.length,
    chunks,
    perServer
  }
}

export type SweepParam = "kvcBytes" | "servers" | "chunkProcessingSeconds" | "altitudeMeters"

/** The paper's four sweeps; while one sweeps, the others sit at the last value of their own sweep. */
export const paperSweeps: Record<SweepParam, ReadonlyArray<number>> = {
  kvcBytes: Array.from({ length: 21 }, (_, j) => (j + 1) * MiB),
  servers: [9, 25, 49, 81],
  chunkProcessingSeconds: Array.from({ length: 10 }, (_, j) => (2 * (j + 1)) / 1000),
  altitudeMeters: Array.from({ length: 9 }, (_, j) => 160_000 + 220_000 * j)
}

export interface SweepRow {
  readonly strategy: PaperStrategy
  readonly param: SweepParam
  readonly value: number
  readonly maxSeconds: number
  readonly minSeconds: number
  readonly avgSeconds: number
}

export const sweepBase = (base: PaperModelParams = paperDefaults): PaperModelParams => ({
  ...base,
  kvcBytes: paperSweeps.kvcBytes.at(-1)!,
  servers: paperSweeps.servers.at(-1)!,
  chunkProcessingSeconds: paperSweeps.chunkProcessingSeconds.at(-1)!,
  altitudeMeters: paperSweeps.altitudeMeters.at(-1)!
})

/** Every (strategy, param, value) row of the paper's sweeps. */
export const runPaperSweeps = (base: PaperModelParams = paperDefaults): ReadonlyArray<SweepRow> => {
  const b = sweepBase(base)
  const rows: Array<SweepRow> = []
  for (const strategy of paperStrategies) {
    for (const param of Object.keys(paperSweeps) as Array<SweepParam>) {
      for (const value of paperSweeps[param]) {
        const r = retrievalTime(strategy, { ...b, [param]: value })
        rows.push({ strategy, param, value, maxSeconds: r.maxSeconds, minSeconds: r.minSeconds, avgSeconds: r.avgSeconds })
      }
    }
  }
  return rows
}
