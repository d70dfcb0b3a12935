import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Checkpoint, decodeToF32, encodeFromF32, writeCheckpoint, writeSafetensors, type NamedTensor } from '../../src/model/safetensors.js';
import { loadModel, writeRandomCheckpoint } from '../../src/model/load.js';
import { makeConfig } from '../../src/model/config.js';
import { Rng } from '../../src/util/rng.js';

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'unitrace-st-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const bits16 = (x: number[], dtype: 'F16' | 'BF16') => [...new Uint16Array(encodeFromF32(Float32Array.from(x), dtype).slice().buffer)];

test('bf16 and f16 encode with round-to-nearest-even and decode exactly', () => {
  assert.deepEqual(bits16([1, -2, 0.5, 65504, 2 ** -24, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1e6], 'F16'), [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x3c00, 0x3c02, 0x7c00]);
  // 1 + 2^-8 is halfway between two bf16 values: ties go to the even mantissa (1.0); 1 + 3*2^-8 rounds up.
  assert.deepEqual(bits16([1, -2, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.140625], 'BF16'), [0x3f80, 0xc000, 0x3f80, 0x3f82, 0x4049]);
  const values = Float32Array.from([0, 1, -1.5, 0.333984375, 1024, -65504, 2 ** -20]);
  for (const dtype of ['F16', 'BF16', 'F32', 'F64'] as const) {
    const back = decodeToF32(encodeFromF32(values, dtype), dtype);
    for (let i = 0; i < values.length; i++) assert.ok(Math.abs(back[i]! - values[i]!) <= Math.abs(values[i]!) * 2 ** -7 + 2 ** -24, `${dtype} ${values[i]} -> ${back[i]}`);
  }
});

test('single file round trip in every dtype, header readable by the format rules', withDir((dir) => {
  const rng = new Rng(3);
  const tensors: NamedTensor[] = [
    { name: 'a.weight', shape: [3, 5], data: Float32Array.from({ length: 15 }, () => rng.normal()) },
    { name: 'b.bias', shape: [7], data: Float32Array.from({ length: 7 }, () => rng.normal()) },
  ];
  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    const file = join(dir, `x-${dtype}.safetensors`);
    writeSafetensors(file, tensors, { dtype });
    const raw = readFileSync(file);
    const n = Number(raw.readBigUInt64LE(0));
    assert.equal((8 + n) % 8, 0);
    const header = JSON.parse(raw.subarray(8, 8 + n).toString());
    assert.deepEqual(header['a.weight'].shape, [3, 5]);
    assert.equal(header['b.bias'].dtype, dtype);
    const ckpt = Checkpoint.open(file);
    assert.equal(ckpt.mainDtype(), dtype);
    for (const t of tensors) {
      const back = ckpt.read(t.name, t.shape);
      const tol = dtype === 'F32' ? 0 : dtype === 'F16' ? 2 ** -10 : 2 ** -7;
      t.data.forEach((v, i) => assert.ok(Math.abs(back[i]! - v) <= Math.abs(v) * tol + 1e-7, `${dtype} ${t.name}[${i}]`));
    }
  }
}));

test('sharded checkpoints write an index and load back', withDir((dir) => {
  const tensors: NamedTensor[] = Array.from({ length: 5 }, (_, i) => ({ name: `t${i}`, shape: [10, 10], data: new Float32Array(100).fill(i) }));
  const files = writeCheckpoint(dir, tensors, { dtype: 'F32', maxShardBytes: 900 });
  assert.equal(files.length, 3);
  assert.ok(existsSync(join(dir, 'model-00001-of-00003.safetensors')));
  const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
  assert.equal(index.weight_map.t4, 'model-00003-of-00003.safetensors');
  assert.equal(index.metadata.total_size, 2000);
  const ckpt = Checkpoint.open(dir);
  assert.equal(ckpt.tensors.size, 5);
  assert.equal(ckpt.read('t3')[99], 3);
}));

test('corrupt, truncated and ill-typed files give errors naming the tensor and file', withDir((dir) => {
  const file = join(dir, 'model.safetensors');
  writeSafetensors(file, [{ name: 'w', shape: [4, 4], data: new Float32Array(16) }, { name: 'last.weight', shape: [64], data: new Float32Array(64) }]);
  const good = readFileSync(file);
  truncateSync(file, good.length - 10);
  assert.throws(() => Checkpoint.open(file), (e: Error) => /last\.weight/.test(e.message) && e.message.includes(file) && /truncated/.test(e.message));

  const n = Number(good.readBigUInt64LE(0));
  const header = good.subarray(8, 8 + n).toString().replace('"F32"', '"I8" ');
  writeFileSync(file, Buffer.concat([good.subarray(0, 8), Buffer.from(header), good.subarray(8 + n)]));
  assert.throws(() => Checkpoint.open(file), (e: Error) => /tensor w in/.test(e.message) && e.message.includes(file) && /dtype "I8"/.test(e.message));

  writeFileSync(file, Buffer.concat([good.subarray(0, 8), Buffer.from('{"w": {"dtype":'), good.subarray(8 + 15)]));
  assert.throws(() => Checkpoint.open(file), (e: Error) => e.message.includes(file) && /not valid JSON/.test(e.message));

  writeFileSync(file, Buffer.from([1, 2, 3]));
  assert.throws(() => Checkpoint.open(file), /too short/);

  writeFileSync(file, good);
  assert.throws(() => Checkpoint.open(file).read('w', [16]), (e: Error) => /tensor w in/.test(e.message) && /expected \[16\]/.test(e.message));
}));

test('a model folder with a wrong-shaped or missing tensor is refused by name', withDir(async (dir) => {
  const config = makeConfig({ vocabSize: 32, hiddenSize: 16, numAttentionHeads: 2, numHiddenLayers: 1, intermediateSize: 24 });
  writeRandomCheckpoint(dir, config, new Rng(1), { dtype: 'BF16' });
  const ckpt = Checkpoint.open(dir);
  const tensors = [...ckpt.tensors.keys()].map((name) => ({ name, shape: ckpt.info(name).shape, data: ckpt.read(name) }));
  const bad = tensors.map((t) => (t.name === 'model.layers.0.mlp.up_proj.weight' ? { ...t, shape: [16, 24] } : t));
  writeSafetensors(join(dir, 'model.safetensors'), bad, { dtype: 'BF16' });
  await assert.rejects(loadModel(dir), (e: Error) => /model\.layers\.0\.mlp\.up_proj\.weight/.test(e.message) && /model\.safetensors/.test(e.message) && /expected \[24,16\]/.test(e.message));
  writeSafetensors(join(dir, 'model.safetensors'), tensors.filter((t) => t.name !== 'model.norm.weight'), { dtype: 'BF16' });
  await assert.rejects(loadModel(dir), /model\.norm\.weight not found/);
}));
