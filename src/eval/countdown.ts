// Countdown scored by TinyZero's rule: the expression in <answer> must use every given number exactly
// once (the integers found in it, sorted, equal the sorted numbers), contain only arithmetic
// characters, and evaluate to the target within 1e-5. Evaluation goes through our own parser.
import { ArithmeticError, evaluateArithmetic } from './arithmetic.js';

export interface CountdownProblem {
  nums: number[];
  target: number;
}

export type CountdownReason = 'ok' | 'empty' | 'characters' | 'numbers' | 'syntax' | 'division-by-zero' | 'value';

export interface CountdownVerdict {
  correct: boolean;
  reason: CountdownReason;
  /** The integers the expression uses, in order of appearance. */
  numbersUsed: number[];
  value?: number;
  detail?: string;
}

const ALLOWED = /^[\d+\-*/().\s]+$/;
const TOLERANCE = 1e-5;

export function scoreCountdown(expression: string, problem: CountdownProblem): CountdownVerdict {
  const expr = expression.trim();
  if (expr === '') return { correct: false, reason: 'empty', numbersUsed: [] };
  if (!ALLOWED.test(expr)) {
    return { correct: false, reason: 'characters', numbersUsed: [], detail: 'only digits, + - * / ( ) and spaces are evaluated' };
  }
  const numbersUsed = (expr.match(/\d+/g) ?? []).map(Number);
  if (!sameMultiset(numbersUsed, problem.nums)) {
    return {
      correct: false,
      reason: 'numbers',
      numbersUsed,
      detail: `uses [${numbersUsed.join(', ')}], must use each of [${problem.nums.join(', ')}] exactly once`,
    };
  }
  let value: number;
  try {
    value = evaluateArithmetic(expr);
  } catch (e) {
    if (e instanceof ArithmeticError) return { correct: false, reason: e.kind, numbersUsed, detail: e.message };
    throw e;
  }
  const correct = Number.isFinite(value) && Math.abs(value - problem.target) < TOLERANCE;
  return { correct, reason: correct ? 'ok' : 'value', numbersUsed, value, ...(correct ? {} : { detail: `equals ${value}, target ${problem.target}` }) };
}

function sameMultiset(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  const x = a.slice().sort((p, q) => p - q);
  const y = b.slice().sort((p, q) => p - q);
  return x.every((v, i) => v === y[i]);
}
