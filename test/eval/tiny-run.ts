// A tiny run folder for the evaluation tests.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, type Config } from '../../src/config/index.js';
import { makeConfig } from '../../src/model/config.js';
import { loadModel, writeRandomCheckpoint } from '../../src/model/load.js';
import { createLora, saveAdapter } from '../../src/model/lora.js';
import { buildPrunedVocab, loadTokenizer } from '../../src/model/tokenizer.js';
import { writeJsonl } from '../../src/util/jsonl.js';
import { Rng } from '../../src/util/rng.js';

export const TINY_ITEMS = [
  { id: 'a1', prompt: [{ role: 'user', content: 'What is 2 + 3?' }], family: 'arithmetic', ood: false, kind: 'trace', groundTruth: 5 },
  { id: 'c1', prompt: [{ role: 'user', content: 'Use 25, 5, 3, 7 to make 63.' }], family: 'countdown', ood: true, kind: 'trace', groundTruth: '3 * 25 - 7 - 5', countdown: { nums: [25, 5, 3, 7], target: 63 } },
  { id: 'i1', prompt: [{ role: 'user', content: 'Write hello in capitals.' }], family: 'instruction', ood: false, kind: 'instruction', check: { type: 'exact', value: 'HELLO', caseSensitive: true } },
];

export interface TinyRun {
  root: string;
  modelDir: string;
  runDir: string;
  config: Config;
}

/**
 * A run folder as the pipeline leaves it, around a tiny random model with a pruned vocabulary: data/eval.jsonl,
 * config.json, and PEFT adapters for sft-original, sft-cot, sft-unified (non-zero B, so it changes the
 * outputs) and dpo.
 */
export async function makeTinyRun(): Promise<TinyRun> {
  const root = mkdtempSync(join(tmpdir(), 'unitrace-evalrun-'));
  const modelDir = join(root, 'model');
  const runDir = join(root, 'runs', 'smoke');
  const texts = TINY_ITEMS.map((i) => i.prompt[0]!.content).concat('<cot><logic><code><answer> DEFINE GIVEN print = 63 HELLO');
  const map = buildPrunedVocab(texts, loadTokenizer());
  const shape = { vocabSize: map.length, hiddenSize: 32, numAttentionHeads: 4, numKeyValueHeads: 2, numHiddenLayers: 2, intermediateSize: 48 };
  writeRandomCheckpoint(modelDir, makeConfig(shape), new Rng(3), { std: 0.2 });
  writeFileSync(join(modelDir, 'vocab_map.json'), JSON.stringify(map));
  writeJsonl(join(runDir, 'data', 'eval.jsonl'), TINY_ITEMS);
  const config = resolveConfig({ preset: 'smoke', overrides: [`model.source=${modelDir}`, 'eval.maxNewTokens=6', 'eval.bootstrap=50', 'eval.judge=auto'] });
  writeFileSync(join(runDir, 'config.json'), JSON.stringify(config, null, 2));
  const model = await loadModel(modelDir);
  for (const [stage, seed] of [['sft-original', 1], ['sft-cot', 2], ['sft-unified', 3], ['dpo', 4]] as const) {
    const lora = createLora(model, config.sft.lora, new Rng(seed));
    if (stage === 'sft-unified') {
      const rng = new Rng(9);
      for (const { name, data } of lora.namedWeights()) if (name.includes('lora_B')) lora.setWeight(name, data.map(() => rng.normal() * 0.5));
    }
    saveAdapter(lora, join(runDir, stage, 'adapter'));
    lora.dispose();
  }
  model.dispose();
  return { root, modelDir, runDir, config };
}
