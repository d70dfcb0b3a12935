import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { evaluateArithmetic } from '../../src/trace/arithmetic.js';
import { countdownScore, scoreCountdown, tinyZeroAnswer } from '../../src/trace/countdown.js';
import { approximate, MAX_INT_BITS } from '../../src/trace/pynumber.js';
import { fromRoot } from '../../src/util/paths.js';

const golden = (name: string) => JSON.parse(readFileSync(fromRoot('test', 'trace', 'golden', name), 'utf8'));
const cases = golden('countdown-cases.json').cases as { id: string; note: string; response: string; nums: number[]; target: number }[];
const committed = golden('countdown-tinyzero.json').scores as Record<string, number>;

/** TinyZero's verdicts: recomputed by its rule in Python when python3 is here, else the committed goldens. */
function referenceScores(): { scores: Record<string, number>; by: string } {
  const run = spawnSync('python3', [fromRoot('scripts', 'golden_countdown.py'), '--stdout'], { encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0) return { scores: committed, by: 'committed goldens (python3 unavailable)' };
  return { scores: JSON.parse(run.stdout) as Record<string, number>, by: 'scripts/golden_countdown.py' };
}

test('countdown: TinyZero compute_score on every crafted case (0 / 0.1 / 1)', () => {
  assert.ok(cases.length >= 40, `${cases.length} cases`);
  const { scores, by } = referenceScores();
  assert.deepEqual(scores, committed, 'the committed goldens are what the script computes now');
  const wrong = cases.filter((c) => countdownScore(c.response, c) .score !== scores[c.id]);
  assert.deepEqual(
    wrong.map((c) => `${c.id} (${c.note}): unitrace ${countdownScore(c.response, c).score}, TinyZero ${scores[c.id]}`),
    [],
    `reference: ${by}`,
  );
  // The cases cover all three scores.
  assert.deepEqual([...new Set(Object.values(scores))].sort(), [0, 0.1, 1]);
});

test('countdown: the extracted answer is the last one on the last line, stripped of Python whitespace', () => {
  assert.equal(tinyZeroAnswer('<answer>1</answer>\n<answer> 2 </answer> <answer>\u00a03\u3000</answer>'), '3');
  assert.equal(tinyZeroAnswer('<answer>1</answer>\n'), null);
  assert.equal(tinyZeroAnswer('<Answer>1</Answer>'), null);
});

test('arithmetic: Python values, exact integers, correctly rounded division', () => {
  const v = (s: string) => evaluateArithmetic(s);
  assert.deepEqual(v('2 + 3 * 4'), { kind: 'int', v: 14n });
  assert.deepEqual(v('-3 - -4'), { kind: 'int', v: 1n });
  assert.deepEqual(v('7 / 2'), { kind: 'float', v: 3.5 });
  assert.deepEqual(v('-7 // 2'), { kind: 'int', v: -4n });
  assert.deepEqual(v('-2 ** 2'), { kind: 'int', v: -4n });
  assert.deepEqual(v('2 ** 3 ** 2'), { kind: 'int', v: 512n });
  assert.deepEqual(v('2 ** -2'), { kind: 'float', v: 0.25 });
  assert.equal(approximate(v('(10 ** 30 + 1) / 10 ** 15')), 1e15); // exact quotient, then rounded once
  assert.equal(v('(-1) ** 0.5').kind, 'complex');
  assert.deepEqual(v('-7.5 // 2'), { kind: 'float', v: -4 });
});

test('arithmetic: errors keep their Python kind and offset', () => {
  const kind = (s: string) => {
    try {
      evaluateArithmetic(s);
      return 'ok';
    } catch (e) {
      assert.match((e as Error).message, /offset \d+/);
      return (e as { kind: string }).kind;
    }
  };
  assert.equal(kind('2 +'), 'syntax');
  assert.equal(kind('007'), 'syntax');
  assert.equal(kind('1 / 0 + ('), 'syntax', 'parsed before evaluated, as Python compiles first');
  assert.equal(kind('1 / 0'), 'division-by-zero');
  assert.equal(kind('1.5 // 0'), 'division-by-zero');
  assert.equal(kind('10.0 ** 400'), 'overflow');
  assert.equal(kind('()'), 'type');
  assert.equal(kind('(1 + 2j)'), 'syntax');
});

test('arithmetic: safety limits refuse what Python would grind through', () => {
  const limit = (s: string) => assert.throws(() => evaluateArithmetic(s), (e: Error & { kind?: string }) => e.kind === 'limit' || e.kind === 'syntax', s.slice(0, 30));
  limit('9 ** 9 ** 9'); // 9**387420489 has over a billion bits
  limit(`2 ** ${MAX_INT_BITS + 1}`);
  limit('-'.repeat(5000) + '1');
  limit('1' + '+1'.repeat(5000));
  limit('('.repeat(100000) + '1' + ')'.repeat(100000));
  const start = performance.now();
  assert.equal(scoreCountdown('9 ** 9 ** 9', { nums: [9, 9, 9], target: 1 }).reason, 'limit');
  assert.ok(performance.now() - start < 1000);
});

test('countdown: numbers are checked before the expression is evaluated, as TinyZero does', () => {
  const p = { nums: [4, 6, 2, 8], target: 24 };
  assert.equal(scoreCountdown("__import__('os').system('id')", p).reason, 'numbers');
  assert.equal(scoreCountdown('4 * 6 * (8 - 2) / x', { nums: [4, 6, 8, 2], target: 24 }).reason, 'characters');
  assert.equal(scoreCountdown('', p).reason, 'empty');
  const good = scoreCountdown(' 3 * 25 - 7 - 5 ', { nums: [25, 5, 3, 7], target: 63 });
  assert.deepEqual([good.correct, good.reason, good.numbersUsed, good.value], [true, 'ok', [3, 25, 7, 5], 63]);
});
