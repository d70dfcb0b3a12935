// Countdown (as in TinyZero): reach a target with + - * / using each given number once.
// The Python searches for an expression; solveCountdown mirrors its search order exactly so the
// <answer> section states the very expression the program prints.
import type { Rng } from '../../util/rng.js';
import type { Family, ProblemSpec } from '../types.js';

type Item = [number, string];

/** Depth-first search combining two items at a time; the same order as the Python in the trace. */
export function solveCountdown(nums: readonly number[], target: number): string | null {
  const search = (items: Item[]): string | null => {
    if (items.length === 1) return Math.abs(items[0]![0] - target) < 1e-9 ? items[0]![1] : null;
    for (let i = 0; i < items.length; i++) {
      for (let j = 0; j < items.length; j++) {
        if (i === j) continue;
        const [a, ea] = items[i]!;
        const [b, eb] = items[j]!;
        const rest = items.filter((_, k) => k !== i && k !== j);
        const options: Item[] = [[a + b, `(${ea}+${eb})`], [a - b, `(${ea}-${eb})`], [a * b, `(${ea}*${eb})`]];
        if (b !== 0) options.push([a / b, `(${ea}/${eb})`]);
        for (const o of options) {
          const r = search([...rest, o]);
          if (r) return r;
        }
      }
    }
    return null;
  };
  return search(nums.map((n) => [n, String(n)]));
}

/** Picks numbers and builds a random expression over all of them, so a solution exists. */
function makeProblem(rng: Rng): { nums: number[]; target: number } {
  for (;;) {
    const count = rng.int(3, 4);
    const nums = Array.from({ length: count }, () => (rng.next() < 0.25 ? rng.pick([25, 50, 75, 100]) : rng.int(1, 12)));
    let pool = nums.slice();
    while (pool.length > 1) {
      pool = rng.shuffle(pool);
      const a = pool.pop()!;
      const b = pool.pop()!;
      const op = rng.int(0, 3);
      const v = op === 0 ? a + b : op === 1 ? a - b : op === 2 ? a * b : b !== 0 && a % b === 0 ? a / b : a + b;
      pool.push(v);
    }
    const target = pool[0]!;
    if (Number.isInteger(target) && target >= 10 && target <= 999) return { nums, target };
  }
}

function countdownProblem(rng: Rng): ProblemSpec {
  const { nums, target } = makeProblem(rng);
  const expr = solveCountdown(nums, target);
  if (!expr) throw new Error(`countdown: no expression found for ${nums.join(',')} -> ${target}`);
  const list = nums.join(', ');
  return {
    question: rng.pick([
      `Using the numbers ${list} exactly once each and the operations + - * /, make ${target}.`,
      `Countdown: reach ${target} from ${list}. Use every number once with +, -, * and /.`,
      `Write an arithmetic expression equal to ${target} that uses each of ${list} exactly once.`,
    ]),
    groundTruth: target,
    kind: 'countdown',
    countdown: { nums, target },
    plan: 'Search over ways to combine two numbers at a time with + - * / until one expression that uses every number reaches the target.',
    logic: [
      `GIVEN: nums = [${list}], target = ${target}`,
      'REQUIRE: each number used exactly once',
      'DEFINE: combine(a, b) in {a+b, a-b, a*b, a/b}',
      'IMPLIES: answer = an expression with value target',
    ],
    code: [
      `nums, target = [${list}], ${target}`,
      'def search(items):',
      '    if len(items) == 1:',
      '        return items[0][1] if abs(items[0][0] - target) < 1e-9 else None',
      '    for i, (a, ea) in enumerate(items):',
      '        for j, (b, eb) in enumerate(items):',
      '            if i == j: continue',
      '            rest = [x for k, x in enumerate(items) if k not in (i, j)]',
      '            ops = [(a + b, "+"), (a - b, "-"), (a * b, "*")] + ([(a / b, "/")] if b else [])',
      '            for v, op in ops:',
      '                r = search(rest + [(v, f"({ea}{op}{eb})")])',
      '                if r: return r',
      'print(search([(n, str(n)) for n in nums]))',
    ],
    steps: [`Trying combinations of ${list}, the expression ${expr} gives ${target}.`],
    answer: expr,
  };
}

export const countdown: Family = {
  name: 'countdown',
  description: 'Countdown number puzzles (reach the target with + - * /)',
  generate: countdownProblem,
};
