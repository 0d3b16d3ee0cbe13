/**
 * Run a server experiment's Effect until SIGINT or SIGTERM: then interrupt it (its finalizers close the
 * emulation) and exit 0, at most 0.9 s later whatever hangs. If the server fails (the port in use, say),
 * one line on stderr names where it tried to listen, exit code 1.
 */
import { Cause, Effect, Exit, Fiber } from "effect"
import { reportError } from "./cli.js"

export const runServer = <E>(program: Effect.Effect<unknown, E>, where: string): void => {
  const fiber = Effect.runFork(program)
  const stop = () => {
    setTimeout(() => process.exit(0), 900).unref()
    Effect.runPromise(Fiber.interrupt(fiber)).finally(() => process.exit(0))
  }
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
  Effect.runPromise(Fiber.await(fiber)).then((exit) => {
    if (Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)) {
      // Socket servers wrap the listen error in `reason.cause`, HTTP servers in `cause`.
      const e = Cause.squash(exit.cause) as { message?: string; cause?: { code?: string; message?: string }; reason?: { cause?: { code?: string; message?: string } } }
      const cause = e.reason?.cause ?? e.cause
      reportError(Object.assign(new Error(cause?.code === "EADDRINUSE" ? "the port is in use" : (cause?.message ?? e.message ?? String(e))), { field: where }))
      process.exit(process.exitCode ?? 1)
    }
  })
}
