// Per-kernel profile of one in-process training step (random-init model, random tokens), to find where
// time goes. Usage: npx tsx bench/profile_step.ts [bench/tiny.json] [batch] [seq] [lora|full] [loraDropout, 0.1]
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { LocalGradComputer } from '../src/train/grad/local.js';
import { parseConfig, weightShapes } from '../src/model/config.js';
import { writeRandomCheckpoint } from '../src/model/load.js';
import { peftKey, moduleWeightName } from '../src/model/lora.js';
import { Rng } from '../src/util/rng.js';

const [file = 'bench/tiny.json', batchArg = '8', seqArg = '256', mode = 'lora', dropoutArg = '0.1'] = process.argv.slice(2);
const config = parseConfig(JSON.parse(readFileSync(file, 'utf8')));
const batch = Number(batchArg);
const seq = Number(seqArg);
const dir = mkdtempSync(join(tmpdir(), 'unitrace-prof-'));
writeRandomCheckpoint(dir, config, new Rng(1));
const targets = ['q_proj', 'k_proj', 'v_proj', 'o_proj'] as const;
const params = new Map<string, Float32Array>();
const shapes = weightShapes(config);
for (let l = 0; l < config.numHiddenLayers; l++)
  for (const m of targets) {
    const [out, inp] = shapes.get(moduleWeightName(l, m))! as [number, number];
    params.set(peftKey(l, m, 'A'), new Float32Array(16 * inp).fill(0.01));
    params.set(peftKey(l, m, 'B'), new Float32Array(out * 16).fill(0.01));
  }
const computer = await LocalGradComputer.create({
  modelSource: dir,
  adapter: mode === 'lora' ? { config: { r: 16, alpha: 32, dropout: Number(dropoutArg), rslora: false, targetModules: [...targets] }, names: [...params.keys()] } : undefined,
  mode: mode as 'lora' | 'full',
  objective: 'sft',
  workers: 1,
  backend: (process.env.UNITRACE_BACKEND as 'wasm') ?? 'wasm',
});
if (mode === 'lora') await computer.setTrainable(params);
const n = batch * seq;
const ids = Int32Array.from({ length: n }, (_, i) => (i * 7919) % config.vocabSize);
const mb = { kind: 'sft' as const, inputIds: ids, labels: ids.map((x) => (x + 1) % config.vocabSize), weights: new Float32Array(n).fill(1), rowLengths: new Int32Array(batch).fill(seq), batch, seqLen: seq, tokens: n, seed: 0 };
// Calibration: a plain 2-D product (~28-33 GFLOP/s on an idle core here); lower means other load.
function calibrate(): number {
  const a = tf.randomNormal([1024, 512]);
  const b = tf.randomNormal([512, 512]);
  tf.matMul(a, b).dispose();
  const t = performance.now();
  for (let i = 0; i < 5; i++) tf.matMul(a, b).dispose();
  const ms = (performance.now() - t) / 5;
  tf.dispose([a, b]);
  return (2 * 1024 * 512 * 512) / ms / 1e6;
}
console.log(`calibration matMul 1024x512x512: ${calibrate().toFixed(1)} GFLOP/s`);
await computer.compute(mb); // warm-up
let t0 = performance.now();
await computer.compute(mb);
const plain = performance.now() - t0;
t0 = performance.now();
const info = await tf.profile(() => computer.compute(mb) as unknown as tf.TensorContainer);
const wall = performance.now() - t0;
const byName = new Map<string, { ms: number; calls: number }>();
for (const k of info.kernels) {
  const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
  e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  e.calls++;
  byName.set(k.name, e);
}
const rows = [...byName].sort((a, b) => b[1].ms - a[1].ms);
const total = rows.reduce((s, [, e]) => s + e.ms, 0);
console.log(`step ${plain.toFixed(0)} ms unprofiled; profiled wall ${wall.toFixed(0)} ms, kernels ${total.toFixed(0)} ms, backend ${computer.backend}, ${info.kernels.length} kernel calls`);
for (const [name, e] of rows.slice(0, 25)) console.log(`${name.padEnd(28)} ${e.ms.toFixed(1).padStart(8)} ms ${((100 * e.ms) / total).toFixed(1).padStart(5)}% ${String(e.calls).padStart(6)} calls`);
// Matrix products by operand shapes: where the FLOPs are and how fast each kind runs.
const mm = new Map<string, { ms: number; calls: number; flops: number }>();
for (const k of info.kernels) {
  if (k.name !== 'BatchMatMul') continue;
  const [a, b] = k.inputShapes as number[][];
  const o = k.outputShapes[0] as number[];
  const key = `${JSON.stringify(a)}x${JSON.stringify(b)}`;
  const e = mm.get(key) ?? { ms: 0, calls: 0, flops: 0 };
  e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  e.calls++;
  e.flops += 2 * o.reduce((x, y) => x * y, 1) * a![a!.length - 1]!;
  mm.set(key, e);
}
for (const [key, e] of [...mm].sort((x, y) => y[1].ms - x[1].ms).slice(0, 15))
  console.log(`matMul ${key.padEnd(26)} ${e.ms.toFixed(1).padStart(8)} ms ${String(e.calls).padStart(4)} calls ${(e.flops / e.ms / 1e6).toFixed(1).padStart(6)} GFLOP/s`);
await computer.dispose();
rmSync(dir, { recursive: true, force: true });
