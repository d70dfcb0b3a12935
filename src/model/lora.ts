// LoRA adapters in PEFT's format: W x + B(A(dropout(x))) * scaling, scaling = alpha / r (alpha / sqrt(r)
// with rsLoRA). Parameters are tf.Variables keyed by PEFT's saved names, e.g.
// `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight` ([r, in]); `...lora_B.weight` ([out, r]).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { LORA_MODULES, type LoraConfig, type LoraModule } from '../config/schema.js';
import { makeDirs, readJsonFile } from '../util/files.js';
import type { Rng } from '../util/rng.js';
import { Checkpoint, writeSafetensors } from './safetensors.js';
import { NamedVariables } from './variables.js';
import type { Qwen2Model } from './qwen2.js';

export { LORA_MODULES, type LoraConfig, type LoraModule };
export const DEFAULT_TARGETS: LoraModule[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];

const ATTN = new Set<string>(['q_proj', 'k_proj', 'v_proj', 'o_proj']);

/** Hugging Face name of a linear layer's weight, e.g. model.layers.3.mlp.up_proj.weight. */
export function moduleWeightName(layer: number, module: LoraModule): string {
  return `model.layers.${layer}.${ATTN.has(module) ? 'self_attn' : 'mlp'}.${module}.weight`;
}

/** PEFT's saved key for a layer's A or B matrix. */
export function peftKey(layer: number, module: LoraModule, which: 'A' | 'B'): string {
  return `base_model.model.${moduleWeightName(layer, module).replace(/\.weight$/, '')}.lora_${which}.weight`;
}

export function loraScaling(c: LoraConfig): number {
  return c.rslora ? c.alpha / Math.sqrt(c.r) : c.alpha / c.r;
}

/** The trainable matrices are the NamedVariables by PEFT key. */
export class LoraAdapter extends NamedVariables {
  readonly scaling: number;
  /** [layer][module] -> A [r,in], B [out,r]. */
  private readonly pairs: Map<LoraModule, { a: tf.Variable; b: tf.Variable }>[];

  /** Takes ownership of `weights` (PEFT key -> variable). */
  constructor(
    readonly config: LoraConfig,
    weights: Map<string, tf.Variable>,
    numLayers: number,
    readonly baseModelName = '',
  ) {
    super(weights, 'LoraAdapter');
    this.scaling = loraScaling(config);
    this.pairs = Array.from({ length: numLayers }, () => new Map());
    for (let layer = 0; layer < numLayers; layer++)
      for (const m of LORA_MODULES) {
        const a = weights.get(peftKey(layer, m, 'A'));
        const b = weights.get(peftKey(layer, m, 'B'));
        if (!a !== !b) throw new Error(`LoRA: layer ${layer} ${m} has only one of lora_A/lora_B`);
        if (a && b) this.pairs[layer]!.set(m, { a, b });
      }
  }

  pair(layer: number, module: LoraModule): { a: tf.Variable; b: tf.Variable } | undefined {
    return this.pairs[layer]?.get(module);
  }

  /** Trainable parameter names (PEFT keys), in a stable order. */
  names(): string[] {
    return [...this.weights.keys()];
  }
}

function checkConfig(c: LoraConfig): void {
  if (!Number.isInteger(c.r) || c.r <= 0) throw new Error(`LoRA: r must be a positive integer, got ${c.r}`);
  for (const m of c.targetModules)
    if (!(LORA_MODULES as readonly string[]).includes(m)) throw new Error(`LoRA: unknown target module ${m} (known: ${LORA_MODULES.join(', ')})`);
}

/** A trainable variable holding `t`'s values; `t` itself is released (a variable keeps its own copy). */
function trainable(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

/** PEFT's initialisation: A kaiming-uniform (a = sqrt(5), i.e. U(+-1/sqrt(in))), B zeros. */
export function createLora(model: Qwen2Model, config: LoraConfig, rng: Rng, baseModelName = ''): LoraAdapter {
  checkConfig(config);
  const weights = new Map<string, tf.Variable>();
  for (let layer = 0; layer < model.config.numHiddenLayers; layer++)
    for (const m of LORA_MODULES) {
      if (!config.targetModules.includes(m)) continue;
      const [out, inp] = model.weights.get(moduleWeightName(layer, m))!.shape as [number, number];
      const bound = 1 / Math.sqrt(inp);
      const a = new Float32Array(config.r * inp);
      for (let i = 0; i < a.length; i++) a[i] = (2 * rng.next() - 1) * bound;
      weights.set(peftKey(layer, m, 'A'), trainable(tf.tensor2d(a, [config.r, inp])));
      weights.set(peftKey(layer, m, 'B'), trainable(tf.zeros([out, config.r])));
    }
  return new LoraAdapter(config, weights, model.config.numHiddenLayers, baseModelName);
}

/** Writes adapter_config.json + adapter_model.safetensors as PEFT does. */
export function saveAdapter(adapter: LoraAdapter, dir: string, opts: { baseModelName?: string } = {}): void {
  makeDirs(dir);
  const c = adapter.config;
  const adapterConfig = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    r: c.r,
    lora_alpha: c.alpha,
    lora_dropout: c.dropout,
    target_modules: c.targetModules,
    bias: 'none',
    use_rslora: c.rslora,
    use_dora: false,
    fan_in_fan_out: false,
    init_lora_weights: true,
    inference_mode: true,
    modules_to_save: null,
    layers_to_transform: null,
    rank_pattern: {},
    alpha_pattern: {},
    base_model_name_or_path: opts.baseModelName ?? adapter.baseModelName,
    revision: null,
  };
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(adapterConfig, null, 2) + '\n');
  writeSafetensors(join(dir, 'adapter_model.safetensors'), adapter.namedWeights(), { dtype: 'F32' });
}

/** Reads a PEFT LoRA folder; shapes are checked against the model. */
export function loadAdapter(dir: string, model: Qwen2Model): LoraAdapter {
  const cfgFile = join(dir, 'adapter_config.json');
  if (!existsSync(cfgFile)) throw new Error(`no adapter_config.json in ${dir}`);
  const raw = readJsonFile<Record<string, unknown>>(cfgFile, 'adapter config');
  if (raw.peft_type !== 'LORA') throw new Error(`${cfgFile}: peft_type ${JSON.stringify(raw.peft_type)} is not LORA`);
  if (raw.fan_in_fan_out) throw new Error(`${cfgFile}: fan_in_fan_out adapters are not supported`);
  if (raw.use_dora) throw new Error(`${cfgFile}: DoRA adapters are not supported`);
  for (const key of ['rank_pattern', 'alpha_pattern'])
    if (raw[key] && Object.keys(raw[key] as object).length > 0) throw new Error(`${cfgFile}: ${key} is not supported`);
  if (raw.bias !== undefined && raw.bias !== 'none') throw new Error(`${cfgFile}: bias ${JSON.stringify(raw.bias)} is not supported (only "none")`);
  // PEFT's modules_to_save are whole trained copies of modules (e.g. lm_head); unitrace applies LoRA matrices only.
  const toSave = raw.modules_to_save;
  if (toSave !== undefined && toSave !== null && !(Array.isArray(toSave) && toSave.length === 0))
    throw new Error(`${cfgFile}: modules_to_save ${JSON.stringify(toSave)} is not supported (only LoRA matrices are applied): merge the adapter with PEFT's merge_and_unload() and load the merged folder`);
  const r = raw.r as number;
  const alpha = (raw.lora_alpha as number | undefined) ?? 8;
  const file = join(dir, 'adapter_model.safetensors');
  const ckpt = Checkpoint.open(file);
  const weights = new Map<string, tf.Variable>();
  const modules = new Set<LoraModule>();
  const known = new Set<string>();
  try {
    for (let layer = 0; layer < model.config.numHiddenLayers; layer++)
      for (const m of LORA_MODULES) {
        const keyA = peftKey(layer, m, 'A');
        const keyB = peftKey(layer, m, 'B');
        if (!ckpt.has(keyA) && !ckpt.has(keyB)) continue;
        const [out, inp] = model.weights.get(moduleWeightName(layer, m))!.shape as [number, number];
        weights.set(keyA, trainable(tf.tensor2d(ckpt.read(keyA, [r, inp]), [r, inp])));
        weights.set(keyB, trainable(tf.tensor2d(ckpt.read(keyB, [out, r]), [out, r])));
        known.add(keyA).add(keyB);
        modules.add(m);
      }
    const stray = [...ckpt.tensors.keys()].filter((k) => !known.has(k));
    if (stray.length > 0)
      throw new Error(`${file}: tensors other than LoRA matrices (whole modules, as PEFT saves for modules_to_save or resized embeddings) are not supported: ${stray.slice(0, 5).join(', ')}`);
    if (weights.size === 0) throw new Error(`${file}: no LoRA tensors for this model`);
  } catch (e) {
    for (const v of weights.values()) v.dispose();
    throw e;
  }
  const config: LoraConfig = {
    r,
    alpha,
    dropout: (raw.lora_dropout as number | undefined) ?? 0,
    rslora: Boolean(raw.use_rslora),
    targetModules: LORA_MODULES.filter((m) => modules.has(m)),
  };
  return new LoraAdapter(config, weights, model.config.numHiddenLayers, (raw.base_model_name_or_path as string | undefined) ?? '');
}

/**
 * Folds the adapter into the base: W += (B @ A) * scaling. In place on `model` (its previous weights
 * are replaced); the adapter stays usable.
 */
export function mergeAdapter(model: Qwen2Model, adapter: LoraAdapter): Qwen2Model {
  for (let layer = 0; layer < model.config.numHiddenLayers; layer++)
    for (const m of LORA_MODULES) {
      const pair = adapter.pair(layer, m);
      if (!pair) continue;
      const w = model.weights.get(moduleWeightName(layer, m))!;
      tf.tidy(() => w.assign(tf.add(w, tf.mul(tf.matMul(pair.b, pair.a), adapter.scaling))));
    }
  return model;
}
