/**
 * The topology actor: SkyMemory's network (runtime/world.ts Network). Every message goes through it, and
 * it decides the next hop and when the message gets there from the link state of the current epoch:
 * routing, the link model (serialisation, per-link FIFO queues: LinkQueues; propagation; per-hop
 * processing; a migration's train of shares pipelined link to link), link-local beacons, ISL flaps and
 * ground outages (fault injection), and drops with reasons. It is replicated, one replica per shard, each
 * computing the same link state from the same config, so routing needs no cross-shard request. The
 * heavier per-epoch work (distances to the cuts, the users' routing trees) the replicas of a run split
 * between them through a RoutingShare.
 *
 * Per epoch it keeps: the snapshot (positions, links up, link delays), the serving satellite of each
 * ground user, and the lookahead: the smallest delay any message can have this epoch (the shortest up
 * ISL or the lowest ground leg, plus per-hop processing), which bounds PDES windows.
 *
 * Routing tables are shortest-path trees rooted at the destinations in use (a tree rooted at d gives every
 * satellite its next hop toward d). Like a real constellation's routing, they are recomputed every
 * routing epoch (10 s by default), not at every link-state epoch: between recomputations a hop whose link
 * has gone down is rerouted on a tree of the current link state. Either way a tree is a function of
 * (destination, epoch) only, never of when a shard first needed it, so routing is the same on every shard.
 */
import type { Network } from "../../runtime/world.js"
import { I as RecordI, type RecordBlock } from "../../runtime/record.js"
import { defaultIslRules, type IslRules, makeSnapshot, propagationSeconds, type Snapshot, servingSatellite, ServingIndex, stationInertial } from "../../topology/index.js"
import { LinkQueues } from "./link-queues.js"
import { beaconLink, Tag, trainStepBytes } from "../protocol.js"
import { EAGER_TREE_USERS, type RoutingShare } from "./routing-share.js"
import { TreeCache } from "./tree-cache.js"
import type { SkyWorld } from "../world.js"
import type { RunConfig } from "../config.js"

// Local copies of the record's field tables: the transpiled modules read an imported binding through
// a getter on every access, which showed at ~5% of a replay's CPU profile on this hot path.
const I = RecordI
const BEACON = Tag.Beacon
const TRAIN = Tag.MigrateData
/** Below this many satellites servingOf scans (paper-19x5's 95 ran 10% slower with the index). */
const SERVING_INDEX_MIN_SATELLITES = 500

/** The network's drop reasons (indices of World.dropReasons.network). */
export const LinkDrop = { linkDown: 0, unreachable: 1, noSatellite: 2 } as const
export const linkDropReasons = Object.keys(LinkDrop)
/** A uniform number in [0, 1) from three integers (murmur3's finalizer over a mix of them). */
const unitHash = (a: number, b: number, c: number): number => {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x27d4eb2f, 0xc2b2ae35) ^ Math.imul(c + 0x165667b1, 0x9e3779b1)
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return (h >>> 0) / 2 ** 32
}

/** A run's link rules: the defaults, with cross-shell links if its catalog asks for them. */
export const islRulesOf = (config: Pick<RunConfig, "catalog">): IslRules =>
  config.catalog.crossShellLinks ? { ...defaultIslRules, crossShellLinks: true } : defaultIslRules

/**
 * A routing tree: each satellite's next hop toward the root and the link it takes. Trees asked for by a
 * hop grow on demand (GrowingTree: `reach(v)` before reading v's entries); the users' trees built at a
 * routing epoch (here or by other shards: RoutingShare) come whole.
 */
interface RoutingTree {
  readonly next: Int32Array
  readonly link: Int32Array
  reach?(v: number): void
}

export class TopologyActor implements Network {
  readonly snapshot: Snapshot
  epoch = -1
  lookahead = 0
  /**
   * Per actor, this epoch: the least delay before anything it does can reach an actor of another shard
   * (over ISLs up now to a cut link, or a ground leg to or from a user served across a cut). An event at
   * actor a at time t cannot cause a cross-shard arrival before t + toCut[a]: the earliest output time
   * that bounds PDES windows far better than one global lookahead (see runtime/loop.ts).
   */
  readonly toCut: Float64Array
  private readonly cutStart: Float64Array
  /** Scratch: each user's ground-leg delay to its serving satellite this epoch. */
  private readonly userLeg: Float64Array
  private readonly trees: TreeCache<RoutingTree>
  private readonly freshTrees: TreeCache<RoutingTree>
  /** Link state at the start of the current routing epoch (trees are computed on it). */
  private readonly routingSnapshot: Snapshot
  routingEpoch = -1
  /**
   * Users at one place share their serving satellite (a replay's conversations come from cities): each
   * user's site, and per site the answer of this epoch (valid where servingEpoch holds epoch + 2, so
   * that no answer is valid before the first epoch).
   */
  private readonly siteOf: Int32Array
  private readonly servingSite: Int32Array
  private readonly servingEpoch: Int32Array
  /** servingIn's answers this epoch, by user * shells + shell. */
  private readonly servingByShell = new Map<number, number>()
  /** More than one shell: ground legs go to the shell a message travels in (servingIn). */
  private readonly multiShell: boolean
  /** This epoch's satellites binned by direction (built on the first servingOf of the epoch). */
  private servingIndex: ServingIndex | undefined

  private readonly multiShard: boolean

  /** (slot, root) pairs of this routing epoch's trees that other shards build: see adoptShared. */
  private readonly sharedRoots: Array<number> = []
  /** Scratch: links up between two of this shard's satellites (computeToCut with a RoutingShare). */
  private ownUp: Uint8Array | undefined

  /**
   * `owner[actor]` = shard of each actor: the lookahead only counts channels between shards. `share`:
   * where the shards of a run split the work of an epoch between them (none: do all of it).
   */
  constructor(readonly world: SkyWorld, readonly owner: Int32Array, private readonly share?: RoutingShare) {
    this.multiShard = owner.some((o) => o !== owner[0])
    this.multiShell = world.constellation.shells.length > 1
    const c = world.config
    const rules = islRulesOf(c)
    this.snapshot = makeSnapshot(world.constellation, {
      rules,
      linkModel: {
        perHopProcessingSeconds: c.perHopProcessingSeconds,
        islBandwidthBitsPerSecond: c.islBandwidthBitsPerSecond,
        groundBandwidthBitsPerSecond: c.groundBandwidthBitsPerSecond
      }
    })
    this.routingSnapshot = makeSnapshot(world.constellation, { rules, linkModel: this.snapshot.linkModel })
    this.toCut = new Float64Array(world.actorCount)
    this.cutStart = new Float64Array(world.satellites)
    this.userLeg = new Float64Array(world.users.length)
    const sites = new Map<string, number>()
    this.siteOf = Int32Array.from(world.users, (g) => {
      const key = `${g.latDeg},${g.lonDeg},${g.altitudeKm ?? 0}`
      let k = sites.get(key)
      if (k === undefined) sites.set(key, (k = sites.size))
      return k
    })
    this.servingSite = new Int32Array(sites.size)
    this.servingEpoch = new Int32Array(sites.size)
    // A growing tree costs 24 bytes per satellite (its Dijkstra state); keep about 64 MB of them at most.
    const maxTrees = Math.max(16, Math.floor((64 * 1024 * 1024) / (24 * world.satellites)))
    this.trees = new TreeCache(world.satellites, maxTrees)
    this.freshTrees = new TreeCache(world.satellites, maxTrees)
    this.queues = new LinkQueues(this.snapshot.graph.linkCount, world.users.length)
  }

  private readonly queues: LinkQueues
  /** Ground actors' radios out until a time (fault injection); undefined until the first outage. */
  private outageUntil: Float64Array | undefined
  arrival = 0
  depart = 0
  link = -1

  /** Ground user `user`'s radio is out until `until` (virtual s): nothing goes up or comes down. */
  groundOutage(user: number, until: number): void {
    ;(this.outageUntil ??= new Float64Array(this.world.users.length))[user] = until
  }

  /**
   * One hop (Network.hop): uplink from a ground user to its serving satellite, downlink from a user's
   * serving satellite, a beacon over the one link to that neighbour, or an ISL hop along the routing
   * trees; queued on its channel (LinkQueues). Returns the next actor, or -1 - a LinkDrop reason.
   */
  hop(b: RecordBlock, r: number, now: number): number {
    const w = this.world
    const snap = this.snapshot
    const cfg = w.config
    const at = b.getI(r, I.at)
    const dst = b.getI(r, I.dst)
    const bytes = b.getI(r, I.bytes)
    const S = w.satellites
    const users = w.users.length
    const userDst = dst >= S && dst < S + users
    const out = this.outageUntil
    if (out !== undefined) {
      if (at >= S && out[at - S]! > now) return -1 - LinkDrop.noSatellite
      if (userDst && out[dst - S]! > now) return -1 - LinkDrop.noSatellite
    }
    this.link = -1
    if (at === dst) {
      this.depart = now
      this.arrival = now
      return dst
    }
    if (at >= S) {
      // Uplink from a ground user to its serving satellite (in the destination's shell: see servingIn).
      const u = at - S
      const next = this.multiShell && dst < S ? this.servingIn(u, dst) : this.servingOf(u)
      if (next < 0) return -1 - LinkDrop.noSatellite
      this.arrival = this.queues.uplink(u, now, (bytes * 8) / cfg.groundBandwidthBitsPerSecond, propagationSeconds(this.groundRangeKm(u, next)), cfg.perHopProcessingSeconds)
      this.depart = this.queues.depart
      return next
    }
    const u = dst - S
    const target = userDst ? (this.multiShell ? this.servingIn(u, at) : this.servingOf(u)) : dst
    if (userDst && target < 0) return -1 - LinkDrop.noSatellite
    if (userDst && target === at) {
      // Downlink to the user.
      this.arrival = this.queues.downlinkTo(at, u, now, (bytes * 8) / cfg.groundBandwidthBitsPerSecond, propagationSeconds(this.groundRangeKm(u, at)), cfg.perHopProcessingSeconds)
      this.depart = this.queues.depart
      return dst
    }
    let next: number
    let link: number
    if (b.getI(r, I.tag) === BEACON) {
      // Link-local: over the one link to that neighbour, or not at all.
      link = snap.graph.neighbourLink[4 * at + beaconLink(b, r)]!
      if (link < 0 || snap.up[link] === 0) return -1 - LinkDrop.linkDown
      next = dst
    } else {
      // Requests between satellites follow the tree of their ingress satellite, everything bound for a
      // ground user the tree of the user's serving satellite (see toward).
      // I.route: -1 unset; r >= 0 the tree root; r <= -2 detoured (root -2 - r), see toward.
      let route = b.getI(r, I.route)
      if (route === -1) {
        route = userDst ? target : at
        b.setI(r, I.route, route)
      }
      const detoured = route <= -2
      const root = detoured ? -2 - route : route
      next = this.toward(at, target, userDst ? target : root, detoured)
      if (next < 0) return -1 - LinkDrop.unreachable
      if (this.towardDetoured && !detoured) b.setI(r, I.route, -2 - root)
      link = this.towardLink
    }
    const d = 2 * link + (snap.graph.linkA[link] === at ? 0 : 1)
    const bandwidth = cfg.islBandwidthBitsPerSecond
    // A train of shares (MigrateData) is pipelined: it arrives with its head (LinkQueues.isl).
    const serialise = (bytes * 8) / bandwidth
    this.arrival = this.queues.isl(d, now, serialise, snap.linkDelay[link]!, b.getI(r, I.tag) === TRAIN ? (trainStepBytes(b, r) * 8) / bandwidth : serialise)
    this.depart = this.queues.depart
    this.link = link
    return next
  }

  /**
   * True after an enterEpochOf that left part of the epoch's work to other shards (RoutingShare): every
   * shard then passes a barrier and calls adoptShared before it routes anything (runtime/loop.ts).
   */
  get awaitsShared(): boolean {
    return this.cutShared || this.treesShared
  }
  private cutShared = false
  private treesShared = false

  /** Take what the other shards computed for this epoch (after the barrier that follows their writes). */
  adoptShared(): void {
    const share = this.share!
    const pending = this.sharedRoots
    for (let k = 0; k < pending.length; k += 2) this.trees.set(pending[k + 1]!, share.tree(pending[k]!))
    pending.length = 0
    this.treesShared = false
    if (this.cutShared) {
      this.toCut.set(share.toCut)
      this.usersToCut()
      this.cutShared = false
    }
  }

  /** Move to the epoch containing t (no-op if already there). */
  enterEpochOf(t: number): void {
    const e = Math.floor(t / this.world.config.epochSeconds)
    if (e === this.epoch) return
    this.epoch = e
    const start = e * this.world.config.epochSeconds
    const snap = this.snapshot.update(start)
    this.flap(snap, e)
    const re = Math.floor(start / this.world.config.routingEpochSeconds)
    const routingChanged = re !== this.routingEpoch
    if (routingChanged) {
      this.routingEpoch = re
      const rStart = re * this.world.config.routingEpochSeconds
      this.flap(this.routingSnapshot.update(rStart), Math.floor(rStart / this.world.config.epochSeconds))
      this.trees.clear()
    }
    this.freshTrees.clear()
    this.servingByShell.clear()
    this.servingIndex = undefined
    if (routingChanged && this.world.users.length <= EAGER_TREE_USERS) {
      // The trees of the users' serving satellites (the roots nearly all routes use) are built here, at
      // the same window on every shard, rather than one by one when first needed: a burst of
      // shortest-path passes on one shard while the others wait at the barrier would serialise the
      // shards. With a RoutingShare each shard builds its part of them and adopts the others' after
      // the next barrier (adoptShared).
      const share = this.share
      this.treesShared = share !== undefined
      const roots: Array<number> = []
      for (let u = 0; u < this.world.users.length; u++) {
        const s = this.servingOf(u)
        if (s >= 0 && !roots.includes(s)) roots.push(s)
      }
      for (let i = 0; i < roots.length; i++) {
        if (share === undefined || i >= share.slots) this.treeOf(this.trees, this.routingSnapshot, roots[i]!, true)
        else if (i % share.shards === share.shard) this.trees.set(roots[i]!, share.writeTree(i, this.routingSnapshot.routeFrom(roots[i]!)))
        else this.sharedRoots.push(i, roots[i]!)
      }
    }
    // Only channels between shards bound the window (ISLs across a shard cut, ground legs that cross
    // one: see computeToCut); with one shard the window is the epoch.
    this.lookahead = this.multiShard ? this.computeToCut(snap) : this.world.config.epochSeconds
    // Any other actor (none in multi-shard runs today): the global bound.
    this.toCut.fill(this.lookahead, this.world.satellites + this.world.users.length)
  }

  /**
   * toCut for this epoch (see its doc); returns the lookahead, the smallest delay of any channel between
   * shards (epochSeconds if there is none). Ground legs cross shards only for users whose serving
   * satellite (fixed for the epoch) is owned by another shard than the user: the uplink and the
   * downlink then take that satellite's range. With many users, finding every serving satellite each
   * epoch costs more than it saves: any satellite is then taken to serve a user across a cut at the
   * lowest altitude (a zenith pass).
   */
  private computeToCut(snap: Snapshot): number {
    const S = this.world.satellites
    const users = this.world.users.length
    const owner = this.owner
    const g = snap.graph
    const hop = snap.linkModel.perHopProcessingSeconds
    const start = this.cutStart.fill(Number.POSITIVE_INFINITY)
    for (let l = 0; l < g.linkCount; l++) {
      const a = g.linkA[l]!, b = g.linkB[l]!
      if (snap.up[l] === 0 || owner[a] === owner[b]) continue
      start[a] = Math.min(start[a]!, snap.linkDelay[l]!)
      start[b] = Math.min(start[b]!, snap.linkDelay[l]!)
    }
    const exact = this.exactLegs
    const zenith = this.zenithLeg()
    if (!exact && users > 0) for (let s = 0; s < S; s++) start[s] = Math.min(start[s]!, zenith)
    const leg = this.userLeg
    for (let u = 0; exact && u < users; u++) {
      const s = this.servingOf(u)
      if (s < 0) continue
      leg[u] = propagationSeconds(this.groundRangeKm(u, s)) + hop
      if (owner[s] !== owner[S + u]) start[s] = Math.min(start[s]!, leg[u]!)
    }
    let lookahead = Number.POSITIVE_INFINITY
    for (let s = 0; s < S; s++) lookahead = Math.min(lookahead, start[s]!)
    const share = this.share
    if (share === undefined) {
      this.toCut.set(snap.delaysToNearest(start).subarray(0, S))
      this.usersToCut()
    } else {
      // A path to a cut leaves this shard's satellites only over a cut link, which start[] already
      // counts: so the search need not go beyond them, and each shard does its own satellites. The
      // others' values and the users' come after the barrier (adoptShared).
      const mine = share.shard
      const ownUp = (this.ownUp ??= new Uint8Array(g.linkCount))
      for (let l = 0; l < g.linkCount; l++) ownUp[l] = snap.up[l] === 1 && owner[g.linkA[l]!] === mine && owner[g.linkB[l]!] === mine ? 1 : 0
      for (let s = 0; s < S; s++) if (owner[s] !== mine) start[s] = Number.POSITIVE_INFINITY
      const delay = snap.delaysToNearest(start, ownUp)
      for (let s = 0; s < S; s++) if (owner[s] === mine) share.toCut[s] = delay[s]!
      this.cutShared = true
    }
    return Number.isFinite(lookahead) ? lookahead : this.world.config.epochSeconds
  }

  /**
   * Whether the lookahead takes each user's ground leg to its serving satellite: with few users and one
   * shell. With several shells a user's leg goes to the satellite of the shell a message travels in,
   * which can be nearer than the highest one: the zenith bound holds for all of them.
   */
  private get exactLegs(): boolean {
    return this.world.users.length <= EAGER_TREE_USERS && !this.multiShell
  }

  /** The lowest a ground leg's delay can be: a pass at zenith at the lowest altitude. */
  private zenithLeg(): number {
    return propagationSeconds(this.world.minAltitudeKm) + this.snapshot.linkModel.perHopProcessingSeconds
  }

  /** Users' toCut, from their satellites' (see computeToCut). */
  private usersToCut(): void {
    const S = this.world.satellites
    const owner = this.owner
    const toCut = this.toCut
    const leg = this.userLeg
    const exact = this.exactLegs
    const zenith = this.zenithLeg()
    for (let u = 0; u < this.world.users.length; u++) {
      if (!exact) {
        toCut[S + u] = zenith
        continue
      }
      const s = this.servingOf(u)
      // A user with no satellite overhead sends nothing this epoch (its messages are dropped).
      toCut[S + u] = s < 0 ? Number.POSITIVE_INFINITY : owner[s] !== owner[S + u] ? leg[u]! : leg[u]! + toCut[s]!
    }
  }

  get epochEnd(): number {
    return (this.epoch + 1) * this.world.config.epochSeconds
  }

  /**
   * The next hop from satellite `at` toward satellite `target`, following the routing tree rooted at
   * `root`: either the target itself (a destination-rooted tree: next = the tree's parent of `at`) or the
   * satellite where the message entered the ISL network (a source-rooted tree: the path is the tree's
   * branch from root to target, walked back from the target). Source roots let requests to many different
   * home satellites share the few trees of the users' serving satellites. If the table's link is down now,
   * the hop is rerouted on a tree of the current link state. Returns next (-1: unreachable); the link
   * and whether it detoured are in towardLink and towardDetoured.
   */
  toward(at: number, target: number, root: number, detoured = false): number {
    // A message already sent round a down link stays on trees of the current link state: mixing the
    // routing epoch's tree with the current one can bounce it between two satellites until its TTL.
    if (detoured) return this.freshHop(at, target)
    const tree = this.treeOf(this.trees, this.routingSnapshot, root)
    let next: number
    let link: number
    if (root === target) {
      tree.reach?.(at)
      next = tree.next[at]!
      link = tree.link[at]!
    } else {
      // The branch root -> target is the chain of parents from target up to root (settled with the
      // target); find at's successor.
      tree.reach?.(target)
      let v = target
      while (v >= 0 && tree.next[v] !== at) v = tree.next[v]!
      next = v
      link = v >= 0 ? tree.link[v]! : -1
    }
    if (link >= 0 && this.snapshot.up[link] === 1) {
      this.towardLink = link
      this.towardDetoured = false
      return next
    }
    return this.freshHop(at, target)
  }

  /** The link of toward's last answer, and whether that answer was a detour (fields, not an object per hop). */
  towardLink = -1
  towardDetoured = false

  /** The next hop toward `target` on a tree of the current link state (rooted at the target). */
  private freshHop(at: number, target: number): number {
    const fresh = this.treeOf(this.freshTrees, this.snapshot, target)
    fresh.reach?.(at)
    this.towardLink = fresh.link[at]!
    this.towardDetoured = true
    return fresh.next[at]!
  }

  /** The tree rooted at dst (`whole`: every satellite's entry now, else grown as hops ask). */
  private treeOf(cache: TreeCache<RoutingTree>, snap: Snapshot, dst: number, whole = false): RoutingTree {
    let tree = cache.get(dst)
    if (tree === undefined) {
      // In a tree rooted at dst, prev[v] is v's next hop toward dst (links are symmetric). The caches are
      // cleared whenever their snapshot is updated, so a tree never grows on another link state.
      if (whole) {
        const sp = snap.routeFrom(dst)
        tree = { next: Int32Array.from(sp.prev), link: Int32Array.from(sp.prevLink) }
      } else {
        const grown = snap.growFrom(dst)
        tree = { next: grown.prev, link: grown.prevLink, reach: (v) => grown.reach(v) }
      }
      cache.set(dst, tree)
    }
    return tree
  }

  /**
   * ISL flaps (fault injection): a link that geometry allows is down for a whole link epoch with
   * probability islFlapProbability, drawn from (seed, link, epoch) alone, so every shard's replica agrees
   * and a rerun flaps the same links. Messages then reroute around it, or drop (linkDown) if they must use it.
   */
  private flap(snap: Snapshot, epoch: number): void {
    const p = this.world.config.islFlapProbability
    if (p <= 0) return
    const seed = this.world.config.seed
    for (let l = 0; l < snap.graph.linkCount; l++) {
      if (snap.up[l] === 1 && unitHash(seed, l, epoch) < p) snap.up[l] = 0
    }
  }

  /** Serving satellite of ground user u (0-based) this epoch, -1 if none is above the mask. */
  servingOf(u: number): number {
    const site = this.siteOf[u]!
    if (this.servingEpoch[site] === this.epoch + 2) return this.servingSite[site]!
    const s = this.highestOver(u, 0, this.world.satellites)
    this.servingSite[site] = s
    this.servingEpoch[site] = this.epoch + 2
    return s
  }

  /**
   * The satellite a ground terminal uses to reach satellite s's shell (or to hear from it): its serving
   * satellite in that shell, or its serving satellite overall if none of that shell is above the mask.
   * Terminals see every shell, while laser links join satellites of one shell (unless cross-shell links
   * are on): going up and down in the shell a message travels in keeps shells of a catalog, or of
   * starlink-phase1, reachable from the ground. One shell: servingOf.
   */
  servingIn(u: number, s: number): number {
    const c = this.world.constellation
    const shell = c.shellOf[s]!
    const key = u * c.shells.length + shell
    let v = this.servingByShell.get(key)
    if (v === undefined) {
      v = this.highestOver(u, c.shellStart[shell]!, c.shellStart[shell + 1]!)
      this.servingByShell.set(key, (v = v < 0 ? this.servingOf(u) : v))
    }
    return v
  }

  /** The highest satellite among from..to-1 above user u's mask this epoch, -1 if none. */
  private highestOver(u: number, from: number, to: number): number {
    const snap = this.snapshot
    const theta = snap.ephemeris.earthRotationAngleAt(snap.t)
    const mask = this.world.config.elevationMaskDeg
    // The index pays for itself on large shells; a scan of a few hundred satellites is cheaper than building it.
    if (this.world.satellites < SERVING_INDEX_MIN_SATELLITES) return servingSatellite(this.world.users[u]!, snap.positions, to, theta, mask, from)
    this.servingIndex ??= new ServingIndex(snap.positions, this.world.satellites, mask)
    return this.servingIndex.servingOf(this.world.users[u]!, theta, from, to)
  }

  /** Range from ground user u to satellite s this epoch, km. */
  groundRangeKm(u: number, s: number): number {
    const snap = this.snapshot
    const o = stationInertial(this.world.users[u]!, snap.ephemeris.earthRotationAngleAt(snap.t))
    const p = snap.positions
    return Math.hypot(p[3 * s]! - o[0], p[3 * s + 1]! - o[1], p[3 * s + 2]! - o[2])
  }
}
