// Ordering puzzles: a few comparisons fix a unique order; the code enumerates every permutation.
import type { Rng } from '../../util/rng.js';
import type { Family, ProblemSpec } from '../types.js';
import { pickNames } from './util.js';

interface Theme {
  /** "X is ${more} than Y" means X comes earlier in the order. */
  more: string;
  less: string;
  first: string;
  last: string;
}

const THEMES: Theme[] = [
  { more: 'taller', less: 'shorter', first: 'tallest', last: 'shortest' },
  { more: 'older', less: 'younger', first: 'oldest', last: 'youngest' },
  { more: 'faster', less: 'slower', first: 'fastest', last: 'slowest' },
  { more: 'heavier', less: 'lighter', first: 'heaviest', last: 'lightest' },
];

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  const out: T[][] = [];
  items.forEach((x, i) => {
    for (const rest of permutations([...items.slice(0, i), ...items.slice(i + 1)])) out.push([x, ...rest]);
  });
  return out;
}

type Clue = [string, string]; // [earlier, later]

const satisfies = (order: string[], clues: Clue[]): boolean => clues.every(([a, b]) => order.indexOf(a) < order.indexOf(b));

function ordering(rng: Rng): ProblemSpec {
  const n = rng.int(3, 5);
  const people = pickNames(rng, n);
  const truth = rng.shuffle(people);
  const theme = rng.pick(THEMES);
  // Every true pair is a candidate clue; add clues in random order until only one order fits.
  const candidates: Clue[] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) candidates.push([truth[i]!, truth[j]!]);
  const clues: Clue[] = [];
  const all = permutations(people);
  for (const c of rng.shuffle(candidates)) {
    if (all.filter((o) => satisfies(o, clues)).length === 1) break;
    clues.push(c);
  }
  // Drop clues that the others already imply, so the puzzle stays short.
  for (let i = clues.length - 1; i >= 0; i--) {
    const without = clues.filter((_, k) => k !== i);
    if (all.filter((o) => satisfies(o, without)).length === 1) clues.splice(i, 1);
  }
  const askFirst = rng.next() < 0.5;
  const ask = askFirst ? theme.first : theme.last;
  const answer = askFirst ? truth[0]! : truth[n - 1]!;
  const sentences = clues.map(([a, b]) => (rng.next() < 0.5 ? `${a} is ${theme.more} than ${b}.` : `${b} is ${theme.less} than ${a}.`));
  const cond = clues.map(([a, b]) => `p["${a}"] < p["${b}"]`).join(' and ');
  return {
    question: rng.pick([
      `${sentences.join(' ')} Who is the ${ask}?`,
      `Among ${people.slice(0, -1).join(', ')} and ${people[n - 1]}: ${sentences.join(' ')} Which of them is the ${ask}?`,
    ]),
    groundTruth: answer,
    kind: 'text',
    plan: `Each clue orders two people. Try every ordering from ${theme.first} to ${theme.last} and keep the one that satisfies all clues.`,
    logic: [
      `DEFINE: order = a ranking from ${theme.first} to ${theme.last}`,
      `GIVEN: ${clues.map(([a, b]) => `${a} before ${b}`).join(', ')}`,
      'REQUIRE: order satisfies every clue',
      `IMPLIES: ${ask} = order[${askFirst ? 0 : -1}]`,
    ],
    code: [
      'from itertools import permutations',
      `for order in permutations(${JSON.stringify(people).replace(/,/g, ', ')}):`,
      '    p = {name: i for i, name in enumerate(order)}',
      `    if ${cond}:`,
      `        print(order[${askFirst ? 0 : -1}])`,
      '        break',
    ],
    steps: [`Putting the clues together, the order from ${theme.first} to ${theme.last} is ${truth.join(', ')}.`],
    answer: `${answer} is the ${ask}.`,
  };
}

export const logic: Family = {
  name: 'logic',
  description: 'ordering puzzles solved by enumerating permutations',
  generate: ordering,
};
