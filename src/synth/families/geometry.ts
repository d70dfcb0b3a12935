// Geometry: areas, perimeters, volumes and the Pythagorean theorem, in varied units.
import type { Rng } from '../../util/rng.js';
import type { Family, ProblemSpec } from '../types.js';
import { fmt, round } from './util.js';

const UNITS = ['cm', 'm', 'inches', 'feet', 'mm'];

function triangle(rng: Rng): ProblemSpec {
  const base = rng.int(2, 40);
  const height = rng.int(2, 30);
  const u = rng.pick(UNITS);
  const area = (base * height) / 2;
  return {
    question: rng.pick([
      `Find the area of a triangle with base ${base} ${u} and height ${height} ${u}.`,
      `A triangular sign is ${base} ${u} wide at the base and ${height} ${u} tall. What is its area in square ${u}?`,
    ]),
    groundTruth: area,
    kind: 'number',
    plan: 'The area of a triangle is half of base times height.',
    logic: [`DEFINE: area = (base * height) / 2`, `GIVEN: base = ${base}, height = ${height}`, 'REQUIRE: base > 0 AND height > 0', 'IMPLIES: area = base * height / 2'],
    code: [`base, height = ${base}, ${height}`, 'area = base * height / 2', 'print(area)'],
    steps: [`Area = ${base} x ${height} / 2 = ${fmt(area)}.`],
    answer: `The area is ${fmt(area)} square ${u}.`,
  };
}

function rectangle(rng: Rng): ProblemSpec {
  const w = rng.int(2, 60);
  const l = rng.int(w, 90);
  const u = rng.pick(UNITS);
  if (rng.next() < 0.5) {
    const p = 2 * (w + l);
    return {
      question: rng.pick([
        `A rectangle is ${l} ${u} long and ${w} ${u} wide. What is its perimeter?`,
        `How much fencing, in ${u}, goes around a rectangular pen measuring ${l} by ${w} ${u}?`,
      ]),
      groundTruth: p,
      kind: 'number',
      plan: 'The perimeter of a rectangle is twice the sum of its length and width.',
      logic: [`DEFINE: perimeter = 2 * (length + width)`, `GIVEN: length = ${l}, width = ${w}`, 'IMPLIES: perimeter = 2 * (length + width)'],
      code: [`length, width = ${l}, ${w}`, 'print(2 * (length + width))'],
      steps: [`Perimeter = 2 x (${l} + ${w}) = ${p}.`],
      answer: `The perimeter is ${p} ${u}.`,
    };
  }
  const a = w * l;
  return {
    question: rng.pick([
      `What is the area of a rectangle that is ${l} ${u} by ${w} ${u}?`,
      `A rectangular rug measures ${l} ${u} long and ${w} ${u} wide. How many square ${u} does it cover?`,
    ]),
    groundTruth: a,
    kind: 'number',
    plan: 'The area of a rectangle is length times width.',
    logic: [`DEFINE: area = length * width`, `GIVEN: length = ${l}, width = ${w}`, 'IMPLIES: area = length * width'],
    code: [`length, width = ${l}, ${w}`, 'print(length * width)'],
    steps: [`Area = ${l} x ${w} = ${a}.`],
    answer: `The area is ${a} square ${u}.`,
  };
}

function circle(rng: Rng): ProblemSpec {
  const r = rng.int(1, 25);
  const u = rng.pick(UNITS);
  const areaAsked = rng.next() < 0.5;
  const value = round(areaAsked ? Math.PI * r * r : 2 * Math.PI * r, 2);
  const what = areaAsked ? 'area' : 'circumference';
  return {
    question: rng.pick([
      `What is the ${what} of a circle with radius ${r} ${u}? Round to two decimal places.`,
      `A circular table has a radius of ${r} ${u}. Find its ${what}, rounded to 2 decimals.`,
    ]),
    groundTruth: value,
    kind: 'number',
    tolerance: 0.01,
    plan: areaAsked ? 'The area of a circle is pi times the radius squared.' : 'The circumference of a circle is 2 times pi times the radius.',
    logic: [
      areaAsked ? 'DEFINE: area = pi * r ** 2' : 'DEFINE: circumference = 2 * pi * r',
      `GIVEN: r = ${r}`,
      'REQUIRE: r > 0',
      `IMPLIES: ${what} = round(${areaAsked ? 'pi * r ** 2' : '2 * pi * r'}, 2)`,
    ],
    code: ['import math', `r = ${r}`, `print(round(${areaAsked ? 'math.pi * r ** 2' : '2 * math.pi * r'}, 2))`],
    steps: [areaAsked ? `Area = pi x ${r}^2 = ${value}.` : `Circumference = 2 x pi x ${r} = ${value}.`],
    answer: `The ${what} is ${value} ${areaAsked ? `square ${u}` : u}.`,
  };
}

function hypotenuse(rng: Rng): ProblemSpec {
  const [a0, b0, c0] = rng.pick([[3, 4, 5], [5, 12, 13], [8, 15, 17], [7, 24, 25], [20, 21, 29]] as const);
  const k = rng.int(1, 5);
  const [a, b, c] = [a0 * k, b0 * k, c0 * k];
  const u = rng.pick(UNITS);
  return {
    question: rng.pick([
      `A right triangle has legs of ${a} ${u} and ${b} ${u}. How long is the hypotenuse?`,
      `A ladder reaches ${b} ${u} up a wall with its foot ${a} ${u} from the wall. How long is the ladder?`,
    ]),
    groundTruth: c,
    kind: 'number',
    plan: 'Use the Pythagorean theorem: the hypotenuse is the square root of the sum of the squared legs.',
    logic: ['DEFINE: c = sqrt(a ** 2 + b ** 2)', `GIVEN: a = ${a}, b = ${b}`, 'REQUIRE: a > 0 AND b > 0', 'IMPLIES: c = sqrt(a ** 2 + b ** 2)'],
    code: ['import math', `a, b = ${a}, ${b}`, 'print(math.sqrt(a ** 2 + b ** 2))'],
    steps: [`${a}^2 + ${b}^2 = ${a * a + b * b}, and its square root is ${c}.`],
    answer: `The hypotenuse is ${c} ${u}.`,
  };
}

function box(rng: Rng): ProblemSpec {
  const [l, w, h] = [rng.int(2, 20), rng.int(2, 15), rng.int(2, 12)];
  const u = rng.pick(UNITS);
  const v = l * w * h;
  return {
    question: rng.pick([
      `A box is ${l} ${u} long, ${w} ${u} wide and ${h} ${u} high. What is its volume?`,
      `Find the volume, in cubic ${u}, of a fish tank measuring ${l} by ${w} by ${h} ${u}.`,
    ]),
    groundTruth: v,
    kind: 'number',
    plan: 'The volume of a rectangular box is length times width times height.',
    logic: ['DEFINE: volume = length * width * height', `GIVEN: length = ${l}, width = ${w}, height = ${h}`, 'IMPLIES: volume = length * width * height'],
    code: [`length, width, height = ${l}, ${w}, ${h}`, 'print(length * width * height)'],
    steps: [`Volume = ${l} x ${w} x ${h} = ${v}.`],
    answer: `The volume is ${v} cubic ${u}.`,
  };
}

function trapezoid(rng: Rng): ProblemSpec {
  const a = rng.int(2, 30);
  const b = rng.int(a + 1, 45);
  const h = rng.int(2, 20);
  const u = rng.pick(UNITS);
  const area = ((a + b) * h) / 2;
  return {
    question: `A trapezoid has parallel sides of ${a} ${u} and ${b} ${u} and a height of ${h} ${u}. What is its area?`,
    groundTruth: area,
    kind: 'number',
    plan: 'The area of a trapezoid is the average of the parallel sides times the height.',
    logic: ['DEFINE: area = (a + b) / 2 * h', `GIVEN: a = ${a}, b = ${b}, h = ${h}`, 'IMPLIES: area = (a + b) * h / 2'],
    code: [`a, b, h = ${a}, ${b}, ${h}`, 'print((a + b) * h / 2)'],
    steps: [`Area = (${a} + ${b}) x ${h} / 2 = ${fmt(area)}.`],
    answer: `The area is ${fmt(area)} square ${u}.`,
  };
}

export const geometry: Family = {
  name: 'geometry',
  description: 'areas, perimeters, volumes, Pythagoras',
  generate: (rng) => rng.pick([triangle, rectangle, circle, hypotenuse, box, trapezoid])(rng),
};
