import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { clearTransposeCache } from '../../src/engine/fast.js';
import { generate } from '../../src/model/generate.js';
import { loadModel } from '../../src/model/load.js';
import { loadTokenizer } from '../../src/model/tokenizer.js';
import { isStrict } from '../../src/trace/index.js';
import { RunFolder } from '../../src/train/runfolder.js';
import { fromRoot } from '../../src/util/paths.js';
import { closeDefaultSandbox } from '../../src/sandbox/index.js';
import { runDpo } from '../../src/train/dpo.js';
import { runSft, type TrainRunResult } from '../../src/train/sft.js';
import type { Config } from '../../src/config/index.js';
import { compare } from '../helpers/compare.js';
import { tinySetup } from './helpers/setup.js';

const setup = tinySetup(4);

/**
 * The fully fine-tuned model that the smoke test checks and the on-policy DPO test samples from: trained
 * once, by whichever of the two runs first, so either test also runs alone (--test-name-pattern).
 */
let fullSft: Promise<{ config: Config; out: string; result: TrainRunResult }> | null = null;
function trainFull(): Promise<{ config: Config; out: string; result: TrainRunResult }> {
  fullSft ??= (async () => {
    const config = setup.config({ sft: { mode: 'full', epochs: 40 } });
    const out = join(setup.dir, 'sft-full');
    return { config, out, result: await runSft(config, { data: setup.examples, out }) };
  })();
  return fullSft;
}

test('smoke SFT: loss falls, then greedy generation on the training prompts gives strict traces', async () => {
  const { config, out, result } = await trainFull();
  assert.ok(result.finished);
  const rows = new RunFolder(out).readMetrics();
  assert.equal(rows.length, result.totalSteps);
  assert.deepEqual(Object.keys(rows[0]!).slice(0, 7), ['step', 'epoch', 'loss', 'lr', 'gradNorm', 'tokens', 'tokensPerSecond']);
  assert.ok('mean_token_accuracy' in rows[0]!);
  const first = rows[0]!.loss;
  const last = rows[rows.length - 1]!.loss;
  assert.ok(last < first / 10, `loss ${first} -> ${last}`);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')), config);

  const model = await loadModel(result.result);
  const tok = loadTokenizer(result.result);
  const gens = await generate(model, tok, setup.examples.map((e) => [e.messages[0]!]), { maxNewTokens: 120 });
  model.dispose();
  gens.forEach((g, i) => {
    assert.equal(g.finishReason, 'stop', `prompt ${i}: no <|im_end|> (${JSON.stringify(g.text)})`);
    assert.ok(isStrict(g.text), `prompt ${i}: not strict: ${JSON.stringify(g.text)}`);
  });
});

test('on-policy DPO: sampled responses, judged by execution, become the pairs', async () => {
  const trainedModel = (await trainFull()).result.result;
  const pairs = setup.examples.map((e, i) => ({
    id: e.id,
    family: 'arithmetic',
    groundTruth: 7 + 3 * i,
    prompt: [e.messages[0]!],
    chosen: [e.messages[1]!],
    rejected: [{ role: 'assistant' as const, content: 'no idea' }],
  }));
  const config = { ...setup.config({ dpo: { onPolicy: true, onPolicySamples: 2, epochs: 1, batchSize: 2, gradAccum: 1 }, eval: { maxNewTokens: 90, temperature: 1 } }), model: { source: trainedModel } };
  const out = join(setup.dir, 'dpo-on-policy');
  const logs: string[] = [];
  const r = await runDpo(config, { data: pairs, out, onLog: (m) => logs.push(m) });
  await closeDefaultSandbox();
  assert.ok(r.finished);
  const report = JSON.parse(readFileSync(join(out, 'on-policy-report.json'), 'utf8'));
  assert.equal(report.samplesTotal, 8);
  assert.equal(report.sampled + report.offlineChosen + report.offlinePair, 4);
  assert.ok(report.samplesCorrect > 0, 'the trained model should get some answers right');
  const written = readFileSync(join(out, 'on-policy-pairs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(written.length, 4);
  for (const p of written) if (p.id.endsWith('-onpolicy')) assert.notEqual(p.rejected[0].content, 'no idea', 'a sampled failure replaces the offline rejected');
  assert.ok(logs.some((l) => /on-policy pairs in/.test(l)));
  const again: string[] = [];
  await runDpo(config, { data: pairs, out, resume: true, onLog: (m) => again.push(m) });
  assert.ok(!again.some((l) => /on-policy pairs in/.test(l)), 'a resume reuses the sampled pairs');
});

test('LoRA SFT stopped and resumed reproduces the uninterrupted loss curve', async () => {
  const config = setup.config({ sft: { epochs: 6, checkpointEvery: 3, lora: { dropout: 0.1 } } });
  const full = await runSft(config, { data: setup.examples, out: join(setup.dir, 'lora-a') });
  const outB = join(setup.dir, 'lora-b');
  const part = await runSft(config, { data: setup.examples, out: outB, maxSteps: 5 });
  assert.equal(part.finished, false);
  await assert.rejects(runSft(config, { data: setup.examples, out: outB }), /already holds a training run: pass --resume/);
  const rest = await runSft(config, { data: setup.examples, out: outB, resume: true });
  assert.equal(rest.resumedFrom, 5);
  const a = new RunFolder(join(setup.dir, 'lora-a')).readMetrics();
  const b = new RunFolder(outB).readMetrics();
  assert.deepEqual(b.map((r) => r.step), a.map((r) => r.step));
  compare(b.map((r) => r.loss), a.map((r) => r.loss), 1e-5, 'loss curve');
  compare(b.map((r) => r.gradNorm), a.map((r) => r.gradNorm), 1e-4, 'grad norms');
  assert.equal(full.tokensSeen, rest.tokensSeen);
  const adapterA = readFileSync(join(setup.dir, 'lora-a', 'adapter', 'adapter_model.safetensors'));
  const adapterB = readFileSync(join(outB, 'adapter', 'adapter_model.safetensors'));
  assert.equal(adapterA.length, adapterB.length);
  const changed = await runSft(setup.config({ sft: { epochs: 6, checkpointEvery: 3, lr: 5e-3 } }), { data: setup.examples, out: outB, resume: true }).catch((e: Error) => e);
  assert.match(String(changed), /made with other settings or data/);
});

test('training steps leak no tensors: a run of 6 steps ends with as many as a run of 1', async () => {
  const config = setup.config({ sft: { epochs: 3 } });
  const left = async (steps: number) => {
    clearTransposeCache(); // the engine frees its transposes of disposed weights lazily
    const before = tf.memory().numTensors;
    await runSft(config, { data: setup.examples, out: join(setup.dir, `leak-${steps}`), maxSteps: steps });
    clearTransposeCache();
    return tf.memory().numTensors - before;
  };
  assert.equal(await left(6), await left(1));
});

test('kill -9 mid-epoch, then --resume: the loss curve equals the uninterrupted run', async () => {
  // 8 examples, batch 2: 4 steps per epoch; checkpoints every 3 steps, so most kills land mid-epoch past a checkpoint.
  const big = tinySetup(8);
  const config = big.config({ sft: { epochs: 5, checkpointEvery: 3, lora: { dropout: 0.1 } } });
  const ref = join(big.dir, 'ref');
  const out = join(big.dir, 'killed');
  const spec = (resume: boolean, dir = out) => {
    const file = join(big.dir, `spec-${resume}-${dir === out ? 'killed' : 'ref'}.json`);
    writeFileSync(file, JSON.stringify({ config, data: big.examples, out: dir, resume }));
    return file;
  };
  const runChild = (file: string, killAtStep: number | null) =>
    new Promise<{ code: number | null; signal: string | null; lastStep: number; resumedFrom: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', fromRoot('test', 'train', 'helpers', 'sft-child.ts'), file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let lastStep = 0;
      let resumedFrom = '';
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.stdout.on('data', (d: Buffer) => {
        for (const m of d.toString().matchAll(/step (\d+)/g)) lastStep = Number(m[1]);
        resumedFrom = /resumedFrom=(\w+)/.exec(d.toString())?.[1] ?? resumedFrom;
        if (killAtStep !== null && lastStep >= killAtStep) child.kill('SIGKILL');
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => (code && code !== 0 ? reject(new Error(`child failed (${code}): ${err.slice(-2000)}`)) : resolve({ code, signal, lastStep, resumedFrom })));
    });
  // The uninterrupted run, also in a fresh process, so both curves come from identical processes.
  await runChild(spec(false, ref), null);
  const killed = await runChild(spec(false), 6);
  assert.equal(killed.signal, 'SIGKILL');
  assert.ok(existsSync(join(out, 'checkpoints')));
  assert.ok(!existsSync(join(out, 'adapter')), 'the killed run must not have finished');
  const rowsAtKill = new RunFolder(out).readMetrics().length;
  const resumed = await runChild(spec(true), null);
  assert.equal(resumed.code, 0);
  const from = Number(resumed.resumedFrom);
  assert.ok(from >= 3 && from % 3 === 0 && from <= rowsAtKill, `resumed from checkpoint ${resumed.resumedFrom} with ${rowsAtKill} rows written at the kill`);
  const a = new RunFolder(ref).readMetrics();
  const b = new RunFolder(out).readMetrics();
  assert.deepEqual(b.map((r) => r.step), a.map((r) => r.step));
  compare(b.map((r) => r.loss), a.map((r) => r.loss), 1e-5, 'loss curve after kill -9');
  compare(b.map((r) => r.lr), a.map((r) => r.lr), 1e-12, 'learning rates');
});
