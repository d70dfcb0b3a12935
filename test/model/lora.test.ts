import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createLora, loadAdapter, loraScaling, mergeAdapter, saveAdapter, LORA_MODULES, type LoraConfig } from '../../src/model/lora.js';
import { Checkpoint } from '../../src/model/safetensors.js';
import { Rng } from '../../src/util/rng.js';
import { logitsOf, maxAbsDiff, tinyModel } from './helpers.js';

const IDS = [[5, 17, 250, 3, 99, 42]];
const cfg: LoraConfig = { r: 4, alpha: 8, dropout: 0, rslora: false, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] };

/** Gives B random values so the adapter changes the output. */
function perturb(adapter: ReturnType<typeof createLora>, seed: number): void {
  const rng = new Rng(seed);
  for (const name of adapter.names()) if (name.includes('lora_B')) adapter.setWeight(name, Float32Array.from({ length: adapter.weights.get(name)!.size }, () => rng.normal() * 0.1));
}

test('PEFT init: names, shapes, A ~ U(+-1/sqrt(in)), B = 0 so the output is unchanged', async () => {
  const model = await tinyModel();
  const adapter = createLora(model, cfg, new Rng(7));
  assert.equal(adapter.names().length, 2 * 4 * 2);
  assert.ok(adapter.names().includes('base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight'));
  assert.deepEqual(adapter.weights.get('base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight')!.shape, [4, 32]);
  assert.deepEqual(adapter.weights.get('base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight')!.shape, [16, 4]);
  const a = adapter.weights.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')!.dataSync() as Float32Array;
  const bound = 1 / Math.sqrt(32);
  assert.ok(a.every((v) => Math.abs(v) <= bound));
  const variance = a.reduce((s, v) => s + v * v, 0) / a.length;
  assert.ok(Math.abs(variance - bound ** 2 / 3) < 0.3 * bound ** 2 / 3, `variance ${variance}`);
  assert.ok(adapter.weights.get('base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight')!.dataSync().every((v) => v === 0));
  assert.equal(maxAbsDiff(logitsOf(model, IDS, { lora: adapter }), logitsOf(model, IDS)), 0);
  assert.equal(loraScaling(cfg), 2);
  assert.equal(loraScaling({ ...cfg, rslora: true }), 4);
  const all = createLora(model, { ...cfg, targetModules: [...LORA_MODULES] }, new Rng(7));
  assert.equal(all.names().length, 2 * 7 * 2);
  assert.deepEqual(all.weights.get('base_model.model.model.layers.0.mlp.down_proj.lora_A.weight')!.shape, [4, 48]);
  assert.throws(() => createLora(model, { ...cfg, targetModules: ['qproj'] as unknown as LoraConfig['targetModules'] }, new Rng(1)), /unknown target module qproj/);
  adapter.dispose();
  all.dispose();
  model.dispose();
});

test('adapter folders round-trip in PEFT format and merging gives the same logits', async () => {
  const model = await tinyModel();
  const adapter = createLora(model, { ...cfg, rslora: true, targetModules: [...LORA_MODULES] }, new Rng(7));
  perturb(adapter, 9);
  const withAdapter = logitsOf(model, IDS, { lora: adapter });
  assert.ok(maxAbsDiff(withAdapter, logitsOf(model, IDS)) > 1e-3, 'the adapter must change the output');
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-lora-'));
  try {
    saveAdapter(adapter, dir, { baseModelName: 'Qwen/Qwen2.5-0.5B' });
    const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    assert.equal(config.peft_type, 'LORA');
    assert.equal(config.task_type, 'CAUSAL_LM');
    assert.equal(config.r, 4);
    assert.equal(config.lora_alpha, 8);
    assert.equal(config.use_rslora, true);
    assert.equal(config.bias, 'none');
    assert.equal(config.base_model_name_or_path, 'Qwen/Qwen2.5-0.5B');
    assert.deepEqual(config.target_modules, [...LORA_MODULES]);
    const keys = [...Checkpoint.open(join(dir, 'adapter_model.safetensors')).tensors.keys()];
    assert.ok(keys.includes('base_model.model.model.layers.1.mlp.gate_proj.lora_B.weight'));
    const loaded = loadAdapter(dir, model);
    assert.deepEqual(loaded.config, adapter.config);
    assert.equal(loaded.scaling, adapter.scaling);
    for (const name of adapter.names()) assert.deepEqual(loaded.weights.get(name)!.dataSync(), adapter.weights.get(name)!.dataSync());
    assert.equal(maxAbsDiff(logitsOf(model, IDS, { lora: loaded }), withAdapter), 0);
    mergeAdapter(model, loaded);
    const merged = maxAbsDiff(logitsOf(model, IDS), withAdapter);
    assert.ok(merged < 1e-5, `merged differs by ${merged}`);
    loaded.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  adapter.dispose();
  model.dispose();
});

test('gradients reach only the LoRA parameters; dropout is seeded and only active in training', async () => {
  const model = await tinyModel();
  const adapter = createLora(model, { ...cfg, dropout: 0.5 }, new Rng(7));
  perturb(adapter, 3);
  const ids = tf.tensor2d(IDS, [1, 6], 'int32');
  const loss = (training: boolean, seed: number) => () => tf.mean(tf.square(model.forward(ids, { lora: adapter, training, seed }))) as tf.Scalar;
  const { value, grads } = tf.variableGrads(loss(true, 1), [...adapter.weights.values()]);
  assert.equal(Object.keys(grads).length, adapter.names().length);
  for (const g of Object.values(grads)) assert.ok(g.abs().max().dataSync()[0]! > 0);
  const again = tf.tidy(() => loss(true, 1)().dataSync()[0]!);
  const other = tf.tidy(() => loss(true, 2)().dataSync()[0]!);
  const evalA = tf.tidy(() => loss(false, 1)().dataSync()[0]!);
  const evalB = tf.tidy(() => loss(false, 2)().dataSync()[0]!);
  assert.equal(again, value.dataSync()[0]);
  assert.notEqual(other, again);
  assert.equal(evalA, evalB);
  tf.dispose([value, ids, ...Object.values(grads)]);
  // Base weights stay frozen: they are not trainable variables.
  assert.ok([...model.weights.values()].every((v) => !v.trainable));
  adapter.dispose();
  model.dispose();
});

test('loadAdapter refuses adapters that do not fit the model', async () => {
  const model = await tinyModel();
  const other = await tinyModel({ hiddenSize: 16, numAttentionHeads: 2, numKeyValueHeads: 1 });
  const adapter = createLora(other, cfg, new Rng(1));
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-lora-'));
  try {
    saveAdapter(adapter, dir);
    assert.throws(() => loadAdapter(dir, model), /q_proj\.lora_A\.weight.*expected \[4,32\]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  adapter.dispose();
  model.dispose();
  other.dispose();
});
