import { ModelPool } from "./src/inference/model-pool.js"
const pool = new ModelPool("tiny")
const t = await pool.encode("hello there constellation")
const r = await pool.prefill(t)
const g = await pool.generate(t, 5, undefined)
console.log(t.length, r.past.tokens, r.logits.length, g.tokens, await pool.decode(g.tokens))
await pool.close()
