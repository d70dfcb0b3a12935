import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateArithmetic } from '../../src/eval/arithmetic.js';
import { scoreCountdown } from '../../src/eval/countdown.js';

const problem = { nums: [25, 5, 3, 7], target: 67 };

test('arithmetic: precedence, unary minus, parentheses, true division', () => {
  assert.equal(evaluateArithmetic('2 + 3 * 4'), 14);
  assert.equal(evaluateArithmetic('(2 + 3) * 4'), 20);
  assert.equal(evaluateArithmetic('-3 - -4'), 1);
  assert.equal(evaluateArithmetic('7 / 2'), 3.5);
  assert.equal(evaluateArithmetic('100 - 20 - 30'), 50);
  assert.equal(evaluateArithmetic('64 / 4 / 2'), 8);
});

test('arithmetic: syntax errors and operators outside the game are rejected', () => {
  for (const bad of ['2 +', '(2 + 3', '2 3', '2 ** 3', '7 // 2', '1.5 + 2', '()', '']) {
    assert.throws(() => evaluateArithmetic(bad), /offset/, bad);
  }
  assert.throws(() => evaluateArithmetic('('.repeat(100000) + '1' + ')'.repeat(100000)), /nested too deeply/);
});

test('countdown: a correct expression, numbers in any order; a wrong value', () => {
  const good = scoreCountdown(' 3 * 25 - 7 - 5 ', { nums: [25, 5, 3, 7], target: 63 });
  assert.deepEqual([good.correct, good.reason, good.numbersUsed, good.value], [true, 'ok', [3, 25, 7, 5], 63]);
  const wrong = scoreCountdown('(25 - 7) * 3 + 5', problem);
  assert.deepEqual([wrong.correct, wrong.reason, wrong.value], [false, 'value', 59]);
});

test('countdown: a number used twice, a missing number, division by zero, __import__', () => {
  const p = { nums: [4, 6, 2, 8], target: 24 };
  assert.deepEqual(pick(scoreCountdown('6 * 4 * 2 / 2', p)), [false, 'numbers'], 'a number used twice');
  assert.deepEqual(pick(scoreCountdown('6 * 4', p)), [false, 'numbers'], 'missing numbers');
  assert.deepEqual(pick(scoreCountdown('6 * 4 + 8 / (2 - 2)', { nums: [6, 4, 8, 2, 2], target: 24 })), [false, 'division-by-zero']);
  assert.deepEqual(pick(scoreCountdown("__import__('os').system('id')", p)), [false, 'characters']);
  assert.deepEqual(pick(scoreCountdown('(8 - 6 + 2) * 4 + 8', { nums: [8, 6, 2, 4, 8], target: 24 })), [true, 'ok']);
  assert.deepEqual(pick(scoreCountdown('6 * 4 = 24', { nums: [6, 4], target: 24 })), [false, 'characters'], '"= 24" is not arithmetic');
  assert.deepEqual(pick(scoreCountdown('   ', p)), [false, 'empty']);
});

test('countdown: the value must be within 1e-5 of the target', () => {
  assert.equal(scoreCountdown('1 / 3 * 3', { nums: [1, 3, 3], target: 1 }).correct, true);
  assert.equal(scoreCountdown('10 / 3', { nums: [10, 3], target: 3.33333 }).correct, true);
  assert.equal(scoreCountdown('10 / 3', { nums: [10, 3], target: 3.3333 }).correct, false);
});

function pick(v: { correct: boolean; reason: string }): [boolean, string] {
  return [v.correct, v.reason];
}
