/**
 * The model behind a piscina pool (a task per call): generation (a prefill, or a continuation of a
 * cached past) and tokenization run in worker threads. One worker by default: onnxruntime already uses
 * `threads` cores inside a call, and calls of one conversation are sequential. Close it when done (it holds threads).
 */
import { Piscina } from "piscina"
import type { ModelTask, ModelTaskResult } from "./model-worker.js"
import type { Generation, PastKv } from "./runner.js"

export class ModelPool {
  private readonly pool: Piscina

  constructor(readonly model: string, readonly o: { workers?: number; threads?: number } = {}) {
    this.pool = new Piscina({
      filename: new URL("./model-worker-entry.mjs", import.meta.url).href,
      minThreads: o.workers ?? 1,
      maxThreads: o.workers ?? 1,
      idleTimeout: 60_000
    })
  }

  private run<T extends ModelTask["op"]>(op: T, args: Record<string, unknown>): Promise<Extract<ModelTaskResult, { op: T }>> {
    return this.pool.run({ op, ...args, model: this.model, threads: this.o.threads ?? 2 } as ModelTask)
  }

  async encode(text: string): Promise<Array<number>> {
    return (await this.run("encode", { text })).tokens
  }

  async decode(tokens: ReadonlyArray<number>): Promise<string> {
    return (await this.run("decode", { tokens })).text
  }

  generate(tokens: ReadonlyArray<number>, maxNewTokens: number, past?: PastKv, o: { stopAtEos?: boolean; returnPast?: boolean } = {}): Promise<Generation> {
    return this.run("generate", { tokens, maxNewTokens, ...(past ? { past } : {}), ...o })
  }

  close(): Promise<void> {
    return this.pool.destroy()
  }
}
