import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseOverride, resolveConfig, writeRunConfig } from '../../src/config/index.js';

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
