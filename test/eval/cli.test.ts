// `unitrace score` and `unitrace eval` as a user runs them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromRoot } from '../../src/util/paths.js';
import { makeTinyRun } from './tiny-run.js';

function unitrace(args: string[], cwd: string) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.ANTHROPIC_API_KEY;
  return spawnSync(process.execPath, [fromRoot('bin/unitrace.mjs'), ...args], { cwd, env, encoding: 'utf8' });
}

test('score: TRL-style records are scored, a malformed line is reported with file:line, unusable input exits 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-score-'));
  const file = join(dir, 'trl.jsonl');
  writeFileSync(
    file,
    [
      JSON.stringify({ id: 'p1', groundTruth: 12, family: 'arithmetic', prompt: [{ role: 'user', content: '3 * 4?' }], completion: [{ role: 'assistant', content: '<cot>\nMultiply.\n</cot>\n<logic>\nGIVEN: 3 * 4\n</logic>\n<code>\nprint(3 * 4)\n</code>\n<answer>\n12\n</answer>' }] }),
      JSON.stringify({ id: 'p2', groundTruth: 7, messages: [{ role: 'user', content: '3 + 4?' }, { role: 'assistant', content: 'It is 8.' }] }),
      '{"id": "p3", "response": ',
      JSON.stringify({ id: 'p4', note: 'no response here' }),
      JSON.stringify({ id: 'p5', groundTruth: 9, prompt: '4 + 5?', completion: 'The sum is 9.' }),
    ].join('\n') + '\n',
  );
  const r = unitrace(['score', file, '--json', '--bootstrap', '50', '--out', join(dir, 'out')], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: invalid JSON`));
  assert.match(r.stderr, /trl\.jsonl:4: no response text/);
  const out = JSON.parse(r.stdout) as { summary: { models: { trl: { all: Record<string, { mean: number; n: number }> } } }; records: { id: string; strict: boolean; programCorrect: boolean; finalCorrect: boolean }[]; errors: string[] };
  assert.deepEqual(out.records.map((x) => [x.id, x.strict, x.programCorrect, x.finalCorrect]), [['p1', true, true, true], ['p2', false, false, false], ['p5', false, false, true]]);
  assert.equal(out.errors.length, 2);
  const all = out.summary.models.trl.all;
  assert.deepEqual([all.programAccuracy!.mean, all.finalAccuracy!.mean, all.strict!.n], [1 / 3, 2 / 3, 3]);
  assert.equal(readFileSync(join(dir, 'out', 'trl', 'responses.jsonl'), 'utf8').trim().split('\n').length, 3);

  writeFileSync(join(dir, 'bad.jsonl'), 'not json\n');
  const bad = unitrace(['score', join(dir, 'bad.jsonl'), '--no-execute'], dir);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /no usable record/);
  assert.equal(unitrace(['score', join(dir, 'missing.jsonl')], dir).status, 2);
});

test('eval --model with an adapter, and eval --run for a subset of the models', async () => {
  const { runDir, modelDir, root } = await makeTinyRun();
  const out = join(root, 'one');
  const one = unitrace(['eval', '--model', modelDir, '--adapter', join(runDir, 'sft-unified', 'adapter'), '--set', join(runDir, 'data', 'eval.jsonl'), '--out', out, '--max-new-tokens', '5', '--bootstrap', '50', '--preset', 'smoke'], root);
  assert.equal(one.status, 0, one.stderr);
  const s1 = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { judge: { name: string }; decoding: { maxNewTokens: number }; models: Record<string, { adapter: string; all: Record<string, { n: number }> }> };
  assert.deepEqual(Object.keys(s1.models), ['sft-unified']);
  assert.equal(s1.models['sft-unified']!.adapter, join(runDir, 'sft-unified', 'adapter'));
  assert.equal(s1.decoding.maxNewTokens, 5);
  assert.equal(s1.judge.name, 'offline-rubric');
  assert.match(one.stdout, /judge: offline-rubric/);
  assert.equal(readFileSync(join(out, 'sft-unified', 'responses.jsonl'), 'utf8').trim().split('\n').length, 3);

  const run = unitrace(['eval', '--run', runDir, '--models', 'sft-unified', '--json'], root);
  assert.equal(run.status, 0, run.stderr);
  const s2 = JSON.parse(run.stdout) as { decoding: { maxNewTokens: number }; models: Record<string, { all: Record<string, { n: number }> }> };
  assert.deepEqual(Object.keys(s2.models), ['reference', 'sft-unified']);
  assert.equal(s2.decoding.maxNewTokens, 6, "the run's config.json gives the settings");
  assert.equal(s2.models['sft-unified']!.all.winRate!.n, 3);
  assert.deepEqual(JSON.parse(readFileSync(join(runDir, 'eval', 'summary.json'), 'utf8')), s2);

  const wrong = unitrace(['eval', '--run', runDir, '--models', 'gpt'], root);
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /unknown model gpt/);
});
