// The judge: Claude through a local fake Anthropic server (cached, retried, order randomized and mapped
// back), the offline rubric, and no network at all without a key.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ClaudeClient } from '../../src/claude/client.js';
import { chatClientOf } from '../../src/eval/judge/client.js';
import { parsePreference, parseRating, SINGLE_SYSTEM } from '../../src/eval/judge/claude.js';
import { OfflineRubricJudge } from '../../src/eval/judge/offline.js';
import { resolveJudgeMode } from '../../src/eval/judge/index.js';
import { judgeResponses } from '../../src/eval/judge/run.js';
import { readOutputs } from '../../src/eval/items.js';
import { scoreOutputs } from '../../src/eval/results.js';
import { scoreFile } from '../../src/eval/score.js';
import { fromRoot } from '../../src/util/paths.js';
import { compare } from '../helpers/compare.js';
import { startFakeAnthropic, type Fault } from '../helpers/fake-anthropic.js';

const FIXTURE = fromRoot('test/fixtures/eval/outputs.jsonl');
const REFUSAL = 'I do not know';

/** Reference outputs for the fixture's items: a distinct non-answer per item. */
function writeReference(dir: string): string {
  const file = join(dir, 'reference.jsonl');
  const lines = readFileSync(FIXTURE, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  writeFileSync(file, lines.map((r) => JSON.stringify({ ...r, response: `${REFUSAL} (${r.id}).` })).join('\n') + '\n');
  return file;
}

test('parsing the judge: the last [[N]] in 1-10, the last [[A]]/[[B]]/[[C]]', () => {
  assert.equal(parseRating('Good work. Rating: [[7]]'), 7);
  assert.equal(parseRating('[[3]] at first, but on reflection [[8.5]]'), 8.5);
  assert.equal(parseRating('[[11]] is off the scale'), null);
  assert.equal(parseRating('I would give it 7/10'), null);
  assert.equal(parsePreference('A is clearer. [[A]]'), 'first');
  assert.equal(parsePreference('[[B]]'), 'second');
  assert.equal(parsePreference('Equally good: [[C]]'), 'tie');
  assert.equal(parsePreference('A is better'), null);
});

test('offline rubric: correctness first, then format', async () => {
  const { outputs } = readOutputs(FIXTURE);
  const rows = await scoreOutputs(outputs.map((o) => ({ item: o.item, response: o.response })));
  const judge = new OfflineRubricJudge();
  const rating = async (id: string): Promise<number | null> => {
    const row = rows.find((r) => r.id === id)!;
    return (await judge.rate({ item: outputs.find((o) => o.id === id)!.item, response: row.response, verdict: row })).rating;
  };
  // Not executed, so the code point comes from codeCompiles, which is null here: 3 of 4 format points.
  assert.equal(await rating('area-strict'), 1 + 6 + Math.round(3 * 0.75));
  assert.equal(await rating('plain-answer'), 7, 'correct but no trace format');
  assert.equal(await rating('code-raises'), 1 + 0 + Math.round(3 * 0.75), 'wrong answer in a good format');
  assert.equal(await rating('instr-label-wrong'), 4, 'wrong label, plain and finished');
  assert.equal(await rating('instr-unchecked'), 10, 'nothing to check: format alone');
  const a = rows.find((r) => r.id === 'plain-answer')!;
  const b = rows.find((r) => r.id === 'code-raises')!;
  const item = (id: string) => outputs.find((o) => o.id === id)!.item;
  const cmp = await judge.compare(item('plain-answer'), { item: item('plain-answer'), response: a.response, verdict: a }, { item: item('code-raises'), response: b.response, verdict: b });
  assert.equal(cmp.preference, 'first', 'a correct plain answer beats a well-formatted wrong one');
});

test('pairwise order is randomized by the seed and mapped back to the model', async () => {
  const { outputs } = readOutputs(FIXTURE);
  const items = outputs.map((o) => o.item);
  const rows = await scoreOutputs(outputs.map((o) => ({ item: o.item, response: o.response })));
  const ref = await scoreOutputs(outputs.map((o) => ({ item: o.item, response: `${REFUSAL}.` })));
  // A judge that always prefers the response that is not the refusal, whichever side it is on.
  const judge = {
    name: 'test',
    rate: async () => ({ rating: 5, score: 4 / 9 }),
    compare: async (_i: unknown, first: { response: string }, second: { response: string }) => ({
      preference: first.response.startsWith(REFUSAL) ? ('second' as const) : second.response.startsWith(REFUSAL) ? ('first' as const) : ('tie' as const),
    }),
  };
  await judgeResponses({ judge, items, rows, reference: ref, seed: 3, model: 'm' });
  assert.ok(rows.every((r) => r.vsReference!.outcome === 1));
  const order = rows.map((r) => r.vsReference!.modelFirst);
  const firsts = order.filter(Boolean).length;
  assert.ok(firsts > 3 && firsts < 18, `model shown first ${firsts} of 21 times`);
  const again = await scoreOutputs(outputs.map((o) => ({ item: o.item, response: o.response })));
  await judgeResponses({ judge, items, rows: again, reference: ref, seed: 3, model: 'm' });
  assert.deepEqual(again.map((r) => r.vsReference!.modelFirst), order, 'same seed, same order');
  await judgeResponses({ judge, items, rows: again, reference: ref, seed: 4, model: 'm' });
  assert.notDeepEqual(again.map((r) => r.vsReference!.modelFirst), order, 'another seed, another order');
});

test('Claude judge via the fake server: retried after 500/429/529, cached, and a rerun sends nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-judge-'));
  const reference = writeReference(dir);
  const faults = new Map<number, Fault>([[0, { kind: '500' }], [1, { kind: '429', retryAfter: '0' }], [2, { kind: '529' }]]);
  const faulted: string[] = [];
  const fake = await startFakeAnthropic({
    apiKey: 'test-key-not-real',
    respond: (body) => {
      const user = body.messages[0]!.content;
      if (body.system === SINGLE_SYSTEM) return 'The answer is stated clearly.\n[[8]]';
      const a = user.slice(user.indexOf('[Response A]'), user.indexOf('[Response B]'));
      return a.includes(REFUSAL) ? 'B answers the question. [[B]]' : 'A answers the question. [[A]]';
    },
    // The first three distinct prompts fail once each, then succeed.
    fault: (prompt, attempt) => {
      if (attempt > 0) return null;
      const f = faults.get(faulted.length);
      if (f) faulted.push(prompt);
      return f ?? null;
    },
  });
  t.after(() => fake.close());
  const cacheDir = join(dir, 'cache');
  const run = async () => {
    const client = new ClaudeClient({ model: 'claude-test-judge', cacheDir, apiKey: 'test-key-not-real', baseURL: fake.url, baseDelayMs: 1, maxDelayMs: 5 });
    const result = await scoreFile({
      file: FIXTURE, reference, execute: false, timeoutMs: 1000, judge: 'claude', judgeModel: 'claude-test-judge',
      makeClient: () => chatClientOf(client), resamples: 100, seed: 5, modelName: 'model', out: join(dir, 'eval'),
    });
    return { result, stats: { ...client.stats } };
  };
  const saved = process.env.ANTHROPIC_API_KEY;
  process.env.ANTHROPIC_API_KEY = 'test-key-not-real'; // judge: 'claude' checks that a key is set
  t.after(() => (saved === undefined ? delete process.env.ANTHROPIC_API_KEY : (process.env.ANTHROPIC_API_KEY = saved)));

  const first = await run();
  // 21 ratings of the model, 21 of the reference, 21 comparisons; plus the 3 injected failures, retried.
  assert.equal(faulted.length, 3);
  assert.deepEqual(first.stats, { requests: 66, cacheHits: 0, retries: 3, failures: 0 });
  assert.equal(fake.messageCalls(), 66);
  const s = first.result.summary;
  assert.equal(s.judge.name, 'claude:claude-test-judge');
  assert.equal(s.models.model!.judge, 'claude:claude-test-judge');
  compare(s.models.model!.all.judgeScore!.mean!, 7 / 9, 1e-12, 'judgeScore');
  assert.equal(s.models.model!.all.judgeScore!.n, 21);
  assert.deepEqual([s.models.model!.all.winRate!.mean, s.models.model!.all.winRate!.n, s.models.model!.all.winRate!.se], [1, 21, 0]);
  assert.ok(first.result.rows.every((r) => r.judge!.rating === 8 && r.vsReference!.outcome === 1 && r.judge!.by === 'claude:claude-test-judge'));
  // The key is never written to the cache or the results.
  const written = spawnSync('grep', ['-r', '-l', 'test-key-not-real', dir], { encoding: 'utf8' });
  assert.equal(written.stdout, '');

  const second = await run();
  assert.deepEqual(second.stats, { requests: 0, cacheHits: 63, retries: 0, failures: 0 });
  assert.equal(fake.messageCalls(), 66, 'the rerun is answered from the cache');
  assert.deepEqual(second.result.summary, s);
});

test('without a key: the offline rubric judges and nothing contacts the network', async (t) => {
  const fake = await startFakeAnthropic({ apiKey: 'unused', respond: () => 'contacted' });
  t.after(() => fake.close());
  assert.equal(resolveJudgeMode('auto', {}), 'offline');
  assert.throws(() => resolveJudgeMode('claude', {}), /ANTHROPIC_API_KEY is not set/);
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-nokey-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ANTHROPIC_BASE_URL: fake.url, UNITRACE_PRESET: 'smoke' };
  delete env.ANTHROPIC_API_KEY;
  const cli = spawnSync(
    process.execPath,
    [fromRoot('bin/unitrace.mjs'), 'score', FIXTURE, '--reference', writeReference(dir), '--no-execute', '--bootstrap', '50', '--json'],
    { env, encoding: 'utf8', cwd: dir },
  );
  assert.equal(cli.status, 0, cli.stderr);
  const out = JSON.parse(cli.stdout) as { summary: { judge: { name: string }; models: Record<string, { all: Record<string, { mean: number; n: number }> }> } };
  assert.equal(out.summary.judge.name, 'offline-rubric');
  assert.equal(out.summary.models.reference!.all.judgeScore!.n, 21);
  assert.ok(out.summary.models.outputs!.all.winRate!.mean > 0.5);
  assert.equal(fake.requests.length, 0, 'the fake Anthropic server was contacted');
});
