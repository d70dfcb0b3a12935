// Tensor counts must not grow across training steps (gradients, optimizer push, metrics) or forward
// passes: a leak of a few tensors per step would exhaust memory over a long run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createGradComputer } from '../../../src/train/grad/parallel.js';
import { makeConfig } from '../../../src/model/config.js';
import { randomModel, writeRandomCheckpoint } from '../../../src/model/load.js';
import { Rng } from '../../../src/util/rng.js';
import type { SftBatch } from '../../../src/train/types.js';

const config = makeConfig({ vocabSize: 40, hiddenSize: 16, numAttentionHeads: 2, numKeyValueHeads: 1, intermediateSize: 32, numHiddenLayers: 2 });

function batch(seed: number): SftBatch {
  const n = 3 * 5;
  const inputIds = Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % 40);
  return { kind: 'sft', inputIds, labels: inputIds.map((x) => (x + 1) % 40), weights: new Float32Array(n).fill(1), rowLengths: new Int32Array(3).fill(5), batch: 3, seqLen: 5, tokens: n, seed };
}

for (const backend of ['wasm', 'cpu'] as const)
  test(`tensor and byte counts stay flat across training steps and forward passes (${backend})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'unitrace-mem-'));
    try {
      writeRandomCheckpoint(dir, config, new Rng(1));
      for (const mode of ['lora', 'full'] as const) {
        const names: string[] = [];
        const values = new Map<string, Float32Array>();
        if (mode === 'lora') {
          for (let l = 0; l < 2; l++)
            for (const m of ['q_proj', 'v_proj'])
              for (const [w, size] of [['A', 4 * 16], ['B', (m === 'q_proj' ? 16 : 8) * 4]] as const) {
                const name = `base_model.model.model.layers.${l}.self_attn.${m}.lora_${w}.weight`;
                names.push(name);
                values.set(name, new Float32Array(size).fill(0.05));
              }
        }
        const computer = await createGradComputer({
          modelSource: dir,
          adapter: mode === 'lora' ? { config: { r: 4, alpha: 8, dropout: 0, rslora: false, targetModules: ['q_proj', 'v_proj'] }, names } : undefined,
          mode,
          objective: 'sft',
          objectiveOptions: {},
          workers: 1,
          backend,
        });
        const counts: number[] = [];
        const bytes: number[] = [];
        for (let step = 0; step < 4; step++) {
          const r = await computer.compute(batch(step));
          if (mode === 'lora') {
            for (const [name, v] of values) values.set(name, v.map((x, i) => x - 0.1 * r.grads.get(name)![i]!));
            await computer.setTrainable(values);
          }
          counts.push(tf.memory().numTensors);
          bytes.push(tf.memory().numBytes);
        }
        await computer.dispose();
        // The first step may create lasting caches (transposed frozen weights); later steps add nothing.
        assert.deepEqual(counts.slice(1), [counts[1], counts[1], counts[1]], `${mode}: tensors per step ${counts.join(', ')}`);
        assert.deepEqual(bytes.slice(1), [bytes[1], bytes[1], bytes[1]], `${mode}: bytes per step ${bytes.join(', ')}`);
      }
      const model = randomModel(config, new Rng(2));
      const ids = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
      const before: number[] = [];
      for (let i = 0; i < 3; i++) {
        model.forward(ids).dispose();
        before.push(tf.memory().numTensors);
      }
      assert.equal(before[2], before[1], `forward: tensors ${before.join(', ')}`);
      ids.dispose();
      model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
