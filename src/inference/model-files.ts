/**
 * The JSON files beside onnx/model.onnx that make a folder a transformers.js causal LM: config.json (a
 * `llama` config), a byte-level BPE tokenizer.json with the 256 byte symbols and no merges (one token per
 * byte of UTF-8, so a prompt's token count is its byte count), tokenizer_config.json and
 * generation_config.json. The end-of-text token is the last id, 256.
 */
import type { DecoderSpec } from "./decoder-graph.js"

export const EOS_ID = 256
export const EOS = "<|endoftext|>"

/** GPT-2's byte -> printable character table, which byte-level BPE vocabularies are written in. */
const byteSymbols = (): Array<string> => {
  const printable: Array<number> = []
  for (let b = 33; b <= 126; b++) printable.push(b)
  for (let b = 161; b <= 172; b++) printable.push(b)
  for (let b = 174; b <= 255; b++) printable.push(b)
  const table: Array<string> = new Array(256)
  let extra = 0
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(printable.includes(b) ? b : 256 + extra++)
  return table
}

export const configJson = (s: DecoderSpec) => ({
  model_type: "llama",
  architectures: ["LlamaForCausalLM"],
  hidden_size: s.hidden,
  intermediate_size: s.intermediate,
  num_attention_heads: s.heads,
  num_key_value_heads: s.kvHeads,
  num_hidden_layers: s.layers,
  head_dim: s.headDim,
  vocab_size: s.vocab,
  max_position_embeddings: s.maxPositions,
  rms_norm_eps: s.rmsEps,
  rope_theta: s.ropeTheta,
  bos_token_id: null,
  eos_token_id: EOS_ID,
  tie_word_embeddings: false,
  torch_dtype: "float32"
})

export const tokenizerJson = () => {
  const vocab: Record<string, number> = {}
  byteSymbols().forEach((sym, b) => (vocab[sym] = b))
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [{ id: EOS_ID, content: EOS, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab, merges: [] }
  }
}

export const tokenizerConfigJson = (s: DecoderSpec) => ({
  tokenizer_class: "PreTrainedTokenizerFast",
  eos_token: EOS,
  bos_token: null,
  pad_token: EOS,
  add_bos_token: false,
  clean_up_tokenization_spaces: false,
  model_max_length: s.maxPositions
})

export const generationConfigJson = () => ({ eos_token_id: EOS_ID, do_sample: false })
