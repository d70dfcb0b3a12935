// The same fixture with its code run in the Pyodide sandbox: program-aided answers, agreement, codeRuns.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { fromRoot } from '../../src/util/paths.js';
import { readOutputs } from '../../src/eval/items.js';
import { scoreOutputs } from '../../src/eval/results.js';
import { summarize } from '../../src/eval/metrics.js';
import { createSandboxPool } from '../../src/sandbox/pool.js';
import { readJsonl } from '../../src/util/jsonl.js';
import { fieldOf } from './helpers.js';

const FIXTURE = fromRoot('test/fixtures/eval/outputs.jsonl');
const sandbox = createSandboxPool({ size: 1, timeoutMs: 5000 });
after(() => sandbox.close());

test('fixture, executed: program answers, codeRuns and agreement are as written', async () => {
  const expected = new Map(readJsonl<{ id: string; expect: Record<string, unknown>; expectExecuted: Record<string, unknown> }>(FIXTURE).map((r) => [r.id, r]));
  const { outputs } = readOutputs(FIXTURE);
  const rows = await scoreOutputs(outputs.map((o) => ({ item: o.item, response: o.response })), { sandbox, timeoutMs: 5000 });
  for (const row of rows) {
    const { expect, expectExecuted } = expected.get(row.id)!;
    for (const [key, want] of Object.entries({ ...expect, ...expectExecuted })) assert.deepEqual(fieldOf(row, key), want, `${row.id}.${key}`);
  }
  const area = rows.find((r) => r.id === 'area-strict')!;
  assert.equal(area.stdout, 'Area = 30.0\n');
  const s = summarize(rows, 100, 1);
  assert.deepEqual([s.all.programAccuracy!.mean, s.all.programAccuracy!.n], [10 / 17, 17]);
  // Agreement counts only responses with both a program answer and an <answer> section.
  assert.deepEqual([s.all.agreement!.mean, s.all.agreement!.n], [6 / 11, 11]);
});
