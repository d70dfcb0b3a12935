// evaluateRun over a run folder laid out as the training contract says (runs/<name>/<stage>/adapter/),
// with a tiny random model: five models generated, scored, judged offline, written, and resumable.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { evaluateRun, modelSpecs } from '../../src/eval/evaluate.js';
import type { EvalSummary } from '../../src/eval/results.js';
import { ClaudeClient } from '../../src/claude/client.js';
import { SINGLE_SYSTEM } from '../../src/eval/judge/claude.js';
import { chatClientOf } from '../../src/eval/judge/client.js';
import { compare } from '../helpers/compare.js';
import { startFakeAnthropic } from '../helpers/fake-anthropic.js';
import { makeTinyRun } from './tiny-run.js';

test('evaluateRun: all five models generated, scored, judged offline, written; a rerun reuses the generations', async () => {
  const { runDir, config } = await makeTinyRun();
  const specs = modelSpecs(config, runDir);
  assert.deepEqual(specs.map((s) => [s.name, s.mergeFirst !== null, s.adapter !== null, s.missing]), [
    ['reference', false, false, null],
    ['sft-original', false, true, null],
    ['sft-cot', false, true, null],
    ['sft-unified', false, true, null],
    ['sft-unified-dpo', true, true, null],
  ]);

  const logs: string[] = [];
  const summary = await evaluateRun(config, runDir, { env: {}, log: (l) => logs.push(l) });
  assert.deepEqual(Object.keys(summary.models), ['reference', 'sft-original', 'sft-cot', 'sft-unified', 'sft-unified-dpo']);
  assert.equal(summary.judge.name, 'offline-rubric');
  assert.deepEqual(summary.decoding, { maxNewTokens: 6, temperature: 0, topP: 1, seed: config.seed, batchSize: 16 });
  assert.deepEqual([summary.items.n, summary.items.id, summary.items.ood], [3, 2, 1]);
  const responses = (name: string) =>
    readFileSync(join(runDir, 'eval', name, 'responses.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; response: string; tokens: number; strict: boolean; judge: { score: number }; vsReference?: { outcome: number } });
  for (const name of Object.keys(summary.models)) {
    const rows = responses(name);
    assert.deepEqual(rows.map((r) => r.id), ['a1', 'c1', 'i1']);
    assert.ok(rows.every((r) => typeof r.response === 'string' && r.tokens >= 0 && r.tokens <= 6 && typeof r.judge.score === 'number'));
    const m = summary.models[name]!;
    assert.equal(m.all.judgeScore!.n, 3);
    assert.equal(m.all.winRate!.n, name === 'reference' ? 0 : 3);
    assert.equal(m.ood.countdownAccuracy!.n, 1);
    assert.equal(m.all.instructionPass!.n, 1);
  }
  const text = (name: string) => responses(name).map((r) => r.response);
  // A zero-B adapter changes nothing; a trained one does; DPO runs on the merged sft-unified model.
  assert.deepEqual(text('sft-original'), text('reference'));
  assert.notDeepEqual(text('sft-unified'), text('reference'));
  assert.deepEqual(text('sft-unified-dpo'), text('sft-unified'));
  assert.ok(responses('sft-original').every((r) => r.vsReference!.outcome === 0.5), 'identical responses tie');

  const onDisk = JSON.parse(readFileSync(join(runDir, 'eval', 'summary.json'), 'utf8')) as EvalSummary;
  assert.deepEqual(onDisk, JSON.parse(JSON.stringify(summary)));

  // A rerun reuses every generation and writes the same summary; a missing stage is skipped with its reason.
  const again = await evaluateRun(config, runDir, { env: {}, log: (l) => logs.push(l) });
  assert.equal(logs.filter((l) => l.includes('reusing')).length, 5);
  assert.deepEqual(again, summary);
  rmSync(join(runDir, 'sft-cot'), { recursive: true });
  const partial = await evaluateRun(config, runDir, { env: {}, models: ['sft-cot'] });
  assert.deepEqual(Object.keys(partial.models), ['reference']);
  assert.match(partial.skipped!['sft-cot']!, /stage sft-cot has not finished/);
  assert.ok(existsSync(join(runDir, 'eval', 'reference', 'generations.json')));
});

test('evaluateRun with a key: Claude (the fake server) judges every model, and names itself in the results', async (t) => {
  const { runDir, config } = await makeTinyRun();
  const fake = await startFakeAnthropic({
    apiKey: 'k-test',
    respond: (body) => (body.system === SINGLE_SYSTEM ? 'Fine. [[4]]' : 'Same quality. [[C]]'),
  });
  t.after(() => fake.close());
  const client = new ClaudeClient({ model: config.eval.judgeModel, cacheDir: join(runDir, 'cache'), apiKey: 'k-test', baseURL: fake.url });
  const summary = await evaluateRun(config, runDir, { env: { ANTHROPIC_API_KEY: 'k-test' }, makeClient: () => chatClientOf(client) });
  // 5 models x 3 ratings + 4 models x 3 comparisons with the reference; identical questions (the zero-B
  // adapters answer as the reference does) are answered from the cache.
  assert.equal(client.stats.requests + client.stats.cacheHits, 27);
  assert.equal(fake.messageCalls(), client.stats.requests);
  assert.ok(client.stats.cacheHits > 0);
  assert.equal(summary.judge.name, `claude:${config.eval.judgeModel}`);
  assert.equal(summary.judge.promptHash?.length, 12);
  for (const [name, m] of Object.entries(summary.models)) {
    assert.equal(m.judge, summary.judge.name);
    compare(m.all.judgeScore!.mean!, 3 / 9, 1e-12, `${name} judgeScore`);
    if (name !== 'reference') assert.deepEqual([m.all.winRate!.mean, m.all.winRate!.n], [0.5, 3]);
  }
});
