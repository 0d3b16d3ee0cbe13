/** Printing experiment results: JSON on stdout for --json, a readable block otherwise. */
export const printResult = (json: boolean, value: unknown, human: () => string): void => {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${human()}\n`)
}

export const fmt = (x: number, digits = 3): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x))
