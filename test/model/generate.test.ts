import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { generate, sampleToken } from '../../src/model/generate.js';
import { buildPrunedVocab, loadTokenizer, Tokenizer } from '../../src/model/tokenizer.js';
import { Rng } from '../../src/util/rng.js';
import { logitsOf, maxAbsDiff, tinyModel } from './helpers.js';

const base = loadTokenizer();
const tokenizer = new Tokenizer(base.base, base.config, buildPrunedVocab(['The answer is 42. Let us think step by step.'], base));

async function setup() {
  const model = await tinyModel({ vocabSize: tokenizer.vocabSize });
  return model;
}

const PROMPTS = ['The answer', [{ role: 'user' as const, content: 'Let us think step by step about 6*7.' }], [3, 4]];

test('left-padded rows give the same logits as each row alone', async () => {
  const model = await setup();
  const short = [7, 8, 9];
  const long = [1, 2, 3, 4, 5, 6];
  const pad = tokenizer.padId;
  const ids = [[pad, pad, pad, ...short], long];
  const keyMask = tf.tensor2d([[0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1]]);
  const positions = tf.tensor2d([[0, 0, 0, 0, 1, 2], [0, 1, 2, 3, 4, 5]], [2, 6], 'int32');
  const batched = logitsOf(model, ids, { keyMask, positions });
  const alone = logitsOf(model, [short]);
  const d = maxAbsDiff([batched[0]!.slice(3)], alone);
  assert.ok(d < 1e-5, `padded row differs by ${d}`);
  assert.ok(maxAbsDiff([batched[1]!], logitsOf(model, [long])) < 1e-5);
  tf.dispose([keyMask, positions]);
  model.dispose();
});

test('greedy decoding: the KV cache and batching do not change the tokens', async () => {
  const model = await setup();
  const opts = { maxNewTokens: 12, stopIds: [] };
  const cached = await generate(model, tokenizer, PROMPTS, opts);
  const uncached = await generate(model, tokenizer, PROMPTS, { ...opts, useCache: false });
  assert.deepEqual(cached.map((g) => g.ids), uncached.map((g) => g.ids));
  for (const [i, p] of PROMPTS.entries()) {
    const [alone] = await generate(model, tokenizer, [p], opts);
    assert.deepEqual(alone!.ids, cached[i]!.ids, `prompt ${i}`);
  }
  assert.ok(cached.every((g) => g.ids.length === 12 && g.finishReason === 'length'));
  assert.equal(cached[2]!.promptTokens, 2);
  // Not a constant model: different prompts continue differently.
  assert.notDeepEqual(cached[0]!.ids, cached[1]!.ids);
  model.dispose();
});

test('stop ids end a row early, without the stop token in the output', async () => {
  const model = await setup();
  const [free] = await generate(model, tokenizer, ['The answer'], { maxNewTokens: 8, stopIds: [] });
  const stopAt = free!.ids[3]!;
  const firstIndex = free!.ids.indexOf(stopAt);
  const [stopped] = await generate(model, tokenizer, ['The answer'], { maxNewTokens: 8, stopIds: [stopAt] });
  assert.equal(stopped!.finishReason, 'stop');
  assert.deepEqual(stopped!.ids, free!.ids.slice(0, firstIndex));
  assert.equal(stopped!.text, tokenizer.decode(stopped!.ids, { skipSpecialTokens: true }));
  model.dispose();
});

test('sampling is reproducible with a seed and varies across seeds', async () => {
  const model = await setup();
  const opts = { maxNewTokens: 10, temperature: 1.5, topP: 0.95, stopIds: [] };
  const a = await generate(model, tokenizer, PROMPTS, { ...opts, seed: 1 });
  const b = await generate(model, tokenizer, PROMPTS, { ...opts, seed: 1 });
  const c = await generate(model, tokenizer, PROMPTS, { ...opts, seed: 2 });
  assert.deepEqual(a.map((g) => g.ids), b.map((g) => g.ids));
  assert.notDeepEqual(a.map((g) => g.ids), c.map((g) => g.ids));
  model.dispose();
});

test('sampleToken: greedy, temperature and top-p follow the distribution', () => {
  const logits = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
  const rng = new Rng(4);
  assert.equal(sampleToken(logits, 0, 1, rng), 0);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 20000; i++) counts[sampleToken(logits, 1, 1, rng)]!++;
  [0.5, 0.3, 0.15, 0.05].forEach((p, i) => assert.ok(Math.abs(counts[i]! / 20000 - p) < 0.015, `token ${i}: ${counts[i]}`));
  // top-p 0.7 keeps {0, 1} (0.5 + 0.3 >= 0.7), renormalised to 5/8 and 3/8.
  const nucleus = [0, 0, 0, 0];
  for (let i = 0; i < 20000; i++) nucleus[sampleToken(logits, 1, 0.7, rng)]!++;
  assert.equal(nucleus[2]! + nucleus[3]!, 0);
  assert.ok(Math.abs(nucleus[0]! / 20000 - 0.625) < 0.015);
  assert.equal(sampleToken(logits, 1, 0.1, rng), 0);
});

test('prompts with ids outside the model vocabulary are refused', async () => {
  const model = await setup();
  await assert.rejects(generate(model, tokenizer, [[1, tokenizer.vocabSize + 5]]), /outside the model's vocabulary/);
  model.dispose();
});
