// The weight rule of scripts/golden_qwen2.py, so parity tests rebuild the golden checkpoints without Python.
import type { TestContext } from 'node:test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendPreference } from '../../src/engine/backend.js';
import { fastOpsActive, setFastOps } from '../../src/engine/ops.js';
import { loadModel } from '../../src/model/load.js';
import { loadAdapter } from '../../src/model/lora.js';
import { compare } from '../helpers/compare.js';
import { parseConfig, weightShapes } from '../../src/model/config.js';
import { peftKey, type LoraModule } from '../../src/model/lora.js';
import { writeCheckpoint, writeSafetensors, type Dtype, type NamedTensor } from '../../src/model/safetensors.js';

function fnv1a(name: string): number {
  let h = 2166136261;
  for (const byte of Buffer.from(name, 'utf8')) h = Math.imul(h ^ byte, 16777619) >>> 0;
  return h;
}

/** Same float64 expressions, in the same order, as `values` in the Python generator. */
export function goldenValues(name: string, shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const key = (fnv1a(name) ^ seed) >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let h = (key + Math.imul(i, 0x9e3779b9)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h = (h ^ (h >>> 16)) >>> 0;
    const u = (h / 4294967296) * 2 - 1;
    let v: number;
    if (name.endsWith('norm.weight')) v = 1 + 0.1 * u;
    else if (name.endsWith('.bias')) v = 0.1 * u;
    else if (name.endsWith('lora_B.weight')) v = (0.5 * u) / Math.sqrt(shape[1]!);
    else v = u / Math.sqrt(shape[1]!);
    out[i] = v;
  }
  return out;
}

export interface GoldenCase {
  name: string;
  seed: number;
  dtype: Dtype;
  config: Record<string, unknown>;
  lora: { r: number; alpha: number; rslora: boolean; targetModules: LoraModule[] } | null;
  ids: number[][];
  logits: number[][][];
}

/** Writes the case's model folder (config.json + model.safetensors in its dtype) and, with LoRA, a PEFT adapter folder. */
export function writeGoldenCase(c: GoldenCase, dir: string): { modelDir: string; adapterDir?: string } {
  const modelDir = join(dir, 'model');
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(join(modelDir, 'config.json'), JSON.stringify(c.config));
  const config = parseConfig(c.config);
  const tensors: NamedTensor[] = [...weightShapes(config)].map(([name, shape]) => ({ name, shape, data: goldenValues(name, shape, c.seed) }));
  writeCheckpoint(modelDir, tensors, { dtype: c.dtype });
  if (!c.lora) return { modelDir };
  const adapterDir = join(dir, 'adapter');
  const shapes = weightShapes(config);
  const lora: NamedTensor[] = [];
  for (let layer = 0; layer < config.numHiddenLayers; layer++)
    for (const m of c.lora.targetModules) {
      const block = ['q_proj', 'k_proj', 'v_proj', 'o_proj'].includes(m) ? 'self_attn' : 'mlp';
      const [out, inp] = shapes.get(`model.layers.${layer}.${block}.${m}.weight`)!;
      for (const [which, shape] of [['A', [c.lora.r, inp!]], ['B', [out!, c.lora.r]]] as const) {
        const name = peftKey(layer, m, which);
        lora.push({ name, shape: [...shape], data: goldenValues(name, [...shape], c.seed) });
      }
    }
  mkdirSync(adapterDir, { recursive: true });
  writeFileSync(
    join(adapterDir, 'adapter_config.json'),
    JSON.stringify({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: c.lora.r, lora_alpha: c.lora.alpha, lora_dropout: 0, target_modules: c.lora.targetModules, bias: 'none', use_rslora: c.lora.rslora, fan_in_fan_out: false, inference_mode: true }),
  );
  writeSafetensors(join(adapterDir, 'adapter_model.safetensors'), lora);
  return { modelDir, adapterDir };
}

export function goldenCases(): GoldenCase[] {
  return (JSON.parse(readFileSync(new URL('./golden/qwen2-parity.json', import.meta.url), 'utf8')) as { cases: GoldenCase[] }).cases;
}

/** Writes the case's checkpoint, loads it on a backend and compares the logits within 1e-4, once per fast-ops setting. */
export async function checkParity(t: TestContext, c: GoldenCase, backend: BackendPreference, fastSettings: (boolean | null)[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-parity-'));
  try {
    const { modelDir, adapterDir } = writeGoldenCase(c, dir);
    const model = await loadModel(modelDir, { backend });
    const lora = adapterDir ? loadAdapter(adapterDir, model) : undefined;
    const ids = tf.tensor2d(c.ids, [c.ids.length, c.ids[0]!.length], 'int32');
    try {
      for (const fast of fastSettings) {
        setFastOps(fast);
        const logits = model.forward(ids, { lora });
        const label = `${c.name} (${fastOpsActive() ? 'fast' : 'reference'} ops on ${tf.getBackend()})`;
        const diff = compare(logits.arraySync() as number[][][], c.logits, 1e-4, label);
        t.diagnostic(`${label}: max abs diff ${diff.toExponential(2)}`);
        logits.dispose();
      }
    } finally {
      setFastOps(null);
      ids.dispose();
      lora?.dispose();
      model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
