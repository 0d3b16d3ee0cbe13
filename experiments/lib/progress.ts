/**
 * A progress bar on stderr (cli-progress): virtual time done / total, events per second, ETA. Silent when
 * stderr is not a terminal or with --quiet, so piped and CI runs stay clean.
 */
import cliProgress from "cli-progress"

export interface Progress {
  update(virtualSeconds: number, events: number): void
  stop(): void
}

export const makeProgress = (label: string, totalVirtualSeconds: number, quiet: boolean): Progress => {
  if (quiet || !process.stderr.isTTY) return { update: () => {}, stop: () => {} }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} s virtual | {rate} events/s | ETA {eta}s`,
      hideCursor: true
    },
    cliProgress.Presets.shades_classic
  )
  const t0 = performance.now()
  bar.start(Math.round(totalVirtualSeconds * 100) / 100, 0, { rate: 0 })
  return {
    update: (v, events) => bar.update(Math.round(v * 100) / 100, { rate: Math.round(events / ((performance.now() - t0) / 1e3)) }),
    stop: () => bar.stop()
  }
}

/** A progress bar over discrete steps (model calls, runs), with ETA; silent like makeProgress. */
export const makeStepProgress = (label: string, totalSteps: number, quiet: boolean): { step(what: string): void; stop(): void } => {
  if (quiet || !process.stderr.isTTY) return { step: () => {}, stop: () => {} }
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {value}/{total} | {what} | ETA {eta}s`, hideCursor: true },
    cliProgress.Presets.shades_classic
  )
  bar.start(totalSteps, 0, { what: "" })
  return { step: (what) => bar.increment(1, { what }), stop: () => bar.stop() }
}
