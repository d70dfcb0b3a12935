// Multi-step arithmetic word problems with integer answers.
import type { Rng } from '../../util/rng.js';
import type { Family, ProblemSpec } from '../types.js';
import { NAMES, pickNames } from './util.js';

const ITEMS = ['pencil', 'sticker', 'marble', 'cookie', 'stamp', 'card', 'bead', 'apple'];
// [singular, plural, lowest price, highest price]
const GOODS: Array<[string, string, number, number]> = [
  ['notebook', 'notebooks', 2, 6], ['pen', 'pens', 1, 4], ['sandwich', 'sandwiches', 4, 9],
  ['mug', 'mugs', 5, 12], ['book', 'books', 8, 20], ['ticket', 'tickets', 6, 15],
];

function share(rng: Rng): ProblemSpec {
  const [name] = pickNames(rng, 1);
  const item = rng.pick(ITEMS);
  const packs = rng.int(2, 9);
  const perPack = rng.int(6, 24);
  const friends = rng.int(2, 6);
  const total = packs * perPack;
  let givenAway = (total % friends) + friends * rng.int(0, 2);
  if (givenAway >= total) givenAway = total % friends;
  const each = (total - givenAway) / friends;
  const question = rng.pick([
    `${name} buys ${packs} packs of ${perPack} ${item}s and gives away ${givenAway}. The rest are shared equally among ${friends} friends. How many ${item}s does each friend get?`,
    `There are ${perPack} ${item}s in a pack. ${name} has ${packs} packs, gives ${givenAway} ${item}s to a neighbour, then splits the others evenly between ${friends} friends. How many does each friend receive?`,
  ]);
  return {
    question,
    groundTruth: each,
    kind: 'number',
    plan: `Find how many ${item}s are left after giving some away, then divide them among the friends.`,
    logic: [
      `GIVEN: packs = ${packs}, per_pack = ${perPack}, given_away = ${givenAway}, friends = ${friends}`,
      'DEFINE: left = packs * per_pack - given_away',
      'REQUIRE: left % friends == 0',
      'IMPLIES: each = left / friends',
    ],
    code: [
      `packs, per_pack, given_away, friends = ${packs}, ${perPack}, ${givenAway}, ${friends}`,
      'left = packs * per_pack - given_away',
      'print(left // friends)',
    ],
    steps: [
      `${name} starts with ${packs} x ${perPack} = ${total} ${item}s.`,
      `After giving away ${givenAway}, ${total - givenAway} are left.`,
      `Split among ${friends} friends: ${total - givenAway} / ${friends} = ${each}.`,
    ],
    answer: `Each friend gets ${each} ${item}s.`,
  };
}

function change(rng: Rng): ProblemSpec {
  const [name] = pickNames(rng, 1);
  const [g1, g2] = rng.shuffle(GOODS);
  const a = rng.int(2, 6);
  const b = rng.int(1, 5);
  const p1 = rng.int(g1![2], g1![3]);
  const p2 = rng.int(g2![2], g2![3]);
  const cost = a * p1 + b * p2;
  const bill = [20, 50, 100, 200].find((x) => x > cost) ?? Math.ceil((cost + 1) / 100) * 100;
  const result = bill - cost;
  const question = rng.pick([
    `${name} buys ${a} ${g1![1]} at $${p1} each and ${b} ${g2![1]} at $${p2} each, paying with a $${bill} bill. How much change does ${name} get?`,
    `A ${g1![0]} costs $${p1} and a ${g2![0]} costs $${p2}. ${name} pays for ${a} ${g1![1]} and ${b} ${g2![1]} with $${bill}. What is the change in dollars?`,
  ]);
  return {
    question,
    groundTruth: result,
    kind: 'number',
    plan: 'Add up the cost of both purchases, then subtract it from the money paid.',
    logic: [
      `GIVEN: a = ${a}, p1 = ${p1}, b = ${b}, p2 = ${p2}, paid = ${bill}`,
      'DEFINE: cost = a * p1 + b * p2',
      'REQUIRE: paid >= cost',
      'IMPLIES: change = paid - cost',
    ],
    code: [`a, p1, b, p2, paid = ${a}, ${p1}, ${b}, ${p2}, ${bill}`, 'cost = a * p1 + b * p2', 'print(paid - cost)'],
    steps: [
      `The ${g1![1]} cost ${a} x $${p1} = $${a * p1} and the ${g2![1]} cost ${b} x $${p2} = $${b * p2}.`,
      `Together that is $${cost}.`,
      `The change is $${bill} - $${cost} = $${result}.`,
    ],
    answer: `The change is $${result}.`,
  };
}

function savings(rng: Rng): ProblemSpec {
  const name = rng.pick(NAMES);
  const start = rng.int(2, 40) * 5;
  const weekly = rng.int(3, 25);
  const weeks = rng.int(3, 12);
  const spent = rng.int(1, Math.floor((start + weekly * weeks) / 10)) * 5;
  const left = start + weekly * weeks - spent;
  const question = rng.pick([
    `${name} has $${start} saved and adds $${weekly} every week. After ${weeks} weeks, ${name} spends $${spent} on a gift. How much money is left?`,
    `Starting with $${start}, ${name} saves $${weekly} per week for ${weeks} weeks and then buys a bike part for $${spent}. How many dollars remain?`,
  ]);
  return {
    question,
    groundTruth: left,
    kind: 'number',
    plan: 'Add the weekly savings to the starting amount, then subtract the purchase.',
    logic: [
      `GIVEN: start = ${start}, weekly = ${weekly}, weeks = ${weeks}, spent = ${spent}`,
      'DEFINE: saved = start + weekly * weeks',
      'REQUIRE: saved >= spent',
      'IMPLIES: left = saved - spent',
    ],
    code: [`start, weekly, weeks, spent = ${start}, ${weekly}, ${weeks}, ${spent}`, 'print(start + weekly * weeks - spent)'],
    steps: [
      `Savings grow by ${weekly} x ${weeks} = $${weekly * weeks}, to $${start + weekly * weeks}.`,
      `After spending $${spent}, $${left} is left.`,
    ],
    answer: `There is $${left} left.`,
  };
}

function orchard(rng: Rng): ProblemSpec {
  const [crop, unit] = rng.pick([['apple trees', 'trees'], ['tomato plants', 'plants'], ['rose bushes', 'bushes'], ['sunflowers', 'sunflowers']] as const);
  const rows = rng.int(3, 15);
  const perRow = rng.int(4, 20);
  const lost = rng.int(1, Math.floor((rows * perRow) / 3));
  const added = rng.int(0, 30);
  const total = rows * perRow - lost + added;
  const question = rng.pick([
    `A garden has ${rows} rows of ${perRow} ${crop}. ${lost} are removed and ${added} new ones are added. How many ${unit} are there now?`,
    `There are ${rows} rows with ${perRow} ${crop} in each. If ${lost} are taken away and ${added} more are put in, how many ${unit} are there in total?`,
  ]);
  return {
    question,
    groundTruth: total,
    kind: 'number',
    plan: `Count the ${unit} in the full rows, then apply the removals and additions.`,
    logic: [
      `GIVEN: rows = ${rows}, per_row = ${perRow}, removed = ${lost}, added = ${added}`,
      'DEFINE: start = rows * per_row',
      'IMPLIES: total = start - removed + added',
    ],
    code: [`rows, per_row, removed, added = ${rows}, ${perRow}, ${lost}, ${added}`, 'print(rows * per_row - removed + added)'],
    steps: [
      `The rows hold ${rows} x ${perRow} = ${rows * perRow} ${unit}.`,
      `${rows * perRow} - ${lost} + ${added} = ${total}.`,
    ],
    answer: `There are ${total} ${unit} now.`,
  };
}

export const arithmetic: Family = {
  name: 'arithmetic',
  description: 'multi-step arithmetic word problems',
  generate: (rng) => rng.pick([share, change, savings, orchard])(rng),
};
