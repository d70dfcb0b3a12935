// Countdown scored exactly as TinyZero's compute_score (verl/utils/reward_score/countdown.py):
// - extract_solution: the last line of the response, the last <answer>...</answer> on it (case-sensitive),
//   stripped of Python whitespace; no answer there scores 0;
// - validate_equation: the integers in it (runs of Unicode digits, as Python's \d), sorted, equal the sorted
//   numbers; otherwise the format score 0.1;
// - evaluate_equation: only expressions matching ^[\d+\-*/().\s]+$ (Python's Unicode \d and \s), evaluated
//   with Python's semantics (src/trace/arithmetic.ts instead of eval): `**`, `//`, decimals allowed; leading
//   zeros, a non-breaking space, an error or a result that is not a number score 0.1;
// - correct (1.0) when abs(value - target) < 1e-5, else 0.1.
// The response is what follows the prompt's "<|im_start|>assistant" marker in TinyZero's solution string.
import { ArithmeticError, evaluateArithmetic, type ArithmeticErrorKind } from './arithmetic.js';
import { approximate, distanceTo } from './pynumber.js';

export interface CountdownProblem {
  nums: number[];
  target: number;
}

export type CountdownReason = 'ok' | 'empty' | 'characters' | 'numbers' | ArithmeticErrorKind | 'value';

export interface CountdownVerdict {
  correct: boolean;
  reason: CountdownReason;
  /** The integers the expression uses, in order of appearance. */
  numbersUsed: number[];
  /** The value as a double (absent when it is not a real number). */
  value?: number;
  detail?: string;
}

/** TinyZero's graded reward: 0 without an answer, 0.1 (format_score) for a wrong one, 1.0 when correct. */
export type CountdownScore = 0 | 0.1 | 1;

export interface CountdownResult {
  score: CountdownScore;
  /** The extracted equation (null: none on the last line). */
  answer: string | null;
  verdict: CountdownVerdict | null;
}

/** Python's str.isspace() characters (what str.strip() removes and re's \s matches on str patterns). */
const PY_SPACE = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const ALLOWED = new RegExp(`^[\\p{Nd}+\\-*/().${PY_SPACE}]+$`, 'u');
const EDGE_SPACE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'gu');
const DIGIT_RUN = /\p{Nd}+/gu;
const IS_DIGIT = /^\p{Nd}$/u;
const TOLERANCE = 1e-5;

/** TinyZero's extract_solution on a response: the last <answer>(.*?)</answer> of its last line, Python-stripped. */
export function tinyZeroAnswer(response: string): string | null {
  const lastLine = response.slice(response.lastIndexOf('\n') + 1);
  let last: string | null = null;
  for (const m of lastLine.matchAll(/<answer>([^\n]*?)<\/answer>/g)) last = m[1]!;
  return last === null ? null : last.replace(EDGE_SPACE, '');
}

/** int() of a run of Unicode decimal digits: each digit's value is its distance from the zero of its block of ten. */
function digitValue(ch: string): number {
  const cp = ch.codePointAt(0)!;
  if (cp < 128) return cp - 48;
  let start = cp;
  while (IS_DIGIT.test(String.fromCodePoint(start - 1))) start--;
  return (cp - start) % 10;
}

function pyInt(run: string): bigint {
  let v = 0n;
  for (const ch of run) v = v * 10n + BigInt(digitValue(ch));
  return v;
}

/** TinyZero's validate_equation and evaluate_equation on one expression. */
export function scoreCountdown(expression: string, problem: CountdownProblem): CountdownVerdict {
  const expr = expression.replace(EDGE_SPACE, '');
  const runs = expr.match(DIGIT_RUN) ?? [];
  const used = runs.map(pyInt);
  const numbersUsed = used.map(Number);
  const want = problem.nums.map((n) => (Number.isInteger(n) ? BigInt(n) : null));
  const sorted = (xs: (bigint | null)[]) => xs.slice().sort((a, b) => (a === null || b === null ? 0 : a < b ? -1 : a > b ? 1 : 0));
  const a = sorted(used);
  const b = sorted(want);
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
    if (expr === '') return { correct: false, reason: 'empty', numbersUsed };
    return { correct: false, reason: 'numbers', numbersUsed, detail: `uses [${numbersUsed.join(', ')}], must use each of [${problem.nums.join(', ')}] exactly once` };
  }
  if (!ALLOWED.test(expr)) return { correct: false, reason: 'characters', numbersUsed, detail: 'only digits, + - * / ( ) . and whitespace are evaluated' };
  try {
    const result = evaluateArithmetic(expr);
    const value = approximate(result);
    const correct = distanceTo(result, problem.target) < TOLERANCE;
    const shown = result.kind === 'complex' ? `(${result.re}${result.im < 0 ? '-' : '+'}${Math.abs(result.im)}j)` : String(value);
    return { correct, reason: correct ? 'ok' : 'value', numbersUsed, ...(Number.isNaN(value) ? {} : { value }), ...(correct ? {} : { detail: `equals ${shown}, target ${problem.target}` }) };
  } catch (e) {
    if (e instanceof ArithmeticError) return { correct: false, reason: e.kind, numbersUsed, detail: e.message };
    throw e;
  }
}

/** TinyZero's compute_score on a response (format_score 0.1, score 1.0). */
export function countdownScore(response: string, problem: CountdownProblem): CountdownResult {
  const answer = tinyZeroAnswer(response);
  if (answer === null) return { score: 0, answer, verdict: null };
  const verdict = scoreCountdown(answer, problem);
  return { score: verdict.correct ? 1 : 0.1, answer, verdict };
}
