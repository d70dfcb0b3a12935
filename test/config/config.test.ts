import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { explainFields, keyPaths, parseOverride, presetNames, resolveConfig, unknownKeys, writeRunConfig } from '../../src/config/index.js';
import { trainingSchema } from '../../src/config/schema.js';

test('paper preset holds the paper\'s hyper-parameters', () => {
  const c = resolveConfig({ preset: 'paper' });
  assert.equal(c.sft.lr, 2e-5);
  assert.equal(c.sft.epochs, 100);
  assert.equal(c.sft.batchSize * c.sft.gradAccum, 16);
  assert.deepEqual([c.sft.lora.r, c.sft.lora.alpha, c.sft.lora.dropout], [16, 32, 0.1]);
  assert.deepEqual([c.sft.maxPromptTokens, c.sft.maxResponseTokens], [256, 1024]);
  assert.deepEqual([c.mix.nOriginal, c.mix.nSynthetic, c.mix.nCot], [300, 200, 1000]);
  assert.deepEqual([c.dpo.beta, c.dpo.lr, c.dpo.batchSize * c.dpo.gradAccum, c.dpo.epochs], [0.1, 5e-7, 16, 3]);
});

test('file and dotted overrides apply in order and are validated', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ sft: { epochs: 7 } }));
  const c = resolveConfig({ preset: 'smoke', file, overrides: ['sft.epochs=9', 'run.name=x'] });
  assert.equal(c.sft.epochs, 9);
  assert.equal(c.run.name, 'x');
  assert.equal(c.preset, 'smoke');
  assert.throws(() => resolveConfig({ overrides: ['sft.lr=-1'] }), /sft\.lr/);
  assert.throws(() => resolveConfig({ preset: 'nope' }), /unknown preset/);
  assert.throws(() => parseOverride('noequals'), /key\.path=value/);
});

test('writeRunConfig writes the resolved config as JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'run-'));
  const c = resolveConfig({ preset: 'smoke' });
  const f = writeRunConfig(c, dir);
  assert.deepEqual(JSON.parse(readFileSync(f, 'utf8')), c);
});

test('an unknown key is an error naming it and the nearest valid key, from --set, a file or a preset', () => {
  assert.throws(() => resolveConfig({ overrides: ['sft.epoch=7'] }), /--set sft\.epoch=7: unknown config key sft\.epoch \(did you mean sft\.epochs\?\)/);
  assert.throws(() => resolveConfig({ overrides: ['dpo.lora.alpah=3'] }), /unknown config key dpo\.lora\.alpah \(did you mean dpo\.lora\.alpha\?\)/);
  assert.throws(() => resolveConfig({ overrides: [{ evl: { bootstrap: 3 } } as never] }), /override: unknown config key evl \(did you mean eval\?\)/);
  const file = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'typo.json');
  writeFileSync(file, JSON.stringify({ sft: { lora: { targetModule: ['q_proj'] } } }));
  assert.throws(() => resolveConfig({ file }), (e: Error) => e.message.startsWith(`${file}: unknown config key sft.lora.targetModule (did you mean sft.lora.targetModules?)`));
  assert.deepEqual(unknownKeys({ sft: { lrr: 1 } }, 'preset x'), ['preset x: unknown config key sft.lrr (did you mean sft.lr?)']);
  // Every shipped preset passes the same check.
  for (const name of presetNames) assert.doesNotThrow(() => resolveConfig({ preset: name }), name);
  assert.throws(() => resolveConfig({ overrides: ['sft.lora.targetModules=["q_proj","qproj"]'] }), /sft\.lora\.targetModules\.1/);
});

test('SFT and DPO carry the same training fields, each with its own values; every key has a description', () => {
  const c = resolveConfig({ preset: 'demo' });
  for (const key of keyPaths(trainingSchema)) {
    assert.ok(key in c.sft || key.startsWith('lora.'), `sft lacks ${key}`);
    assert.ok(key in c.dpo || key.startsWith('lora.'), `dpo lacks ${key}`);
  }
  const d = resolveConfig({ overrides: ['dpo.weightDecay=0.1', 'dpo.maxPromptTokens=33', 'dpo.adamBeta2=0.99'] });
  assert.deepEqual([d.dpo.weightDecay, d.dpo.maxPromptTokens, d.dpo.adamBeta2, d.sft.weightDecay, d.sft.maxPromptTokens, d.sft.adamBeta2], [0.1, 33, 0.99, 0, 96, 0.999]);
  const fields = explainFields();
  assert.ok(fields.length > 60);
  for (const f of fields) assert.ok(f.description.length > 8, `${f.path} has no description`);
  assert.ok(fields.some((f) => f.path === 'eval.judgeConcurrency' && f.type === 'integer'));
});

test('unitrace config exits 2 on an unknown key and --explain prints one line per key', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/unitrace.mjs', 'config', ...args], { encoding: 'utf8' });
  const bad = cli('--set', 'sft.epoch=7');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /sft\.epoch .*did you mean sft\.epochs\?/);
  const explained = cli('--explain', '--preset', 'smoke');
  assert.equal(explained.status, 0, explained.stderr);
  const line = explained.stdout.split('\n').find((l) => l.startsWith('sft.epochs '));
  assert.match(line ?? '', /^sft\.epochs\s+number\s+2\s+passes over the training set/);
  assert.equal(explained.stdout.trim().split('\n').length, explainFields().length);
});
