// What notebook cells call: the run found through the environment, and live charts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { liveChart, notebookRun } from '../../src/pipeline/index.js';

function withEnv<T>(env: Record<string, string | undefined>, f: () => T): T {
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  try {
    return f();
  } finally {
    for (const [k, v] of Object.entries(before)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

test('notebookRun uses $UNITRACE_RUN_DIR and the config stored there', () => {
  const runDir = join(mkdtempSync(join(tmpdir(), 'unitrace-nbrun-')), 'r');
  const first = withEnv({ UNITRACE_RUN_DIR: runDir, UNITRACE_PRESET: 'smoke' }, () => notebookRun());
  assert.equal(first.runDir, runDir);
  assert.equal(first.config.preset, 'smoke');
  // later notebooks read config.json even when the preset variable says otherwise
  const again = withEnv({ UNITRACE_RUN_DIR: runDir, UNITRACE_PRESET: 'demo' }, () => notebookRun());
  assert.equal(again.config.preset, 'smoke');
  assert.equal(again.done('data'), false);

  const file = join(runDir, 'config.json');
  const broken = JSON.parse(readFileSync(file, 'utf8'));
  delete broken.sft.epochs;
  writeFileSync(file, JSON.stringify(broken));
  assert.throws(() => withEnv({ UNITRACE_RUN_DIR: runDir }, () => notebookRun()), /config\.json does not fit this version's config \(sft\.epochs/);
});

test('liveChart draws only after steps arrive and keeps every row per stage', () => {
  const drawn: string[] = [];
  const chart = liveChart({ svg: (s) => drawn.push(s) }, { title: 'loss', intervalMs: 0 });
  chart.draw();
  assert.equal(drawn.length, 0);
  chart.onStep!('sft-a', { step: 1, epoch: 0.5, loss: 2 }, { totalSteps: 2, etaSeconds: 1 });
  chart.onStep!('sft-a', { step: 2, epoch: 1, loss: 1 }, { totalSteps: 2, etaSeconds: 0 });
  assert.equal(drawn.length, 2);
  assert.match(drawn[1]!, /^<svg[^>]*>.*<path d="M[\d.]+,[\d.]+L[\d.]+,[\d.]+"/);
  assert.equal(chart.rows.get('sft-a')!.length, 2);
});
