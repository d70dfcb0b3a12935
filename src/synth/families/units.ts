// Unit conversion with a stated factor or formula; answers rounded to two decimals.
import type { Rng } from '../../util/rng.js';
import type { Family, ProblemSpec } from '../types.js';
import { fmt, round } from './util.js';

interface Conversion {
  from: string;
  /** Singular of `from`. */
  one: string;
  to: string;
  factor: number;
  lo: number;
  hi: number;
  step: number;
}

const FACTORS: Conversion[] = [
  { from: 'kilometers', one: 'kilometer', to: 'miles', factor: 0.621371, lo: 1, hi: 500, step: 1 },
  { from: 'miles', one: 'mile', to: 'kilometers', factor: 1.609344, lo: 1, hi: 300, step: 1 },
  { from: 'kilograms', one: 'kilogram', to: 'pounds', factor: 2.20462, lo: 1, hi: 150, step: 1 },
  { from: 'pounds', one: 'pound', to: 'kilograms', factor: 0.453592, lo: 1, hi: 300, step: 1 },
  { from: 'inches', one: 'inch', to: 'centimeters', factor: 2.54, lo: 1, hi: 120, step: 1 },
  { from: 'feet', one: 'foot', to: 'meters', factor: 0.3048, lo: 1, hi: 1000, step: 1 },
  { from: 'liters', one: 'liter', to: 'milliliters', factor: 1000, lo: 0.25, hi: 20, step: 0.25 },
  { from: 'hours', one: 'hour', to: 'minutes', factor: 60, lo: 0.5, hi: 48, step: 0.5 },
  { from: 'gallons', one: 'gallon', to: 'liters', factor: 3.78541, lo: 1, hi: 80, step: 1 },
  { from: 'ounces', one: 'ounce', to: 'grams', factor: 28.3495, lo: 1, hi: 64, step: 1 },
];

function scaled(rng: Rng): ProblemSpec {
  const c = rng.pick(FACTORS);
  const x = c.step * rng.int(Math.ceil(c.lo / c.step), Math.floor(c.hi / c.step));
  const y = round(x * c.factor, 2);
  return {
    question: rng.pick([
      `Convert ${fmt(x)} ${c.from} to ${c.to}. Round to two decimal places.`,
      `How many ${c.to} are in ${fmt(x)} ${c.from}? (1 ${c.one} = ${c.factor} ${c.to}; round to 2 decimals.)`,
      `Express ${fmt(x)} ${c.from} in ${c.to}, to two decimal places.`,
    ]),
    groundTruth: y,
    kind: 'number',
    tolerance: 0.01,
    plan: `Multiply the amount in ${c.from} by the number of ${c.to} per ${c.one}.`,
    logic: [`DEFINE: factor = ${c.factor}`, `GIVEN: amount = ${fmt(x)}`, 'REQUIRE: amount >= 0', 'IMPLIES: result = round(amount * factor, 2)'],
    code: [`amount, factor = ${fmt(x)}, ${c.factor}`, 'print(round(amount * factor, 2))'],
    steps: [`${fmt(x)} x ${c.factor} = ${fmt(y)} ${c.to}.`],
    answer: `That is ${fmt(y)} ${c.to}.`,
  };
}

function temperature(rng: Rng): ProblemSpec {
  const toF = rng.next() < 0.5;
  const x = toF ? rng.int(-30, 45) : rng.int(-20, 110);
  const y = round(toF ? (x * 9) / 5 + 32 : ((x - 32) * 5) / 9, 2);
  const [from, to] = toF ? ['Celsius', 'Fahrenheit'] : ['Fahrenheit', 'Celsius'];
  const expr = toF ? 'c * 9 / 5 + 32' : '(f - 32) * 5 / 9';
  const v = toF ? 'c' : 'f';
  return {
    question: rng.pick([
      `Convert ${x} degrees ${from} to ${to}, rounded to two decimals.`,
      `The thermometer reads ${x} °${from[0]}. What is the temperature in degrees ${to}? Round to 2 decimal places.`,
    ]),
    groundTruth: y,
    kind: 'number',
    tolerance: 0.01,
    plan: `Apply the ${from}-to-${to} formula.`,
    logic: [`DEFINE: ${toF ? 'f' : 'c'} = ${expr}`, `GIVEN: ${v} = ${x}`, `IMPLIES: result = round(${expr}, 2)`],
    code: [`${v} = ${x}`, `print(round(${expr}, 2))`],
    steps: [`Using ${toF ? 'F = C x 9/5 + 32' : 'C = (F - 32) x 5/9'}: ${fmt(y)} degrees ${to}.`],
    answer: `It is ${fmt(y)} degrees ${to}.`,
  };
}

export const units: Family = {
  name: 'units',
  description: 'unit conversion',
  generate: (rng) => (rng.next() < 0.8 ? scaled(rng) : temperature(rng)),
};
