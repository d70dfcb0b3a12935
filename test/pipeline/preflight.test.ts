// `--preset paper` asks for what lives outside the kit (Claude key, UltraFeedback file, model folder):
// the pipeline names every missing piece at once, in seconds, and substitutes nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config/index.js';
import { preflightProblems } from '../../src/pipeline/preflight.js';

const withKey = <T>(key: string | undefined, f: () => T): T => {
  const before = process.env.ANTHROPIC_API_KEY;
  if (key === undefined) delete process.env.ANTHROPIC_API_KEY;
  else process.env.ANTHROPIC_API_KEY = key;
  try {
    return f();
  } finally {
    if (before === undefined) delete process.env.ANTHROPIC_API_KEY;
    else process.env.ANTHROPIC_API_KEY = before;
  }
};

test('unitrace pipeline --preset paper without key, file or model stops at once naming each', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'unitrace-preflight-'));
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(process.cwd(), 'bin', 'unitrace.mjs'), 'pipeline', '--preset', 'paper', '--run-dir', join(cwd, 'run')], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ANTHROPIC_API_KEY: '' },
  });
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(r.status, 2, r.stderr);
  assert.ok(seconds < 5, `took ${seconds.toFixed(1)} s`);
  assert.match(r.stderr, /the paper preset cannot start/);
  assert.match(r.stderr, /ANTHROPIC_API_KEY is not set, and the trace teacher \(synth\.teacher=claude\) and the judge \(eval\.judge=claude\) call Claude/);
  assert.match(r.stderr, /the UltraFeedback file .*ultrafeedback\/train_sft\.parquet \(mix\.original\) does not exist/);
  assert.match(r.stderr, /the model folder .*Qwen2\.5-0\.5B \(model\.source\) does not exist/);
  assert.doesNotMatch(r.stdout, /pipeline: run/, 'no stage started');
});

test('preflight passes once the pieces are there; paper-offline needs only the model folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-preflight-'));
  const model = join(dir, 'Qwen2.5-0.5B');
  mkdirSync(model);
  writeFileSync(join(model, 'config.json'), '{}');
  writeFileSync(join(dir, 'uf.jsonl'), '{}\n');
  const paper = resolveConfig({ preset: 'paper', overrides: [`model.source=${model}`, `mix.original=${join(dir, 'uf.jsonl')}`] });
  assert.deepEqual(withKey('sk-test', () => preflightProblems(paper)), []);
  assert.equal(withKey(undefined, () => preflightProblems(paper)).length, 1);
  const offline = resolveConfig({ preset: 'paper-offline' });
  assert.deepEqual([offline.synth.teacher, offline.eval.judge, offline.mix.original], ['offline', 'auto', 'embedded']);
  assert.deepEqual([offline.sft.lr, offline.sft.epochs, offline.dpo.lr], [paper.sft.lr, paper.sft.epochs, paper.dpo.lr]);
  const problems = withKey(undefined, () => preflightProblems(offline, mkdtempSync(join(tmpdir(), 'unitrace-preflight-'))));
  assert.deepEqual(withKey(undefined, () => preflightProblems(offline, dir)), [], 'a folder named Qwen2.5-0.5B beside the run is found');
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /model folder .*Qwen2\.5-0\.5B \(model\.source\) does not exist/);
  assert.deepEqual(withKey(undefined, () => preflightProblems(resolveConfig({ preset: 'smoke' }))), []);
});
