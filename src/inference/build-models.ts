/**
 * `npm run models`: build the generated models into .cache/models (they are otherwise built on first
 * use). Prints each model's folder, parameter count and KV bytes per token at fp16.
 */
import { parameterCount } from "./decoder-graph.js"
import { ensureModel, generatedModels, modelSpecs } from "./models.js"

for (const name of generatedModels) {
  const t0 = performance.now()
  const dir = ensureModel(name)
  const s = modelSpecs[name]
  const kvBytes = s.layers * 2 * s.kvHeads * s.headDim * 2
  process.stdout.write(`${name}: ${dir} (${(parameterCount(s) / 1e6).toFixed(1)} M parameters, ${kvBytes} B of fp16 KV per token) in ${((performance.now() - t0) / 1e3).toFixed(1)} s\n`)
}
