import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeF32Safetensors, encodeF32Safetensors, latestCheckpoint, listCheckpoints, saveCheckpoint, writeFileAtomic, type TrainerState } from '../../src/train/checkpoint.js';
import { RunFolder } from '../../src/train/runfolder.js';

const state = (step: number): TrainerState => ({ step, epoch: 1, batchInEpoch: 3, tokensSeen: 1000 * step, trainSeconds: 2, rng: [1, 2, 3, 4], fingerprint: 'abc' });
const params = () => new Map([['w', Float32Array.of(1.5, -2, 3.25)], ['b', Float32Array.of(0.1)]]);

test('F32 safetensors round-trip bit-exactly and truncation is reported', () => {
  const bytes = encodeF32Safetensors(params());
  const back = decodeF32Safetensors(bytes, 'x.safetensors');
  assert.deepEqual(Array.from(back.get('w')!), [1.5, -2, 3.25]);
  assert.deepEqual(Array.from(back.get('b')!), [Math.fround(0.1)]);
  assert.throws(() => decodeF32Safetensors(bytes.subarray(0, bytes.length - 2), 'x.safetensors'), /x\.safetensors: tensor b runs past the end/);
});

test('checkpoints: newest complete one wins, half-written folders are ignored, old ones pruned', async () => {
  const root = join(mkdtempSync(join(tmpdir(), 'ckpt-')), 'checkpoints');
  const opt = { step: 0, m: params(), v: params() };
  for (const step of [10, 20, 30]) await saveCheckpoint(root, { state: state(step), params: params(), optimizer: { ...opt, step } }, (dir) => writeFileSync(join(dir, 'extra.txt'), 'x'));
  assert.deepEqual(listCheckpoints(root), [20, 30]);
  // A crash mid-write leaves a temporary folder, and a folder without its state file is incomplete.
  mkdirSync(join(root, '.tmp-999-step-40'));
  mkdirSync(join(root, 'step-00000050'));
  const latest = latestCheckpoint(root)!;
  assert.equal(latest.state.step, 30);
  assert.equal(latest.optimizer.step, 30);
  assert.deepEqual(Array.from(latest.optimizer.v.get('w')!), [1.5, -2, 3.25]);
  assert.ok(existsSync(join(latest.dir, 'extra.txt')));
  assert.ok(!readdirSync(root).some((n) => n.startsWith('.tmp-')));
});

test('metrics: a resumed run drops rows past its checkpoint and a cut-off last line', () => {
  const run = new RunFolder(mkdtempSync(join(tmpdir(), 'run-')));
  for (let step = 1; step <= 5; step++) run.appendMetrics({ step, epoch: step / 5, loss: 1 / step, lr: 0.1, gradNorm: 1, tokens: step * 10, tokensPerSecond: 100 });
  appendFileSync(run.metricsFile, '{"step": 6, "lo');
  assert.equal(run.readMetrics().length, 5);
  const kept = run.truncateMetrics(3);
  assert.deepEqual(kept.map((r) => r.step), [1, 2, 3]);
  assert.deepEqual(run.readMetrics().map((r) => r.step), [1, 2, 3]);
});

test('temporaries a killed process left in the run folder are removed', () => {
  const run = new RunFolder(mkdtempSync(join(tmpdir(), 'run-')));
  mkdirSync(join(run.dir, '.tmp-123-adapter'));
  writeFileSync(join(run.dir, 'config.json.tmp-123'), '{');
  writeFileSync(join(run.dir, 'config.json'), '{}');
  run.removeTemporaries();
  assert.deepEqual(readdirSync(run.dir), ['config.json']);
});

test('a full disk is an error that names the file and says so', () => {
  assert.throws(() => writeFileAtomic('/dev/full/x.json', '{}'), /cannot write \/dev\/full\/x\.json/);
  const run = new RunFolder(mkdtempSync(join(tmpdir(), 'run-')));
  Object.defineProperty(run, 'metricsFile', { value: '/dev/full' });
  assert.throws(() => run.appendMetrics({ step: 1, epoch: 0, loss: 1, lr: 1, gradNorm: 1, tokens: 1, tokensPerSecond: 1 }), /cannot append to \/dev\/full: no space left on device \(ENOSPC\)/);
});
