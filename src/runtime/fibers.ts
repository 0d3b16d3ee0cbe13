/**
 * Effect programs inside actors, in virtual time. An actor forks a program (ActorContext.run); its fiber
 * runs only inside its actor's own events: a Clock whose sleep is an engine timer for that actor (so
 * Effect.sleep, Effect.timeout, Effect.retry with a Schedule and races all run in virtual time), and a
 * synchronous Scheduler whose tasks the engine flushes right after each delivery or timer of the actor
 * (nothing escapes to the event loop: no setImmediate, no microtask). Same config and seed, same run,
 * whatever the worker count. Protocols that live in time are written this way; per-message hot paths
 * stay plain handlers (a fiber wake-up costs several microseconds against ~1 us per message).
 *
 * The host (the engine, or a test's fake context) gives the current actor and time, and sets timers
 * that come back as `wake(id)`. A cancelled sleep (the loser of a race or a timeout) leaves its timer to
 * fire as a no-op, so the order of events never depends on what was cancelled.
 */
import { Cause, Clock, Duration, Effect, Exit, type Fiber, Scheduler } from "effect"

export interface FiberHost {
  /** Virtual time now, s. */
  now(): number
  /** The actor whose event is being handled. */
  self(): number
  /** Call wake(id) on the fiber runtime at virtual time `time`, in an event of `actor`. */
  timer(actor: number, time: number, id: number): void
  /** A fiber of `actor` failed (not interrupted): the host supervises the actor. */
  failed(actor: number, cause: unknown): void
}

export class FiberRuntime {
  private readonly tasks: Array<() => void> = []
  private readonly wakes = new Map<number, () => void>()
  private nextWake = 0
  /** Live fibers per actor (interrupted when the actor restarts or crashes). */
  private readonly byActor = new Map<number, Set<Fiber.Fiber<unknown, unknown>>>()
  private readonly scheduler: Scheduler.Scheduler
  private readonly clock: Clock.Clock

  constructor(private readonly host: FiberHost) {
    const tasks = this.tasks
    const dispatcher: Scheduler.SchedulerDispatcher = { scheduleTask: (t) => void tasks.push(t), flush: () => this.flush() }
    this.scheduler = { executionMode: "sync", shouldYield: () => false, makeDispatcher: () => dispatcher }
    const millis = () => host.now() * 1e3
    const nanos = () => BigInt(Math.round(host.now() * 1e9))
    this.clock = {
      currentTimeMillisUnsafe: millis,
      currentTimeMillis: Effect.sync(millis),
      currentTimeNanosUnsafe: nanos,
      currentTimeNanos: Effect.sync(nanos),
      sleep: (d: Duration.Duration) =>
        Effect.callback<void>((resume) => {
          const id = this.nextWake++
          this.wakes.set(id, () => resume(Effect.void))
          host.timer(host.self(), host.now() + Duration.toMillis(d) / 1e3, id)
          return Effect.sync(() => void this.wakes.delete(id))
        })
    } as unknown as Clock.Clock
  }

  /** Tasks are waiting to run (the host flushes after the event that queued them). */
  get pending(): boolean {
    return this.tasks.length > 0
  }

  /** Fork `program` as a fiber of the current actor; it starts at the next flush. */
  fork(program: Effect.Effect<void>): void {
    const actor = this.host.self()
    const fiber = Effect.runFork(program.pipe(Effect.provideService(Clock.Clock, this.clock), Effect.provideService(Scheduler.Scheduler, this.scheduler)), { scheduler: this.scheduler })
    let mine = this.byActor.get(actor)
    if (mine === undefined) this.byActor.set(actor, (mine = new Set()))
    mine.add(fiber)
    fiber.addObserver((exit) => {
      mine.delete(fiber)
      if (Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)) this.host.failed(actor, Cause.squash(exit.cause))
    })
  }

  /** A timer set by a sleep came due (the host has set the current actor and time): resume its fiber. */
  wake(id: number): void {
    const resume = this.wakes.get(id)
    if (resume === undefined) return
    this.wakes.delete(id)
    resume()
    this.flush()
  }

  /** Run every queued fiber step (each may queue more). */
  flush(): void {
    const t = this.tasks
    for (let i = 0; i < t.length; i++) t[i]!()
    t.length = 0
  }

  /** The actor lost its state (restart, crash): its fibers end with it. */
  interrupt(actor: number): void {
    const mine = this.byActor.get(actor)
    if (mine === undefined) return
    for (const f of [...mine]) f.interruptUnsafe()
    this.flush()
  }
}
