import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { listCheckpoints } from '../../src/train/checkpoint.js';
import { RunFolder } from '../../src/train/runfolder.js';
import { fromRoot } from '../../src/util/paths.js';
import { tinySetup } from './helpers/setup.js';

const cli = (args: string[]) => spawnSync(process.execPath, [fromRoot('bin', 'unitrace.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, UNITRACE_PRESET: 'smoke' } });

test('unitrace sft: stops at --max-steps, --resume finishes, a bad row names its line', () => {
  const setup = tinySetup(4);
  const data = join(setup.dir, 'train.jsonl');
  writeFileSync(data, setup.examples.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const out = join(setup.dir, 'run');
  const common = ['--data', data, '--model', setup.modelDir, '--out', out, '--epochs', '2', '--batch-size', '2', '--grad-accum', '1', '--workers', '1', '--backend', 'wasm'];
  const first = cli(['sft', ...common, '--max-steps', '2']);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /stopped at step 2\/4; continue with --resume/);
  assert.match(first.stderr, /sft: 4 examples, \d+ tokens\/epoch/);
  const again = cli(['sft', ...common]);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already holds a training run/);
  const rest = cli(['sft', ...common, '--resume']);
  assert.equal(rest.status, 0, rest.stderr);
  assert.match(rest.stdout, /finished 4 steps/);
  assert.match(rest.stderr, /step 4\/4 .*loss \d\.\d+ .*tok\/s ETA/);
  assert.deepEqual(new RunFolder(out).readMetrics().map((r) => r.step), [1, 2, 3, 4]);
  assert.ok(existsSync(join(out, 'adapter', 'adapter_model.safetensors')));

  writeFileSync(data, JSON.stringify(setup.examples[0]) + '\n' + JSON.stringify({ id: 'bad', messages: 'oops' }) + '\n');
  const bad = cli(['sft', ...common, '--overwrite']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /train\.jsonl:2 \(id bad\): bad example: messages is not a non-empty list/);
});

test('unitrace sft: Ctrl-C stops after the current step with a checkpoint to resume from', async () => {
  const setup = tinySetup(4);
  const data = join(setup.dir, 'train.jsonl');
  writeFileSync(data, setup.examples.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const out = join(setup.dir, 'run');
  const args = ['sft', '--data', data, '--model', setup.modelDir, '--out', out, '--epochs', '50', '--batch-size', '2', '--grad-accum', '1', '--workers', '1', '--backend', 'wasm'];
  const child = spawn(process.execPath, [fromRoot('bin', 'unitrace.mjs'), ...args], { env: { ...process.env, UNITRACE_PRESET: 'smoke' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    if (/step \d+\/100/.test(stderr) && !child.killed) child.kill('SIGINT');
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, stderr);
  assert.match(stderr, /interrupted: stopping after this step/);
  const m = /stopped at step (\d+)\/100; continue with --resume/.exec(stdout);
  assert.ok(m, stdout);
  assert.deepEqual(listCheckpoints(join(out, 'checkpoints')).slice(-1), [Number(m[1])]);
});

test('unitrace dpo --help lists every option with the presets\' defaults', () => {
  const help = cli(['dpo', '--help']);
  assert.equal(help.status, 0);
  for (const flag of ['--data', '--sft-adapter', '--loss', '--beta', '--model', '--out', '--resume', '--epochs', '--lr', '--batch-size', '--grad-accum', '--warmup-ratio', '--workers', '--seed', '--preset'])
    assert.ok(help.stdout.includes(flag), flag);
  assert.match(help.stdout, /paper: 5e-7/);
});
