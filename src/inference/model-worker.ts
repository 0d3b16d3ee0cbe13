/**
 * A piscina task: one model call (generate, encode or decode) in a worker thread, so the model never runs
 * on a shard's or the driver's thread. Each worker loads a model once and keeps it for the tasks after.
 */
import { CausalLm, type Generation, type PastKv } from "./runner.js"

export type ModelTask =
  | { readonly op: "generate"; readonly model: string; readonly threads: number; readonly tokens: ReadonlyArray<number>; readonly maxNewTokens: number; readonly past?: PastKv; readonly stopAtEos?: boolean; readonly returnPast?: boolean }
  | { readonly op: "encode"; readonly model: string; readonly threads: number; readonly text: string }
  | { readonly op: "decode"; readonly model: string; readonly threads: number; readonly tokens: ReadonlyArray<number> }

export type ModelTaskResult =
  | ({ readonly op: "generate" } & Generation)
  | { readonly op: "encode"; readonly tokens: Array<number> }
  | { readonly op: "decode"; readonly text: string }

const loaded = new Map<string, Promise<CausalLm>>()
const modelOf = (name: string, threads: number) => {
  const id = `${name}#${threads}`
  let m = loaded.get(id)
  if (m === undefined) {
    m = CausalLm.load(name, threads)
    loaded.set(id, m)
  }
  return m
}

export default async (task: ModelTask): Promise<ModelTaskResult> => {
  const lm = await modelOf(task.model, task.threads)
  switch (task.op) {
    case "generate":
      return { op: "generate", ...(await lm.generate(task.tokens, task.maxNewTokens, task.past, { stopAtEos: task.stopAtEos ?? false, returnPast: task.returnPast ?? false })) }
    case "encode":
      return { op: "encode", tokens: lm.encode(task.text) }
    case "decode":
      return { op: "decode", text: lm.decode(task.tokens) }
  }
}
