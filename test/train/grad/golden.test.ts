// Loss and every LoRA gradient of one SFT and one DPO micro-batch, and ten AdamW steps of SFT losses,
// against PyTorch + transformers + PEFT in float64 (scripts/golden_grads.py, the llm.c check): through the
// real training path (LocalGradComputer, objectives, AdamW, clipping) on wasm with the fast and the
// reference ops, and on cpu; each within 1e-4 of the reference, relative to the tensor's largest value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendPreference } from '../../../src/engine/backend.js';
import { setFastOps } from '../../../src/engine/ops.js';
import { parseConfig, weightShapes } from '../../../src/model/config.js';
import { peftKey, moduleWeightName, type LoraModule } from '../../../src/model/lora.js';
import { writeCheckpoint } from '../../../src/model/safetensors.js';
import { LocalGradComputer } from '../../../src/train/grad/local.js';
import { AdamW, clipGradNorm } from '../../../src/train/optimizer.js';
import type { DpoBatch, SftBatch } from '../../../src/train/types.js';
import { goldenValues } from '../../model/golden-weights.js';

interface GoldenBatch {
  inputIds: number[];
  labels: number[];
  weights: number[];
  rowLengths: number[];
  batch: number;
  seqLen: number;
  pairs?: number;
  refChosen?: number[];
  refRejected?: number[];
}
interface Golden {
  seed: number;
  config: Record<string, unknown>;
  lora: { r: number; alpha: number; rslora: boolean; targetModules: LoraModule[] };
  adam: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; maxGradNorm: number; steps: number };
  sft: { batch: GoldenBatch; loss: number; grads: Record<string, number[]>; adamLosses: number[] };
  dpo: { beta: number; batch: GoldenBatch; loss: number; grads: Record<string, number[]> };
}

const golden = JSON.parse(readFileSync(new URL('../../fixtures/train/golden-grads.json', import.meta.url), 'utf8')) as Golden;
const REL = 1e-4;

/** |actual - expected| <= rel * max|expected| elementwise; returns the worst ratio to that bound. */
function closeRelative(actual: ArrayLike<number>, expected: readonly number[], label: string): number {
  assert.equal(actual.length, expected.length, `${label}: ${actual.length} values, expected ${expected.length}`);
  const scale = Math.max(...expected.map(Math.abs), 1e-12);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!) / scale;
    assert.ok(d <= REL, `${label}[${i}]: ${actual[i]} vs ${expected[i]} (relative ${d.toExponential(2)} of max ${scale.toExponential(2)})`);
    worst = Math.max(worst, d);
  }
  return worst;
}

const tokenBatch = (b: GoldenBatch, seed: number) => ({
  inputIds: Int32Array.from(b.inputIds),
  labels: Int32Array.from(b.labels),
  weights: Float32Array.from(b.weights),
  rowLengths: Int32Array.from(b.rowLengths),
  batch: b.batch,
  seqLen: b.seqLen,
  tokens: b.rowLengths.reduce((a, n) => a + n, 0),
  seed,
});
const sftBatch: SftBatch = { kind: 'sft', ...tokenBatch(golden.sft.batch, 0) };
const dpoBatch: DpoBatch = { kind: 'dpo', ...tokenBatch(golden.dpo.batch, 0), pairs: golden.dpo.batch.pairs!, refChosen: Float32Array.from(golden.dpo.batch.refChosen!), refRejected: Float32Array.from(golden.dpo.batch.refRejected!) };

/** The golden model folder (F32) and the initial LoRA values by PEFT key, from the shared weight rule. */
function writeModel(dir: string): Map<string, Float32Array> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(golden.config));
  const config = parseConfig(golden.config);
  const shapes = weightShapes(config);
  writeCheckpoint(dir, [...shapes].map(([name, shape]) => ({ name, shape, data: goldenValues(name, shape, golden.seed) })), { dtype: 'F32' });
  const init = new Map<string, Float32Array>();
  for (let layer = 0; layer < config.numHiddenLayers; layer++)
    for (const m of golden.lora.targetModules) {
      const [out, inp] = shapes.get(moduleWeightName(layer, m))! as [number, number];
      init.set(peftKey(layer, m, 'A'), goldenValues(peftKey(layer, m, 'A'), [golden.lora.r, inp], golden.seed));
      init.set(peftKey(layer, m, 'B'), goldenValues(peftKey(layer, m, 'B'), [out, golden.lora.r], golden.seed));
    }
  return init;
}

const RUNS: { backend: BackendPreference; fast: boolean | null; label: string }[] = [
  { backend: 'wasm', fast: true, label: 'wasm, fast ops' },
  { backend: 'wasm', fast: false, label: 'wasm, reference ops' },
  { backend: 'cpu', fast: null, label: 'cpu' },
];

for (const run of RUNS) {
  test(`SFT and DPO loss and every LoRA gradient, and ten AdamW steps, match PyTorch within 1e-4 (${run.label})`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'unitrace-golden-grads-'));
    setFastOps(run.fast);
    try {
      const init = writeModel(join(dir, 'model'));
      assert.deepEqual([...init.keys()].sort(), Object.keys(golden.sft.grads).sort(), 'trainable names match PEFT');
      const spec = (objective: 'sft' | 'dpo') => ({
        modelSource: join(dir, 'model'),
        adapter: { config: { ...golden.lora, dropout: 0 }, names: [...init.keys()] },
        mode: 'lora' as const,
        objective,
        objectiveOptions: objective === 'dpo' ? { beta: golden.dpo.beta, loss: 'sigmoid' as const } : {},
        workers: 1,
        backend: run.backend,
      });

      const sft = await LocalGradComputer.create(spec('sft'));
      try {
        await sft.setTrainable(init);
        const r = await sft.compute(sftBatch);
        closeRelative([r.loss], [golden.sft.loss], 'sft loss');
        let worst = 0;
        for (const [name, g] of Object.entries(golden.sft.grads)) worst = Math.max(worst, closeRelative(r.grads.get(name)!, g, `sft grad ${name}`));
        t.diagnostic(`sft: loss ${r.loss.toFixed(6)} (torch ${golden.sft.loss.toFixed(6)}); worst gradient ${worst.toExponential(2)} of its tensor's max`);

        const a = golden.adam;
        const params = new Map([...init].map(([k, v]) => [k, Float32Array.from(v)]));
        const adam = new AdamW(params, { beta1: a.beta1, beta2: a.beta2, eps: a.eps, weightDecay: a.weightDecay });
        const losses: number[] = [];
        for (let step = 0; step < a.steps; step++) {
          await sft.setTrainable(params);
          const out = await sft.compute(sftBatch);
          losses.push(out.loss);
          clipGradNorm(out.grads, a.maxGradNorm);
          adam.apply(params, out.grads, a.lr);
        }
        closeRelative(losses, golden.sft.adamLosses, 'AdamW losses');
        t.diagnostic(`AdamW: ${losses.map((l) => l.toFixed(4)).join(' ')}`);
      } finally {
        await sft.dispose();
      }

      const dpo = await LocalGradComputer.create(spec('dpo'));
      try {
        await dpo.setTrainable(init);
        const r = await dpo.compute(dpoBatch);
        closeRelative([r.loss], [golden.dpo.loss], 'dpo loss');
        let worst = 0;
        for (const [name, g] of Object.entries(golden.dpo.grads)) worst = Math.max(worst, closeRelative(r.grads.get(name)!, g, `dpo grad ${name}`));
        t.diagnostic(`dpo: loss ${r.loss.toFixed(6)} (torch ${golden.dpo.loss.toFixed(6)}); worst gradient ${worst.toExponential(2)} of its tensor's max`);
      } finally {
        await dpo.dispose();
      }
    } finally {
      setFastOps(null);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
