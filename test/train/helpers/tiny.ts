// A tiny random-init Qwen2 folder with a vocabulary pruned to a handful of texts, and a few strict traces
// to train on: small enough to learn in seconds with a high learning rate.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeConfig } from '../../../src/model/config.js';
import { writeRandomCheckpoint } from '../../../src/model/load.js';
import { buildPrunedVocab, loadTokenizer, QWEN25_DEFAULT_SYSTEM } from '../../../src/model/tokenizer.js';
import { renderTrace } from '../../../src/trace/render.js';
import type { Message } from '../../../src/train/types.js';
import { Rng } from '../../../src/util/rng.js';

export interface Example {
  id: string;
  messages: Message[];
}

/** Short strict traces: "What is a + b?" answered through cot, logic, code and answer. */
export function traceExamples(n: number): Example[] {
  return Array.from({ length: n }, (_, i) => {
    const a = 2 + i;
    const b = 5 + 2 * i;
    const trace = renderTrace({
      cot: `Add ${a} and ${b}.`,
      logic: `GIVEN a = ${a}\nGIVEN b = ${b}\nREQUIRE s = a + b`,
      code: `print(${a} + ${b})`,
      answer: String(a + b),
    });
    return { id: `add-${i}`, messages: [{ role: 'user', content: `What is ${a} + ${b}?` }, { role: 'assistant', content: trace }] };
  });
}

/** Writes config.json, model.safetensors and vocab_map.json (pruned to `texts`) into dir. */
export function writeTinyModel(dir: string, texts: string[], opts: { hidden?: number; layers?: number; seed?: number } = {}): void {
  const vocab = buildPrunedVocab(texts, loadTokenizer());
  const hidden = opts.hidden ?? 64;
  const config = makeConfig({ vocabSize: vocab.length, hiddenSize: hidden, numHiddenLayers: opts.layers ?? 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: hidden * 2 });
  writeRandomCheckpoint(dir, config, new Rng(opts.seed ?? 7));
  writeFileSync(join(dir, 'vocab_map.json'), JSON.stringify(vocab));
}

export const chatTexts = (examples: readonly Example[]): string[] => [
  `<|im_start|>system\n${QWEN25_DEFAULT_SYSTEM}<|im_end|>\n`, // the template's default system turn
  ...examples.flatMap((e) => e.messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`)),
];
