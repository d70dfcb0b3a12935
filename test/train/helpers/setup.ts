// A tiny model folder plus a config that trains it quickly, shared by the training tests.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, type Config, type DeepPartial } from '../../../src/config/index.js';
import { chatTexts, traceExamples, writeTinyModel, type Example } from './tiny.js';

export interface TinySetup {
  dir: string;
  modelDir: string;
  examples: Example[];
  config(overrides?: DeepPartial<Config>): Config;
}

export function tinySetup(n = 4, extraTexts: string[] = []): TinySetup {
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-train-'));
  const examples = traceExamples(n);
  const modelDir = join(dir, 'model');
  writeTinyModel(modelDir, [...chatTexts(examples), ...extraTexts]);
  const base: DeepPartial<Config> = {
    model: { source: modelDir },
    engine: { backend: 'wasm', workers: 1 },
    sft: { batchSize: 2, gradAccum: 1, lr: 1e-2, warmupRatio: 0.05, checkpointEvery: 1000 },
  };
  return { dir, modelDir, examples, config: (o = {}) => resolveConfig({ preset: 'smoke', overrides: [base, o] }) };
}
