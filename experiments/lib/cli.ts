/**
 * Command-line flags for experiments: node's own parser (util.parseArgs, strict) for the syntax, Effect
 * Schema for the values, one line naming the flag on stderr and exit code 2 for anything wrong. Every
 * experiment gets --help, --seed, --json and --quiet.
 *
 * Use `flag.number(...)` etc. to declare flags, `parseCli(spec)` to read them, and `runMain` to turn errors
 * into exit codes.
 */
import { parseArgs } from "node:util"
import { Data, Schema } from "effect"
import { defaultRunConfig } from "../../src/actors/config.js"

export class CliError extends Data.TaggedError("CliError")<{ readonly flag: string; readonly message: string }> {}

export interface Flag<A> {
  readonly description: string
  readonly placeholder: string
  readonly boolean: boolean
  readonly default: A
  /** Shown in --help when the default is not a plain value. */
  readonly defaultText?: string
  readonly decode: (raw: string) => A
}

const decodeWith = <A>(schema: Schema.Codec<A, string>, expected: string) => (raw: string): A => {
  try {
    return Schema.decodeUnknownSync(schema)(raw)
  } catch {
    throw new Error(`expected ${expected}, got "${raw}"`)
  }
}

const finite = decodeWith(Schema.FiniteFromString, "a finite number")

export const flag = {
  number: (description: string, def: number, opts: { min?: number; max?: number; integer?: boolean; placeholder?: string } = {}): Flag<number> => ({
    description, default: def, boolean: false, placeholder: opts.placeholder ?? "N",
    decode: (raw) => {
      const n = finite(raw)
      if (opts.integer && !Number.isInteger(n)) throw new Error(`expected an integer, got "${raw}"`)
      if (opts.min !== undefined && n < opts.min) throw new Error(`expected a number >= ${opts.min}, got "${raw}"`)
      if (opts.max !== undefined && n > opts.max) throw new Error(`expected a number <= ${opts.max}, got "${raw}"`)
      return n
    }
  }),
  optionalNumber: (description: string, opts: { min?: number; placeholder?: string } = {}): Flag<number | undefined> => ({
    description, default: undefined, boolean: false, placeholder: opts.placeholder ?? "N", defaultText: "unset",
    decode: (raw) => {
      const n = finite(raw)
      if (opts.min !== undefined && n < opts.min) throw new Error(`expected a number >= ${opts.min}, got "${raw}"`)
      return n
    }
  }),
  string: (description: string, def: string, placeholder = "S"): Flag<string> => ({
    description, default: def, boolean: false, placeholder, decode: (raw) => raw
  }),
  optionalString: (description: string, placeholder = "S"): Flag<string | undefined> => ({
    description, default: undefined, boolean: false, placeholder, defaultText: "unset", decode: (raw) => raw
  }),
  choice: <const C extends string>(description: string, choices: ReadonlyArray<C>, def: C): Flag<C> => ({
    description: `${description} (one of: ${choices.join(", ")})`, default: def, boolean: false, placeholder: "NAME",
    decode: (raw) => {
      if (!(choices as ReadonlyArray<string>).includes(raw)) throw new Error(`unknown value "${raw}" (expected one of: ${choices.join(", ")})`)
      return raw as C
    }
  }),
  /** Comma-separated positive integers (at most `max`), e.g. "256,1024,4096". */
  intList: (description: string, def: ReadonlyArray<number>, max = Number.MAX_SAFE_INTEGER): Flag<ReadonlyArray<number>> => ({
    description, default: def, boolean: false, placeholder: "N,N,...", defaultText: def.join(","),
    decode: (raw) => {
      const parts = raw.split(",").map((p) => p.trim())
      const values = parts.map((p) => Number(p))
      const bad = parts.findIndex((p, i) => p === "" || !Number.isInteger(values[i]) || values[i]! < 1)
      if (bad >= 0) throw new Error(`expected comma-separated positive integers, got "${parts[bad]}" in "${raw}"`)
      const over = values.find((v) => v > max)
      if (over !== undefined) throw new Error(`each value must be at most ${max}, got ${over} in "${raw}"`)
      return values
    }
  }),
  /** A positive integer, or "all" (Infinity): how many of something, e.g. a trace's requests. */
  countOrAll: (description: string, def: number): Flag<number> => ({
    description: `${description} (a number, or all)`, default: def, boolean: false, placeholder: "N|all",
    decode: (raw) => {
      if (raw === "all") return Number.POSITIVE_INFINITY
      const n = Number(raw)
      if (!(Number.isInteger(n) && n >= 1)) throw new Error(`expected a positive integer or "all", got "${raw}"`)
      return n
    }
  }),
  /** Comma-separated values among `choices`, or "all" (every choice, in their order). */
  choiceList: <const C extends string>(description: string, choices: ReadonlyArray<C>, def: ReadonlyArray<C>): Flag<ReadonlyArray<C>> => ({
    description: `${description} (comma-separated among: ${choices.join(", ")}; or all)`, default: def, boolean: false, placeholder: "NAME,...|all", defaultText: def.join(","),
    decode: (raw) => {
      if (raw === "all") return choices
      const parts = raw.split(",").map((p) => p.trim())
      const bad = parts.find((p) => !(choices as ReadonlyArray<string>).includes(p))
      if (bad !== undefined) throw new Error(`unknown value "${bad}" (expected among: ${choices.join(", ")}, or all)`)
      if (new Set(parts).size !== parts.length) throw new Error(`a value is repeated in "${raw}"`)
      return parts as Array<C>
    }
  }),
  boolean: (description: string): Flag<boolean> => ({ description, default: false, boolean: true, placeholder: "", decode: () => true }),
  /** "LAT,LON" in degrees. */
  latLon: (description: string): Flag<{ latDeg: number; lonDeg: number } | undefined> => ({
    description, default: undefined, boolean: false, placeholder: "LAT,LON", defaultText: "unset",
    decode: (raw) => {
      const parts = raw.split(",")
      if (parts.length !== 2) throw new Error(`expected LAT,LON in degrees, got "${raw}"`)
      const [lat, lon] = parts.map((p) => finite(p.trim())) as [number, number]
      if (lat < -90 || lat > 90) throw new Error(`latitude must be in [-90, 90], got ${lat}`)
      if (lon < -180 || lon > 360) throw new Error(`longitude must be in [-180, 360], got ${lon}`)
      return { latDeg: lat, lonDeg: lon }
    }
  })
}

/** What every trace-driven experiment reads: a Mooncake-format trace, and how many of its requests. */
export const traceFlags = (defaultRequests: number) => ({
  trace: flag.string("Mooncake-format trace (.jsonl or .jsonl.gz)", defaultRunConfig.replay.tracePath, "PATH"),
  requests: flag.countOrAll("replay the first N requests", defaultRequests)
})

export const commonFlags = {
  seed: flag.number("random seed; same seed, same results", 1, { integer: true, min: 0 }),
  json: flag.boolean("print only the JSON result on stdout (logs go to stderr)"),
  quiet: flag.boolean("no progress output on stderr"),
  help: flag.boolean("show this help")
}

export interface CliSpec<F extends Record<string, Flag<any>>> {
  readonly name: string
  readonly summary: string
  readonly flags: F
}

type Values<F extends Record<string, Flag<any>>> = { readonly [K in keyof F]: F[K]["default"] }

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

export const helpText = <F extends Record<string, Flag<any>>>(spec: CliSpec<F>): string => {
  const rows = Object.entries({ ...spec.flags, ...commonFlags }).map(([k, f]) => {
    const left = `  --${kebab(k)}${f.boolean ? "" : ` ${f.placeholder}`}`
    const def = f.boolean ? "" : ` [default: ${f.defaultText ?? String(f.default)}]`
    return `${left.padEnd(28)} ${f.description}${def}`
  })
  return `${spec.name}: ${spec.summary}\n\nUsage: npx tsx experiments/${spec.name}.ts [flags]\n\n${rows.join("\n")}\n`
}

/** Parse argv against the spec; throws CliError naming the flag. Prints help and exits 0 on --help. */
export const parseCli = <F extends Record<string, Flag<any>>>(spec: CliSpec<F>, argv: ReadonlyArray<string> = process.argv.slice(2)): Values<F & typeof commonFlags> => {
  const all: Record<string, Flag<any>> = { ...spec.flags, ...commonFlags }
  const options: Record<string, { type: "string" | "boolean" }> = {}
  for (const [k, f] of Object.entries(all)) options[kebab(k)] = { type: f.boolean ? "boolean" : "string" }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false })
  } catch (e) {
    const msg = (e as Error).message
    const name = /'(--?[\w-]+)/.exec(msg)?.[1] ?? "argv"
    // parseArgs takes a value starting with "-" (a southern latitude, a negative number) for a flag, and
    // puts how to write it on a later line than the one printed: say it on the first.
    const value = argv[argv.indexOf(name) + 1]
    const message = /argument is ambiguous/.test(msg) && value !== undefined
      ? `a value starting with "-" is written with "=": ${name}=${value}`
      : msg.split("\n")[0]!.replace(/\. To specify.*$/, "")
    throw new CliError({ flag: name, message })
  }
  if (parsed.values.help) {
    process.stdout.write(helpText(spec))
    process.exit(0)
  }
  const out: Record<string, unknown> = {}
  for (const [k, f] of Object.entries(all)) {
    const raw = parsed.values[kebab(k)]
    if (raw === undefined) out[k] = f.default
    else if (f.boolean) out[k] = raw === true
    else {
      try {
        out[k] = f.decode(String(raw))
      } catch (e) {
        throw new CliError({ flag: `--${kebab(k)}`, message: (e as Error).message })
      }
    }
  }
  return out as Values<F & typeof commonFlags>
}

/** Exit code 2 for bad input (CliError or an error with a `field`), 1 for anything else. */
export const exitCodeOf = (e: unknown): number =>
  e instanceof CliError || (typeof e === "object" && e !== null && "field" in e) ? 2 : 1

/** An error as one line on stderr (the stack too with SKYMEMORY_DEBUG=1), and its exit code set. */
export const reportError = (e: unknown): void => {
  const err = e as { flag?: string; field?: string; message?: string }
  const where = err.flag ?? err.field
  process.stderr.write(`error: ${where ? `${where}: ` : ""}${err.message ?? String(e)}\n`)
  if (process.env.SKYMEMORY_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`)
  process.exitCode = exitCodeOf(e)
}

/** Run an experiment's main, turning errors into one line on stderr and an exit code. */
export const runMain = (main: () => Promise<void> | void): void => {
  Promise.resolve().then(main).catch(reportError)
}
