// What SFT and DPO share: the model and tokenizer on the main thread, the trainable values as
// Float32Arrays (LoRA matrices, or every weight for full fine-tuning), the engine's gradient computer,
// and writing the result (a PEFT adapter, or a whole model folder).
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LoraConfig } from '../config/index.js';
import { saveModel } from '../model/load.js';
import { createLora, saveAdapter, type LoraAdapter } from '../model/lora.js';
import type { Qwen2Model } from '../model/qwen2.js';
import { Rng } from '../util/rng.js';
import { createGradComputer } from './grad/parallel.js';
import type { GradComputer, GradComputerSpec } from './grad/types.js';
import type { LoopOptions } from './loop.js';
import type { ParamMap } from './optimizer.js';

/** createGradComputer's argument (docs/ARCHITECTURE.md, "Gradients and data parallelism"). */
export type ComputerSpec = GradComputerSpec;

export type ComputerFactory = (spec: ComputerSpec) => Promise<GradComputer>;

/** The gradient computer: in-process with workers 1, data-parallel threads otherwise. */
export const engineComputer: ComputerFactory = (spec) => createGradComputer(spec);

/** Tokenizer and template files copied next to saved weights so the folder is a usable model. */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'vocab_map.json', 'generation_config.json'];

export function copyTokenizerFiles(fromDir: string, toDir: string): void {
  for (const f of TOKENIZER_FILES) if (existsSync(join(fromDir, f))) copyFileSync(join(fromDir, f), join(toDir, f));
}

export interface Trainable {
  mode: 'lora' | 'full';
  params: ParamMap;
  adapter: LoraAdapter | null;
  /** Writes a PEFT adapter (LoRA) or a model folder (full) holding these values. */
  exportParams(dir: string, params: ParamMap): void;
  exportName: 'adapter' | 'model';
  decays(name: string): boolean;
}

/** Initial trainable values: a fresh LoRA (PEFT init from the run seed) or a copy of every weight. */
export function makeTrainable(model: Qwen2Model, modelDir: string, mode: 'lora' | 'full', lora: LoraConfig, seed: number, baseModelName: string): Trainable {
  if (mode === 'lora') {
    const adapter = createLora(model, lora, new Rng(seed).fork('lora-init'), baseModelName);
    const params: ParamMap = new Map(adapter.namedWeights().map((w) => [w.name, Float32Array.from(w.data)]));
    return {
      mode,
      params,
      adapter,
      exportName: 'adapter',
      decays: () => true,
      exportParams(dir, values) {
        for (const [name, data] of values) adapter.setWeight(name, data);
        saveAdapter(adapter, dir, { baseModelName });
      },
    };
  }
  const params: ParamMap = new Map([...model.weights].map(([name, v]) => [name, Float32Array.from(v.dataSync() as Float32Array)]));
  return {
    mode,
    params,
    adapter: null,
    exportName: 'model',
    // By convention biases and norm scales do not decay.
    decays: (name) => !name.endsWith('.bias') && !name.endsWith('norm.weight'),
    exportParams(dir, values) {
      for (const [name, data] of values) {
        const v = model.weights.get(name)!;
        tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
      }
      saveModel(model, dir);
      copyTokenizerFiles(modelDir, dir);
    },
  };
}

/** The trainLoop arguments that come from the trainable parameters and the run options, shared by SFT and DPO. */
export function loopBindings(
  trainable: Trainable,
  opts: { resume?: boolean; onStep?: LoopOptions['onStep']; maxSteps?: number; signal?: AbortSignal },
): Pick<LoopOptions, 'params' | 'decays' | 'exportParams' | 'exportName' | 'resume' | 'onStep' | 'maxStepsThisProcess' | 'signal'> {
  return {
    params: trainable.params,
    decays: trainable.decays,
    exportParams: trainable.exportParams,
    exportName: trainable.exportName,
    resume: opts.resume ?? false,
    onStep: opts.onStep,
    maxStepsThisProcess: opts.maxSteps,
    signal: opts.signal,
  };
}
