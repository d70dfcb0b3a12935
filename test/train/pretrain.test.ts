import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadModel } from '../../src/model/load.js';
import { loadTokenizer } from '../../src/model/tokenizer.js';
import { RunFolder } from '../../src/train/runfolder.js';
import { runSft } from '../../src/train/sft.js';
import { tinySetup } from './helpers/setup.js';

test('full-parameter training from random init on plain text rows (how the embedded model is made)', async () => {
  const setup = tinySetup(4);
  const corpus = setup.examples.map((e) => ({ text: `${e.messages[0]!.content}\n${e.messages[1]!.content}` }));
  const config = setup.config({ sft: { mode: 'full', epochs: 15, weightDecay: 0.01, maxPromptTokens: 32, maxResponseTokens: 256 } });
  const out = join(setup.dir, 'pretrain');
  const r = await runSft(config, { data: corpus, out });
  const rows = new RunFolder(out).readMetrics();
  assert.ok(rows[rows.length - 1]!.loss < rows[0]!.loss / 2, `loss ${rows[0]!.loss} -> ${rows[rows.length - 1]!.loss}`);
  assert.equal(r.truncation.responseTruncated, 0);
  // The result is a complete model folder: weights, config and the pruned vocabulary's map.
  for (const f of ['config.json', 'model.safetensors', 'vocab_map.json']) assert.ok(existsSync(join(r.result, f)), f);
  const model = await loadModel(r.result);
  assert.equal(model.config.vocabSize, loadTokenizer(r.result).vocabSize);
  model.dispose();
});
