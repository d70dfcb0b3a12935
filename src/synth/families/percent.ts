// Percentages and rates: discounts, increases, tips, interest, speed and combined work.
import type { Rng } from '../../util/rng.js';
import type { Family, ProblemSpec } from '../types.js';
import { fmt, pickNames, round } from './util.js';

function discount(rng: Rng): ProblemSpec {
  const item = rng.pick(['jacket', 'lamp', 'bicycle', 'backpack', 'headset', 'blender']);
  const price = rng.int(8, 400);
  const pct = rng.pick([5, 10, 15, 20, 25, 30, 35, 40, 50]);
  const y = round(price * (1 - pct / 100), 2);
  return {
    question: rng.pick([
      `A ${item} costs $${price} and is on sale for ${pct}% off. What is the sale price?`,
      `With a ${pct}% discount, how much does a $${price} ${item} cost?`,
    ]),
    groundTruth: y,
    kind: 'number',
    tolerance: 0.01,
    plan: 'Take the discount off the original price: price times (1 - rate).',
    logic: [`GIVEN: price = ${price}, rate = ${pct / 100}`, 'REQUIRE: 0 <= rate <= 1', 'IMPLIES: sale = price * (1 - rate)'],
    code: [`price, rate = ${price}, ${pct / 100}`, 'print(round(price * (1 - rate), 2))'],
    steps: [`${pct}% of $${price} is $${fmt(round((price * pct) / 100, 2))}.`, `$${price} minus that is $${fmt(y)}.`],
    answer: `The sale price is $${fmt(y)}.`,
  };
}

function increase(rng: Rng): ProblemSpec {
  const what = rng.pick(['rent', 'a salary', 'a town population', 'ticket sales', 'a bus fare']);
  const before = rng.int(20, 2000);
  const after = before + rng.int(-Math.floor(before / 2), before);
  const pct = round(((after - before) / before) * 100, 2);
  return {
    question: rng.pick([
      `If ${what} goes from ${before} to ${after}, what is the percent change? Round to two decimals.`,
      `${what[0]!.toUpperCase() + what.slice(1)} changed from ${before} to ${after}. By what percentage did it change (negative for a decrease, 2 decimals)?`,
    ]),
    groundTruth: pct,
    kind: 'number',
    tolerance: 0.01,
    plan: 'Percent change is the difference divided by the old value, times 100.',
    logic: [`GIVEN: old = ${before}, new = ${after}`, 'REQUIRE: old > 0', 'DEFINE: change = (new - old) / old * 100', 'IMPLIES: answer = round(change, 2)'],
    code: [`old, new = ${before}, ${after}`, 'print(round((new - old) / old * 100, 2))'],
    steps: [`The difference is ${after - before}.`, `${after - before} / ${before} x 100 = ${fmt(pct)}%.`],
    answer: `The percent change is ${fmt(pct)}%.`,
  };
}

function interest(rng: Rng): ProblemSpec {
  const [name] = pickNames(rng, 1);
  const principal = rng.int(5, 200) * 50;
  const rate = rng.pick([1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6]);
  const years = rng.int(1, 10);
  const total = round(principal * (1 + (rate / 100) * years), 2);
  return {
    question: rng.pick([
      `${name} deposits $${principal} at ${rate}% simple interest per year. How much is in the account after ${years} years?`,
      `What is the total after ${years} years on $${principal} earning ${rate}% simple annual interest?`,
    ]),
    groundTruth: total,
    kind: 'number',
    tolerance: 0.01,
    plan: 'Simple interest adds principal times rate times years to the principal.',
    logic: [`GIVEN: p = ${principal}, r = ${rate / 100}, t = ${years}`, 'DEFINE: interest = p * r * t', 'IMPLIES: total = p + interest'],
    code: [`p, r, t = ${principal}, ${rate / 100}, ${years}`, 'print(round(p * (1 + r * t), 2))'],
    steps: [`Interest = ${principal} x ${rate / 100} x ${years} = ${fmt(round(total - principal, 2))}.`, `Total = $${fmt(total)}.`],
    answer: `The account holds $${fmt(total)}.`,
  };
}

function speed(rng: Rng): ProblemSpec {
  const vehicle = rng.pick(['train', 'cyclist', 'car', 'ferry', 'runner']);
  const v = rng.int(8, 120);
  const hours = rng.int(1, 16) / 2;
  const d = v * hours;
  if (rng.next() < 0.5) {
    const s = round(d / hours, 2);
    return {
      question: `A ${vehicle} covers ${fmt(d)} km in ${fmt(hours)} hours. What is its average speed in km/h?`,
      groundTruth: s,
      kind: 'number',
      tolerance: 0.01,
      plan: 'Average speed is distance divided by time.',
      logic: [`GIVEN: distance = ${fmt(d)}, time = ${fmt(hours)}`, 'REQUIRE: time > 0', 'IMPLIES: speed = distance / time'],
      code: [`distance, time = ${fmt(d)}, ${fmt(hours)}`, 'print(round(distance / time, 2))'],
      steps: [`${fmt(d)} / ${fmt(hours)} = ${fmt(s)} km/h.`],
      answer: `The average speed is ${fmt(s)} km/h.`,
    };
  }
  return {
    question: `A ${vehicle} travels at ${v} km/h for ${fmt(hours)} hours. How many kilometers does it go?`,
    groundTruth: d,
    kind: 'number',
    tolerance: 0.01,
    plan: 'Distance is speed times time.',
    logic: [`GIVEN: speed = ${v}, time = ${fmt(hours)}`, 'IMPLIES: distance = speed * time'],
    code: [`speed, time = ${v}, ${fmt(hours)}`, 'print(speed * time)'],
    steps: [`${v} x ${fmt(hours)} = ${fmt(d)} km.`],
    answer: `It travels ${fmt(d)} km.`,
  };
}

function work(rng: Rng): ProblemSpec {
  const [a, b] = pickNames(rng, 2);
  const ta = rng.int(2, 12);
  const tb = rng.int(2, 12);
  const task = rng.pick(['paint a fence', 'fill a pool', 'sort the mail', 'mow a field']);
  const t = round((ta * tb) / (ta + tb), 2);
  return {
    question: `${a} can ${task} in ${ta} hours and ${b} can do it in ${tb} hours. Working together, how many hours does it take? Round to two decimals.`,
    groundTruth: t,
    kind: 'number',
    tolerance: 0.01,
    plan: 'Add the two work rates (jobs per hour) and invert the sum.',
    logic: [`GIVEN: ta = ${ta}, tb = ${tb}`, 'DEFINE: rate = 1 / ta + 1 / tb', 'IMPLIES: time = 1 / rate'],
    code: [`ta, tb = ${ta}, ${tb}`, 'print(round(1 / (1 / ta + 1 / tb), 2))'],
    steps: [`Together they do 1/${ta} + 1/${tb} of the job per hour.`, `The time is ${ta} x ${tb} / (${ta} + ${tb}) = ${fmt(t)} hours.`],
    answer: `It takes ${fmt(t)} hours.`,
  };
}

export const percent: Family = {
  name: 'percent',
  description: 'percentages and rates',
  generate: (rng) => rng.pick([discount, increase, interest, speed, work])(rng),
};
