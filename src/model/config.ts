// Qwen2Config: a camelCase view of a Hugging Face Qwen2 `config.json`, validated, and back.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile } from '../util/files.js';

export interface Qwen2Config {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  tieWordEmbeddings: boolean;
  maxPositionEmbeddings: number;
  bosTokenId?: number;
  eosTokenId?: number | number[];
  /** Keys we do not interpret (architectures, torch_dtype, ...), kept so a re-save is faithful. */
  extra: Record<string, unknown>;
}

const KNOWN = [
  'vocab_size',
  'hidden_size',
  'intermediate_size',
  'num_hidden_layers',
  'num_attention_heads',
  'num_key_value_heads',
  'head_dim',
  'rms_norm_eps',
  'rope_theta',
  'tie_word_embeddings',
  'max_position_embeddings',
  'bos_token_id',
  'eos_token_id',
];

/** Parses a config.json object; `where` names the file in error messages. */
export function parseConfig(raw: Record<string, unknown>, where = 'config.json'): Qwen2Config {
  const int = (key: string, fallback?: number): number => {
    const v = raw[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`${where}: ${key} must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  };
  const num = (key: string, fallback: number): number => {
    const v = raw[key] ?? fallback;
    if (typeof v !== 'number' || !(v > 0)) throw new Error(`${where}: ${key} must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  };
  if (raw.model_type !== undefined && raw.model_type !== 'qwen2')
    throw new Error(`${where}: model_type ${JSON.stringify(raw.model_type)} is not supported (qwen2 only)`);
  if (raw.rope_scaling != null) throw new Error(`${where}: rope_scaling is not supported`);
  if (raw.use_sliding_window === true) throw new Error(`${where}: use_sliding_window is not supported`);
  if (raw.hidden_act !== undefined && raw.hidden_act !== 'silu') throw new Error(`${where}: hidden_act ${JSON.stringify(raw.hidden_act)} is not supported (silu only)`);
  const hiddenSize = int('hidden_size');
  const numAttentionHeads = int('num_attention_heads');
  const numKeyValueHeads = int('num_key_value_heads', numAttentionHeads);
  const headDim = int('head_dim', Math.floor(hiddenSize / numAttentionHeads));
  if (numAttentionHeads % numKeyValueHeads !== 0)
    throw new Error(`${where}: num_attention_heads ${numAttentionHeads} is not a multiple of num_key_value_heads ${numKeyValueHeads}`);
  if (headDim % 2 !== 0) throw new Error(`${where}: head_dim ${headDim} must be even for rotary embeddings`);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!KNOWN.includes(k)) extra[k] = v;
  return {
    vocabSize: int('vocab_size'),
    hiddenSize,
    intermediateSize: int('intermediate_size'),
    numHiddenLayers: int('num_hidden_layers'),
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    rmsNormEps: num('rms_norm_eps', 1e-6),
    ropeTheta: num('rope_theta', 10000),
    tieWordEmbeddings: raw.tie_word_embeddings === undefined ? false : Boolean(raw.tie_word_embeddings),
    maxPositionEmbeddings: int('max_position_embeddings', 32768),
    bosTokenId: typeof raw.bos_token_id === 'number' ? raw.bos_token_id : undefined,
    eosTokenId: (raw.eos_token_id as number | number[] | undefined) ?? undefined,
    extra,
  };
}

export function readConfig(dir: string): Qwen2Config {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) throw new Error(`no config.json in ${dir}`);
  return parseConfig(readJsonFile<Record<string, unknown>>(file, 'model config'), file);
}

/** The Hugging Face config.json object for a config. */
export function toHfConfig(c: Qwen2Config, torchDtype = 'float32'): Record<string, unknown> {
  return {
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    hidden_act: 'silu',
    attention_dropout: 0,
    use_cache: true,
    use_sliding_window: false,
    ...c.extra,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numHiddenLayers,
    num_attention_heads: c.numAttentionHeads,
    num_key_value_heads: c.numKeyValueHeads,
    head_dim: c.headDim,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    tie_word_embeddings: c.tieWordEmbeddings,
    max_position_embeddings: c.maxPositionEmbeddings,
    torch_dtype: torchDtype,
    ...(c.bosTokenId !== undefined ? { bos_token_id: c.bosTokenId } : {}),
    ...(c.eosTokenId !== undefined ? { eos_token_id: c.eosTokenId } : {}),
  };
}

/** Makes a config from the few numbers that matter (tests, the embedded model's trainer, benches). */
export function makeConfig(p: Partial<Omit<Qwen2Config, 'extra'>> & { vocabSize: number; hiddenSize: number }): Qwen2Config {
  const numAttentionHeads = p.numAttentionHeads ?? 4;
  return {
    intermediateSize: p.hiddenSize * 4,
    numHiddenLayers: 2,
    numKeyValueHeads: numAttentionHeads,
    headDim: p.hiddenSize / numAttentionHeads,
    rmsNormEps: 1e-6,
    ropeTheta: 1_000_000,
    tieWordEmbeddings: true,
    maxPositionEmbeddings: 32768,
    ...p,
    numAttentionHeads,
    extra: {},
  };
}

/** Hugging Face names of every weight, in the order transformers saves them. */
export function weightShapes(c: Qwen2Config): Map<string, number[]> {
  const H = c.hiddenSize;
  const qDim = c.numAttentionHeads * c.headDim;
  const kvDim = c.numKeyValueHeads * c.headDim;
  const m = new Map<string, number[]>();
  m.set('model.embed_tokens.weight', [c.vocabSize, H]);
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const p = `model.layers.${i}.`;
    m.set(`${p}input_layernorm.weight`, [H]);
    m.set(`${p}self_attn.q_proj.weight`, [qDim, H]);
    m.set(`${p}self_attn.q_proj.bias`, [qDim]);
    m.set(`${p}self_attn.k_proj.weight`, [kvDim, H]);
    m.set(`${p}self_attn.k_proj.bias`, [kvDim]);
    m.set(`${p}self_attn.v_proj.weight`, [kvDim, H]);
    m.set(`${p}self_attn.v_proj.bias`, [kvDim]);
    m.set(`${p}self_attn.o_proj.weight`, [H, qDim]);
    m.set(`${p}post_attention_layernorm.weight`, [H]);
    m.set(`${p}mlp.gate_proj.weight`, [c.intermediateSize, H]);
    m.set(`${p}mlp.up_proj.weight`, [c.intermediateSize, H]);
    m.set(`${p}mlp.down_proj.weight`, [H, c.intermediateSize]);
  }
  m.set('model.norm.weight', [H]);
  if (!c.tieWordEmbeddings) m.set('lm_head.weight', [c.vocabSize, H]);
  return m;
}

export function parameterCount(c: Qwen2Config): number {
  let n = 0;
  for (const s of weightShapes(c).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}
