// Hand-written outputs with known verdicts (test/fixtures/eval/outputs.jsonl) score exactly as expected.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromRoot } from '../../src/util/paths.js';
import { readOutputs } from '../../src/eval/items.js';
import { scoreOutputs } from '../../src/eval/results.js';
import { summarize } from '../../src/eval/metrics.js';
import { fieldOf } from './helpers.js';
import { readJsonl } from '../../src/util/jsonl.js';

const FIXTURE = fromRoot('test/fixtures/eval/outputs.jsonl');
type Expect = Record<string, unknown>;
const expectations = new Map(readJsonl<{ id: string; expect: Expect; expectExecuted?: Expect }>(FIXTURE).map((r) => [r.id, r]));

test('fixture: every format and answer verdict is as written, without executing code', async () => {
  const { outputs, errors } = readOutputs(FIXTURE);
  assert.deepEqual(errors, []);
  assert.equal(outputs.length, 21);
  const rows = await scoreOutputs(outputs.map((o) => ({ item: o.item, response: o.response })));
  for (const row of rows) {
    const { expect } = expectations.get(row.id)!;
    for (const [key, want] of Object.entries(expect)) assert.deepEqual(fieldOf(row, key), want, `${row.id}.${key}`);
    // Nothing was executed, so no program verdicts where there is code.
    if (row.tags.code) assert.equal(row.codeRuns, null, `${row.id}.codeRuns`);
    assert.equal(row.programCorrect, null, `${row.id}.programCorrect`);
  }

  const s = summarize(rows, 200, 7);
  assert.equal(s.n, 21);
  assert.deepEqual([s.all.strict!.mean, s.all.strict!.n], [12 / 17, 17]);
  // Format metrics count trace items only; final accuracy every item with something to check.
  assert.deepEqual([s.all.finalAccuracy!.mean, s.all.finalAccuracy!.n], [11 / 20, 20]);
  assert.deepEqual([s.all.instructionPass!.mean, s.all.instructionPass!.n], [2 / 3, 3]);
  // TinyZero reads the last line only: every fixture answer sits on lines of its own (cd-plain has none).
  assert.deepEqual([s.ood.countdownAccuracy!.mean, s.ood.countdownAccuracy!.n], [0, 7]);
  assert.deepEqual([s.ood.statedAccuracy!.mean, s.ood.statedAccuracy!.n], [1 / 7, 7]);
  assert.deepEqual([s.id.countdownAccuracy!.n, s.id.lenient!.n, s.ood.lenient!.n], [0, 10, 7]);
  assert.equal(s.all.programAccuracy!.n, 0, 'no program accuracy without execution');
  assert.equal(s.families.geometry!.statedAccuracy!.mean, 1);
  // The interval brackets the mean and is reproducible from the seed.
  const e = s.all.finalAccuracy!;
  assert.ok(e.lo! <= e.mean! && e.mean! <= e.hi! && e.lo! < e.hi!);
  assert.deepEqual(summarize(rows, 200, 7).all.finalAccuracy, e);
  assert.notDeepEqual(summarize(rows, 200, 8).all.finalAccuracy, e);
});
