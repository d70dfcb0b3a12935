// Plain Python exercises for the embedded model's pretraining: a task stated in words with its
// quantities, and a short program that takes those quantities from the text. Written in the offline
// teacher's style (one tuple assignment of the givens, then the computation, then print) so the
// copy-the-numbers skill carries over to the <code> section SFT teaches.
import type { Rng } from '../../src/util/rng.js';
import { NAMES } from '../../src/synth/families/util.js';

export interface ProgramExercise {
  prompt: string;
  /** Python source without a fence. */
  code: string;
}

const VARS = ['a', 'b', 'c', 'd', 'x', 'y', 'n', 'm', 'k', 'total', 'count', 'price', 'width', 'height', 'speed', 'rate'];
const THINGS = ['boxes', 'coins', 'seeds', 'books', 'chairs', 'bottles', 'tiles', 'eggs', 'shells', 'bricks'];
const WORDS = ['lantern', 'meadow', 'copper', 'violin', 'harbor', 'pepper', 'glacier', 'orchid', 'falcon', 'quartz', 'ribbon', 'walnut'];

/** A number of the kind the families use: mostly small integers, sometimes large or with decimals. */
function quantity(rng: Rng): number {
  const r = rng.next();
  if (r < 0.55) return rng.int(1, 99);
  if (r < 0.8) return rng.int(100, 999);
  if (r < 0.9) return rng.int(1000, 9999);
  return rng.int(1, 999) / 10;
}
const list = (rng: Rng, lo: number, hi: number): number[] => Array.from({ length: rng.int(lo, hi) }, () => quantity(rng));
const names = (rng: Rng, n: number): string[] => rng.shuffle(VARS).slice(0, n);

const write = (rng: Rng, task: string): string =>
  rng.pick([`Write a Python program that ${task}.`, `Write Python code that ${task}.`, `Give a short Python script that ${task}.`, `In Python, write a program that ${task}.`]);

const makers: Array<(rng: Rng) => ProgramExercise> = [
  (rng) => {
    const vals = list(rng, 2, 4);
    const vs = names(rng, vals.length);
    return { prompt: write(rng, `prints the sum of ${vals.slice(0, -1).join(', ')} and ${vals[vals.length - 1]}`), code: `${vs.join(', ')} = ${vals.join(', ')}\nprint(${vs.join(' + ')})` };
  },
  (rng) => {
    const [a, b] = [quantity(rng), quantity(rng)];
    const [x, y] = names(rng, 2);
    const op = rng.pick([['product', '*'], ['difference', '-'], ['quotient', '/']] as const);
    return { prompt: write(rng, `prints the ${op[0]} of ${a} and ${b}`), code: `${x}, ${y} = ${a}, ${b}\nprint(${x} ${op[1]} ${y})` };
  },
  (rng) => {
    const nums = list(rng, 3, 7);
    const f = rng.pick([['average', 'sum(nums) / len(nums)'], ['largest value', 'max(nums)'], ['smallest value', 'min(nums)'], ['total', 'sum(nums)'], ['sorted order', 'sorted(nums)']] as const);
    return { prompt: write(rng, `prints the ${f[0]} of the numbers ${nums.join(', ')}`), code: `nums = [${nums.join(', ')}]\nprint(${f[1]})` };
  },
  (rng) => {
    const start = rng.int(0, 20);
    const stop = start + rng.int(5, 60);
    const step = rng.int(1, 7);
    return { prompt: write(rng, `prints the numbers from ${start} to ${stop} in steps of ${step}`), code: `start, stop, step = ${start}, ${stop}, ${step}\nfor i in range(start, stop + 1, step):\n    print(i)` };
  },
  (rng) => {
    const [w, h] = [rng.int(2, 300), rng.int(2, 300)];
    const shape = rng.pick([['area', 'w * h'], ['perimeter', '2 * (w + h)']] as const);
    return {
      prompt: write(rng, `defines a function for the ${shape[0]} of a rectangle and prints it for width ${w} and height ${h}`),
      code: `def ${shape[0]}(w, h):\n    return ${shape[1]}\n\nwidth, height = ${w}, ${h}\nprint(${shape[0]}(width, height))`,
    };
  },
  (rng) => {
    const name = rng.pick(NAMES);
    const thing = rng.pick(THINGS);
    const [have, each, groups] = [rng.int(2, 500), rng.int(2, 40), rng.int(2, 30)];
    return {
      prompt: write(rng, `works out how many ${thing} ${name} has after starting with ${have} and receiving ${groups} bags of ${each}`),
      code: `have, bags, per_bag = ${have}, ${groups}, ${each}\nprint(have + bags * per_bag)`,
    };
  },
  (rng) => {
    const n = rng.int(2, 25);
    const f = rng.pick([['factorial', 'result = 1\nfor i in range(1, n + 1):\n    result *= i\nprint(result)'], ['sum of the squares from 1 to', 'print(sum(i * i for i in range(1, n + 1)))'], ['list of even numbers up to', 'print([i for i in range(0, n + 1, 2)])']] as const);
    return { prompt: write(rng, `prints the ${f[0]} ${n}`), code: `n = ${n}\n${f[1]}` };
  },
  (rng) => {
    const word = rng.pick(WORDS) + rng.pick(['', 's', 'ing', 'er']);
    const f = rng.pick([['reversed', 'word[::-1]'], ['in upper case', 'word.upper()'], ['length of', 'len(word)'], ['number of vowels in', 'sum(ch in "aeiou" for ch in word)']] as const);
    return { prompt: write(rng, `prints the ${f[0]} the word "${word}"`.replace('reversed the', 'reversed form of the').replace('in upper case the', 'upper-case form of the')), code: `word = "${word}"\nprint(${f[1]})` };
  },
  (rng) => {
    const [hours, minutes] = [rng.int(0, 40), rng.int(0, 59)];
    return { prompt: write(rng, `converts ${hours} hours and ${minutes} minutes into minutes`), code: `hours, minutes = ${hours}, ${minutes}\nprint(hours * 60 + minutes)` };
  },
  (rng) => {
    const price = rng.int(2, 900);
    const pct = rng.pick([5, 8, 10, 12, 15, 20, 25, 30]);
    const qty = rng.int(1, 12);
    return { prompt: write(rng, `prints the cost of ${qty} items at $${price} each with ${pct}% tax added`), code: `qty, price, tax = ${qty}, ${price}, ${pct / 100}\nprint(round(qty * price * (1 + tax), 2))` };
  },
  (rng) => {
    const nums = list(rng, 4, 8).map((x) => Math.round(x));
    const t = rng.int(1, 120);
    return { prompt: write(rng, `counts how many of ${nums.join(', ')} are greater than ${t}`), code: `nums, limit = [${nums.join(', ')}], ${t}\nprint(sum(1 for x in nums if x > limit))` };
  },
  (rng) => {
    const [a, b] = [rng.int(2, 400), rng.int(2, 400)];
    return { prompt: write(rng, `prints the greatest common divisor of ${a} and ${b}`), code: `import math\na, b = ${a}, ${b}\nprint(math.gcd(a, b))` };
  },
];

/** One exercise from a randomly chosen template. */
export function programExercise(rng: Rng): ProgramExercise {
  return rng.pick(makers)(rng);
}
