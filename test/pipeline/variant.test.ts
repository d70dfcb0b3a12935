// A notebook changes settings with notebookRun({ overrides }): a variant run in its own folder next to
// the pipeline's run, with the pipeline run's config plus the change.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { notebookRun } from '../../src/pipeline/index.js';
import { variantName } from '../../src/pipeline/notebook.js';

test('notebookRun({ overrides }) runs a variant in its own folder beside the pipeline run', () => {
  const root = mkdtempSync(join(tmpdir(), 'unitrace-variant-'));
  const runDir = join(root, 'smoke');
  const before = { dir: process.env.UNITRACE_RUN_DIR, preset: process.env.UNITRACE_PRESET };
  process.env.UNITRACE_RUN_DIR = runDir;
  process.env.UNITRACE_PRESET = 'smoke';
  try {
    const base = notebookRun({ overrides: [] });
    assert.equal(base.runDir, runDir);
    const v = notebookRun({ overrides: ['sft.lr=0.0005', 'sft.epochs=3'] });
    assert.equal(v.runDir, join(root, 'smoke-sft.lr-0.0005_sft.epochs-3'));
    assert.equal(v.config.sft.lr, 0.0005);
    assert.equal(v.config.sft.epochs, 3);
    assert.equal(v.config.mix.nOriginal, base.config.mix.nOriginal, 'everything else is the base run\'s');
    assert.equal(JSON.parse(readFileSync(join(v.runDir, 'config.json'), 'utf8')).sft.lr, 0.0005);
    assert.equal(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')).sft.lr, base.config.sft.lr, 'the base run is untouched');
    const named = notebookRun({ overrides: ['dpo.beta=0.5'], name: 'beta-half' });
    assert.ok(existsSync(join(root, 'beta-half', 'config.json')));
    assert.equal(named.config.dpo.beta, 0.5);
    assert.throws(() => notebookRun({ overrides: ['sft.lr=-1'] }), /sft\.lr/);
  } finally {
    for (const [k, v] of [['UNITRACE_RUN_DIR', before.dir], ['UNITRACE_PRESET', before.preset]] as const) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  assert.equal(variantName('demo', ['sft.lora.r=4']), 'demo-sft.lora.r-4');
});
