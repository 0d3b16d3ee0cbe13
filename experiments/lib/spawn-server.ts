/**
 * Start a server experiment (live.ts, serve.ts) as a child process on a free port and wait for the first
 * line it prints: its URL. For the benchmarks and tests that drive it from outside; a child that exits
 * before printing it rejects.
 */
import { type ChildProcess, spawn } from "node:child_process"

export const startExperimentServer = (
  script: string, args: ReadonlyArray<string>, o: { readonly env?: NodeJS.ProcessEnv; readonly stderr?: "inherit" | "pipe" } = {}
): Promise<{ child: ChildProcess; url: string }> => {
  const child = spawn(process.execPath, ["--import", "tsx", `experiments/${script}.ts`, "--port", "0", ...args], { env: o.env ?? process.env, stdio: ["ignore", "pipe", o.stderr ?? "inherit"] })
  return new Promise((resolve, reject) => {
    let out = ""
    child.stdout!.on("data", (d) => {
      out += String(d)
      if (out.includes("\n")) resolve({ child, url: out.split("\n")[0]! })
    })
    child.once("exit", (code) => reject(new Error(`${script}.ts exited with ${code} before listening`)))
  })
}
