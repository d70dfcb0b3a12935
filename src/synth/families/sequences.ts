// Number sequences: arithmetic and geometric terms, series sums, Fibonacci-like rules.
import type { Rng } from '../../util/rng.js';
import type { Family, ProblemSpec } from '../types.js';

const ordinal = (n: number): string => {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${s}`;
};

function arithmeticTerm(rng: Rng): ProblemSpec {
  const a = rng.int(-20, 50);
  const d = rng.pick([-7, -5, -3, -2, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12]);
  const n = rng.int(6, 60);
  const shown = [0, 1, 2, 3].map((i) => a + i * d);
  const t = a + (n - 1) * d;
  return {
    question: rng.pick([
      `The sequence ${shown.join(', ')}, ... continues with the same difference. What is its ${ordinal(n)} term?`,
      `Find term number ${n} of the arithmetic sequence that starts ${shown.join(', ')}.`,
    ]),
    groundTruth: t,
    kind: 'number',
    plan: 'The terms differ by a constant, so the n-th term is first + (n - 1) * difference.',
    logic: [`GIVEN: first = ${a}, diff = ${d}, n = ${n}`, 'DEFINE: term(n) = first + (n - 1) * diff', 'IMPLIES: answer = term(n)'],
    code: [`first, diff, n = ${a}, ${d}, ${n}`, 'print(first + (n - 1) * diff)'],
    steps: [`The common difference is ${d}.`, `Term ${n} = ${a} + ${n - 1} x ${d} = ${t}.`],
    answer: `That term is ${t}.`,
  };
}

function geometricTerm(rng: Rng): ProblemSpec {
  const a = rng.int(1, 9);
  const r = rng.pick([2, 3, -2, 4, 5]);
  const n = rng.int(4, 10);
  const shown = [0, 1, 2].map((i) => a * r ** i);
  const t = a * r ** (n - 1);
  return {
    question: rng.pick([
      `Each term of ${shown.join(', ')}, ... is the previous one times the same number. What is term ${n}?`,
      `What is the ${ordinal(n)} term of the geometric sequence ${shown.join(', ')}, ...?`,
    ]),
    groundTruth: t,
    kind: 'number',
    plan: 'The ratio between terms is constant, so the n-th term is first * ratio ** (n - 1).',
    logic: [`GIVEN: first = ${a}, ratio = ${r}, n = ${n}`, 'DEFINE: term(n) = first * ratio ** (n - 1)', 'IMPLIES: answer = term(n)'],
    code: [`first, ratio, n = ${a}, ${r}, ${n}`, 'print(first * ratio ** (n - 1))'],
    steps: [`The ratio is ${r}.`, `Term ${n} = ${a} x ${r}^${n - 1} = ${t}.`],
    answer: `That term is ${t}.`,
  };
}

function series(rng: Rng): ProblemSpec {
  const a = rng.int(1, 30);
  const d = rng.int(1, 9);
  const n = rng.int(5, 40);
  const s = (n * (2 * a + (n - 1) * d)) / 2;
  return {
    question: rng.pick([
      `What is the sum of the first ${n} terms of ${a}, ${a + d}, ${a + 2 * d}, ...?`,
      `A stack has ${a} cans in the top row and each row below has ${d} more. How many cans are in ${n} rows?`,
    ]),
    groundTruth: s,
    kind: 'number',
    plan: 'Add up the terms of an arithmetic sequence; the code sums them directly.',
    logic: [`GIVEN: first = ${a}, diff = ${d}, n = ${n}`, 'DEFINE: term(k) = first + k * diff', 'IMPLIES: total = sum(term(k) for k in 0..n-1)'],
    code: [`first, diff, n = ${a}, ${d}, ${n}`, 'print(sum(first + k * diff for k in range(n)))'],
    steps: [`The last term is ${a + (n - 1) * d}.`, `Sum = ${n} x (${a} + ${a + (n - 1) * d}) / 2 = ${s}.`],
    answer: `The total is ${s}.`,
  };
}

function fibonacciLike(rng: Rng): ProblemSpec {
  const x = rng.int(1, 9);
  const y = rng.int(1, 12);
  const n = rng.int(6, 15);
  const terms = [x, y];
  while (terms.length < n) terms.push(terms[terms.length - 1]! + terms[terms.length - 2]!);
  const t = terms[n - 1]!;
  return {
    question: `A sequence starts ${x}, ${y} and each later term is the sum of the two before it. What is the ${ordinal(n)} term?`,
    groundTruth: t,
    kind: 'number',
    plan: 'Build the sequence term by term until the requested position.',
    logic: [`GIVEN: t1 = ${x}, t2 = ${y}, n = ${n}`, 'DEFINE: t(k) = t(k - 1) + t(k - 2)', 'IMPLIES: answer = t(n)'],
    code: [`a, b = ${x}, ${y}`, `for _ in range(${n - 2}):`, '    a, b = b, a + b', 'print(b)'],
    steps: [`The terms are ${terms.join(', ')}.`],
    answer: `That term is ${t}.`,
  };
}

export const sequences: Family = {
  name: 'sequences',
  description: 'arithmetic, geometric and recursive sequences',
  generate: (rng) => rng.pick([arithmeticTerm, geometricTerm, series, fibonacciLike])(rng),
};
