/**
 * A writer's view of which satellites are up, learned by heartbeats, not handed down by the host: each
 * epoch it pings every satellite holding its shares (Ping, answered by Pong); a satellite with a ping
 * unanswered for TIMEOUT_SECONDS is down in its view until it answers again. Satellites it never asked
 * are taken to be up. So a crash is seen between TIMEOUT_SECONDS and TIMEOUT_SECONDS plus one epoch after
 * it happens, and a lost ping or pong is forgiven by the next epoch's (a false suspicion needs every
 * heartbeat of the timeout lost).
 */
import { Sky } from "./protocol.js"
import type { SkyContext } from "./sky-context.js"
import { CONTROL_BYTES } from "./satellite.js"

/** Longer than any round trip across the constellation (~0.2 s), and two epochs of pings. */
export const HEALTH_TIMEOUT_SECONDS = 2.5

/** Which satellites an actor believes are up. */
export type UpView = (satellite: number) => boolean
export const allUp: UpView = () => true

export class HealthView {
  /** Satellite -> when the oldest ping it has not answered was sent. */
  private readonly unanswered = new Map<number, number>()
  /** Satellite -> when it last answered. */
  private readonly lastAnswer = new Map<number, number>()

  /** Ping each of `satellites` (distinct), now. */
  ping(ctx: SkyContext, satellites: Iterable<number>): void {
    for (const s of satellites) {
      if (!this.unanswered.has(s)) this.unanswered.set(s, ctx.now)
      Sky.Ping.send(ctx, s, CONTROL_BYTES, {})
    }
  }

  /** `satellite` failed to answer something else it was asked (every send of a put): down from `now`. */
  suspect(satellite: number, now: number): void {
    // Down now, whatever ping it had pending (one older than the timeout is as down).
    this.unanswered.set(satellite, now - HEALTH_TIMEOUT_SECONDS)
  }

  /** A Pong from `satellite` at `now`: it is up. */
  heard(satellite: number, now: number): void {
    this.unanswered.delete(satellite)
    this.lastAnswer.set(satellite, now)
  }

  private isUp(satellite: number, now: number): boolean {
    const asked = this.unanswered.get(satellite)
    return asked === undefined || now - asked < HEALTH_TIMEOUT_SECONDS
  }

  /** Whether a satellite has answered within the timeout and is not down since (before moving shares to it). */
  answeredAt(now: number): UpView {
    return (s) => {
      const t = this.lastAnswer.get(s)
      return t !== undefined && now - t < HEALTH_TIMEOUT_SECONDS && this.isUp(s, now)
    }
  }

  /** The view at virtual time `now`. */
  at(now: number): UpView {
    return (s) => this.isUp(s, now)
  }
}
