// createGradComputer: in-process gradients match finite differences of the loss, and two worker threads
// give the one-worker loss and gradients (rows split, shards weighted by their weight sums).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGradComputer, shardRows } from '../../../src/train/grad/parallel.js';
import { makeConfig } from '../../../src/model/config.js';
import { writeRandomCheckpoint } from '../../../src/model/load.js';
import type { SftBatch, DpoBatch } from '../../../src/train/types.js';
import { Rng } from '../../../src/util/rng.js';
import type { LoraConfig } from '../../../src/config/schema.js';
import { compare } from '../../helpers/compare.js';

const config = makeConfig({ vocabSize: 48, hiddenSize: 32, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 64, numHiddenLayers: 2 });
const lora: LoraConfig = { r: 4, alpha: 8, dropout: 0, rslora: false, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] };

function sftBatch(rows: number, seqLen: number, seed: number): SftBatch {
  const rng = new Rng(seed);
  const n = rows * seqLen;
  const inputIds = Int32Array.from({ length: n }, () => Math.floor(rng.next() * 48));
  const labels = Int32Array.from({ length: n }, () => Math.floor(rng.next() * 48));
  // Uneven weights per row, so a plain mean of shard losses would differ from the weighted one.
  const weights = Float32Array.from({ length: n }, (_, i) => (Math.floor(i / seqLen) % 3 === 0 ? (i % seqLen) >= 2 ? 1 : 0 : 1));
  const rowLengths = new Int32Array(rows).fill(seqLen);
  return { kind: 'sft', inputIds, labels, weights, rowLengths, batch: rows, seqLen, tokens: n, seed };
}

function loraValues(names: string[], seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const name of names) {
    const isA = name.includes('lora_A');
    const proj = name.match(/(q|k|v|o)_proj/)![1]!;
    const outDim = proj === 'k' || proj === 'v' ? 16 : 32;
    const size = isA ? lora.r * 32 : outDim * lora.r;
    out.set(name, Float32Array.from({ length: size }, () => (rng.next() - 0.5) * 0.4));
  }
  return out;
}

function loraNames(): string[] {
  const names: string[] = [];
  for (let l = 0; l < config.numHiddenLayers; l++)
    for (const m of ['q_proj', 'k_proj', 'v_proj', 'o_proj'])
      for (const w of ['A', 'B']) names.push(`base_model.model.model.layers.${l}.self_attn.${m}.lora_${w}.weight`);
  return names;
}

test('shardRows splits rows evenly and keeps DPO pairs together', () => {
  const b = sftBatch(5, 2, 1);
  assert.deepEqual(shardRows(b, 2), [[0, 2], [2, 5]]);
  assert.deepEqual(shardRows(b, 8).length, 5);
  const d = { ...b, kind: 'dpo', batch: 6, pairs: 3 } as unknown as DpoBatch;
  assert.deepEqual(shardRows(d, 2), [[0, 2], [2, 6]]);
});

test('gradients: in-process matches finite differences, 2 workers match 1 worker (SFT and DPO, LoRA)', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-engine-'));
  try {
    writeRandomCheckpoint(dir, config, new Rng(3), { std: 0.2 });
    const names = loraNames();
    const spec = { modelSource: dir, adapter: { config: lora, names }, mode: 'lora' as const, objective: 'sft' as const, objectiveOptions: {}, backend: 'wasm' as const };
    const values = loraValues(names, 4);
    const batch = sftBatch(5, 6, 7);

    const one = await createGradComputer({ ...spec, workers: 1 });
    await one.setTrainable(values);
    const r1 = await one.compute(batch);
    assert.ok(Number.isFinite(r1.loss) && r1.loss > 0);
    // Central difference on a few coordinates of one B and one A matrix.
    for (const name of [names[1]!, names[4]!]) {
      for (const idx of [0, 5]) {
        const eps = 1e-2;
        const bumped = (delta: number) => new Map([...values].map(([k, v]) => [k, k === name ? v.map((x, i) => (i === idx ? x + delta : x)) : v]));
        await one.setTrainable(bumped(eps));
        const up = (await one.compute(batch)).loss;
        await one.setTrainable(bumped(-eps));
        const down = (await one.compute(batch)).loss;
        compare([r1.grads.get(name)![idx]!], [(up - down) / (2 * eps)], 2e-3, `${name}[${idx}]`);
      }
    }
    await one.dispose();

    const two = await createGradComputer({ ...spec, workers: 2 });
    assert.equal(two.workers, 2);
    await two.setTrainable(values);
    const r2 = await two.compute(batch);
    await two.dispose();
    compare([r2.loss], [r1.loss], 1e-5, 'loss');
    compare([r2.metrics.mean_token_accuracy!], [r1.metrics.mean_token_accuracy!], 1e-6, 'accuracy');
    assert.equal(r2.tokens, r1.tokens);
    for (const name of names) compare(r2.grads.get(name)!, r1.grads.get(name)!, 1e-5, name);

    // DPO: shards are whole pairs, weighted by their pair counts (3 pairs split 1 + 2).
    const base = sftBatch(6, 6, 9);
    const dpo: DpoBatch = { ...base, kind: 'dpo', pairs: 3, refChosen: Float32Array.from([-40, -38, -41]), refRejected: Float32Array.from([-39, -42, -40]) };
    const dspec = { ...spec, objective: 'dpo' as const, objectiveOptions: { beta: 0.5 } };
    const d1 = await createGradComputer({ ...dspec, workers: 1 });
    await d1.setTrainable(values);
    const q1 = await d1.compute(dpo);
    await d1.dispose();
    const d2 = await createGradComputer({ ...dspec, workers: 2 });
    await d2.setTrainable(values);
    const q2 = await d2.compute(dpo);
    await d2.dispose();
    compare([q2.loss], [q1.loss], 1e-5, 'dpo loss');
    compare([q2.metrics['rewards/margins']!], [q1.metrics['rewards/margins']!], 1e-4, 'dpo margins');
    for (const name of names) compare(q2.grads.get(name)!, q1.grads.get(name)!, 1e-5, `dpo ${name}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
