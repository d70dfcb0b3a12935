// Model folders: load a Hugging Face Qwen2 folder (or the embedded tiny model), save one, and make
// random-init models for tests and benchmarks.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { makeDirs } from '../util/files.js';
import { ensureBackend, matmulPath, type BackendPreference } from '../engine/backend.js';
import { resolveModelDir } from './folder.js';
import type { Rng } from '../util/rng.js';
import { parameterCount, readConfig, toHfConfig, weightShapes, type Qwen2Config } from './config.js';
import { Qwen2Model } from './qwen2.js';
import { Checkpoint, writeCheckpoint, type Dtype, type NamedTensor } from './safetensors.js';
import { loadTokenizer, saveTokenizerFiles, type Tokenizer } from './tokenizer.js';

export { EMBEDDED_MODEL_DIR, resolveModelDir } from './folder.js';

export interface LoadOptions {
  /** Backend to initialise first; default 'auto' (or $UNITRACE_BACKEND). */
  backend?: BackendPreference;
  /** Called after each tensor is loaded (progress for big checkpoints). */
  onTensor?: (name: string, done: number, total: number) => void;
}

/** Loads `config.json` + safetensors weights (single file or sharded) from a folder, or 'embedded'. */
export async function loadModel(source: string, opts: LoadOptions = {}): Promise<Qwen2Model> {
  const dir = resolveModelDir(source);
  if (!existsSync(dir))
    throw new Error(source === 'embedded' ? `the embedded model is missing (${dir}); see data/README for the command that builds it` : `model folder not found: ${dir}`);
  const config = readConfig(dir);
  const pref = opts.backend ?? 'auto';
  const backend = await ensureBackend(pref);
  const need = wasmFootprint(config, nativeProducts());
  if (backend === 'wasm' && need > WASM_HEAP_BUDGET) {
    const size = `${(need / 2 ** 30).toFixed(1)} GiB`;
    if (pref === 'wasm' || process.env.UNITRACE_BACKEND === 'wasm')
      throw new Error(`${dir}: ${parameterCount(config)} parameters need about ${size} on wasm (${matmulPath()} products), more than its 4 GiB heap; use --backend cpu`);
    await ensureBackend('cpu');
    console.error(`unitrace: ${dir} needs about ${size} on wasm (over its 4 GiB heap): using the cpu backend instead`);
  }
  return modelFromCheckpoint(config, Checkpoint.open(dir), opts.onTensor);
}

/** What wasm could hold next to activations (its heap stops at 4 GiB). */
const WASM_HEAP_BUDGET = 3.25 * 2 ** 30;

/** True when the engine routes wasm's matrix products through its native addon (no copies of the weights). */
function nativeProducts(): boolean {
  return !matmulPath().startsWith('off');
}

/**
 * Bytes a model takes on wasm. Float32 weights; with wasm's own matmul also XNNPACK's packed copy of each
 * matrix used in a product, plus the engine's cache of transposed weights (at most 512 MiB). Measured:
 * Qwen2.5-0.5B's shapes abort with XNNPACK out of memory that way; with the native products they fit.
 */
export function wasmFootprint(config: Qwen2Config, native: boolean): number {
  let bytes = 0;
  for (const [name, shape] of weightShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1) * 4;
    const inProduct = shape.length === 2 && (name !== 'model.embed_tokens.weight' || config.tieWordEmbeddings);
    bytes += inProduct && !native ? 2 * n : n;
  }
  return native ? bytes : bytes + 512 * 2 ** 20;
}

/** The model and its tokenizer (the folder's own, else the default Qwen one; pruned by vocab_map.json). */
export async function loadModelAndTokenizer(source: string, opts: LoadOptions = {}): Promise<{ model: Qwen2Model; tokenizer: Tokenizer }> {
  const model = await loadModel(source, opts);
  const tokenizer = loadTokenizer(resolveModelDir(source));
  if (tokenizer.vocabSize > model.config.vocabSize) {
    model.dispose();
    throw new Error(`${resolveModelDir(source)}: the tokenizer has ${tokenizer.vocabSize} ids but the model only ${model.config.vocabSize} (missing vocab_map.json?)`);
  }
  return { model, tokenizer };
}

export function modelFromCheckpoint(config: Qwen2Config, ckpt: Checkpoint, onTensor?: LoadOptions['onTensor']): Qwen2Model {
  const shapes = weightShapes(config);
  const tensors = new Map<string, tf.Tensor>();
  let done = 0;
  try {
    for (const [name, shape] of shapes) {
      tensors.set(name, tf.tensor(ckpt.read(name, shape), shape, 'float32'));
      onTensor?.(name, ++done, shapes.size);
    }
    // Checkpoints saved from a tied model sometimes still carry lm_head.weight: it is the embedding, ignore it.
    const unknown = [...ckpt.tensors.keys()].filter((n) => !shapes.has(n) && !(config.tieWordEmbeddings && n === 'lm_head.weight'));
    if (unknown.length > 0) throw new Error(`checkpoint has tensors a Qwen2 model does not use: ${unknown.slice(0, 5).join(', ')} (in ${ckpt.info(unknown[0]!).file})`);
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return new Qwen2Model(config, tensors);
}

/**
 * Writes config.json + model.safetensors (sharded above maxShardBytes) in Hugging Face layout; with a
 * tokenizer also tokenizer_config.json, generation_config.json and (pruned vocabulary) vocab_map.json.
 */
export function saveModel(model: Qwen2Model, dir: string, opts: { dtype?: Dtype; maxShardBytes?: number; tokenizer?: Tokenizer } = {}): void {
  const dtype = opts.dtype ?? 'F32';
  makeDirs(dir);
  const torchDtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64' }[dtype];
  const tok = opts.tokenizer;
  const config = tok ? { ...model.config, eosTokenId: tok.imEndId } : model.config;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(toHfConfig(config, torchDtype), null, 2) + '\n');
  writeCheckpoint(dir, model.namedWeights(), { dtype, maxShardBytes: opts.maxShardBytes });
  if (tok) {
    if (tok.vocabSize > model.config.vocabSize) throw new Error(`saveModel: the tokenizer has ${tok.vocabSize} ids, the model ${model.config.vocabSize}`);
    saveTokenizerFiles(tok, dir);
    const generation = { eos_token_id: tok.eosIds, pad_token_id: tok.padId, do_sample: false };
    writeFileSync(join(dir, 'generation_config.json'), JSON.stringify(generation, null, 2) + '\n');
  }
}

/**
 * Random weights as Hugging Face initialises Qwen2 (normal(0, std) for matrices, zero biases, unit
 * norms), as plain arrays so they can be written without a backend.
 */
export function randomWeights(config: Qwen2Config, rng: Rng, std = 0.02): NamedTensor[] {
  return [...weightShapes(config)].map(([name, shape]) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('norm.weight')) data.fill(1);
    else if (!name.endsWith('.bias')) for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
    return { name, shape, data };
  });
}

export function randomModel(config: Qwen2Config, rng: Rng, std = 0.02): Qwen2Model {
  const tensors = new Map<string, tf.Tensor>(randomWeights(config, rng, std).map((t) => [t.name, tf.tensor(t.data, t.shape)]));
  return new Qwen2Model(config, tensors);
}

/** Writes a random-init checkpoint folder (config.json + safetensors) without building a model. */
export function writeRandomCheckpoint(dir: string, config: Qwen2Config, rng: Rng, opts: { dtype?: Dtype; maxShardBytes?: number; std?: number } = {}): void {
  const dtype = opts.dtype ?? 'F32';
  makeDirs(dir);
  const torchDtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64' }[dtype];
  writeFileSync(join(dir, 'config.json'), JSON.stringify(toHfConfig(config, torchDtype), null, 2) + '\n');
  writeCheckpoint(dir, randomWeights(config, rng, opts.std), { dtype, maxShardBytes: opts.maxShardBytes });
}
