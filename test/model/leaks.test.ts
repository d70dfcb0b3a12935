import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { generate } from '../../src/model/generate.js';
import { createLora } from '../../src/model/lora.js';
import { KvCache } from '../../src/model/qwen2.js';
import { loadTokenizer, buildPrunedVocab, Tokenizer } from '../../src/model/tokenizer.js';
import { Rng } from '../../src/util/rng.js';
import { tinyModel } from './helpers.js';

test('creating and disposing a LoRA adapter leaves no tensor behind', async () => {
  const model = await tinyModel({ vocabSize: 16 });
  const before = tf.memory().numTensors;
  createLora(model, { r: 2, alpha: 4, dropout: 0, rslora: false, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] }, new Rng(2)).dispose();
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('no tensors leak across repeated forward, cached forward, gradient and generate calls', async () => {
  const base = loadTokenizer();
  const tokenizer = new Tokenizer(base.base, base.config, buildPrunedVocab(['abc'], base));
  const model = await tinyModel({ vocabSize: tokenizer.vocabSize });
  const lora = createLora(model, { r: 2, alpha: 4, dropout: 0.1, rslora: false, targetModules: ['q_proj', 'v_proj'] }, new Rng(1));
  const ids = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
  const round = async () => {
    tf.dispose(model.forward(ids, { lora }));
    tf.dispose(model.hidden(ids));
    const cache = new KvCache(model.config.numHiddenLayers);
    tf.dispose(model.forward(ids, { cache }));
    const next = tf.tensor2d([[5]], [1, 1], 'int32');
    tf.dispose([next, model.forward(next, { cache, lastOnly: true })]);
    cache.dispose();
    const { value, grads } = tf.variableGrads(() => tf.mean(model.forward(ids, { lora, training: true, seed: 3 })) as tf.Scalar, [...lora.weights.values()]);
    tf.dispose([value, ...Object.values(grads)]);
    await generate(model, tokenizer, ['ab', [{ role: 'user', content: 'c' }]], { maxNewTokens: 4, stopIds: [] });
    await generate(model, tokenizer, ['ab'], { maxNewTokens: 3, temperature: 1, topP: 0.9, useCache: false });
  };
  await round(); // first call may create lazily cached tensors
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await round();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose(ids);
  lora.dispose();
  model.dispose();
});
