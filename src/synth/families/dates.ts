// Date arithmetic: adding days, weekdays, days between dates (Gregorian calendar, UTC).
import type { Rng } from '../../util/rng.js';
import type { Family, ProblemSpec } from '../types.js';
import { pickNames } from './util.js';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const DAY_MS = 86_400_000;

function randomDate(rng: Rng): Date {
  const start = Date.UTC(1990, 0, 1);
  const end = Date.UTC(2035, 11, 31);
  return new Date(start + rng.int(0, (end - start) / DAY_MS) * DAY_MS);
}

const long = (d: Date): string => `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
const iso = (d: Date): string => d.toISOString().slice(0, 10);
const pyDate = (d: Date): string => `date(${d.getUTCFullYear()}, ${d.getUTCMonth() + 1}, ${d.getUTCDate()})`;

function addDays(rng: Rng): ProblemSpec {
  const d = randomDate(rng);
  const n = rng.int(3, 400);
  const r = new Date(d.getTime() + n * DAY_MS);
  const [name] = pickNames(rng, 1);
  return {
    question: rng.pick([
      `What date is ${n} days after ${long(d)}? Answer as YYYY-MM-DD.`,
      `${name}'s project starts on ${long(d)} and lasts ${n} days. On what date (YYYY-MM-DD) does it end?`,
    ]),
    groundTruth: iso(r),
    kind: 'text',
    plan: 'Add the number of days to the start date with calendar arithmetic, which handles month lengths and leap years.',
    logic: [`GIVEN: start = ${iso(d)}, n = ${n}`, 'DEFINE: end = start + n days', 'IMPLIES: answer = end in ISO format'],
    code: ['from datetime import date, timedelta', `start = ${pyDate(d)}`, `print((start + timedelta(days=${n})).isoformat())`],
    steps: [`Counting ${n} days forward from ${long(d)} lands on ${long(r)}.`],
    answer: `${iso(r)} is the date.`,
  };
}

function weekday(rng: Rng): ProblemSpec {
  const d = randomDate(rng);
  const n = rng.int(1, 1000);
  const r = new Date(d.getTime() + n * DAY_MS);
  const w = WEEKDAYS[r.getUTCDay()]!;
  return {
    question: rng.pick([
      `What day of the week is ${n} days after ${long(d)}?`,
      `A parcel ships on ${long(d)} and arrives ${n} days later. On which weekday does it arrive?`,
    ]),
    groundTruth: w,
    kind: 'text',
    plan: 'Find the date that is n days later and read off its weekday.',
    logic: [`GIVEN: start = ${iso(d)}, n = ${n}`, 'DEFINE: end = start + n days', 'IMPLIES: answer = weekday(end)'],
    code: ['from datetime import date, timedelta', `end = ${pyDate(d)} + timedelta(days=${n})`, 'print(end.strftime("%A"))'],
    steps: [`${n} days after ${long(d)} is ${long(r)}, which is a ${w}.`],
    answer: `${w} is the day.`,
  };
}

function between(rng: Rng): ProblemSpec {
  const a = randomDate(rng);
  const b = new Date(a.getTime() + rng.int(2, 2000) * DAY_MS);
  const n = Math.round((b.getTime() - a.getTime()) / DAY_MS);
  return {
    question: rng.pick([
      `How many days are there from ${long(a)} to ${long(b)}?`,
      `A lease runs from ${long(a)} until ${long(b)}. How many days is that (not counting the first day)?`,
    ]),
    groundTruth: n,
    kind: 'number',
    plan: 'Subtract the two dates; the difference counts the days between them.',
    logic: [`GIVEN: a = ${iso(a)}, b = ${iso(b)}`, 'REQUIRE: b >= a', 'IMPLIES: days = b - a'],
    code: ['from datetime import date', `print((${pyDate(b)} - ${pyDate(a)}).days)`],
    steps: [`From ${long(a)} to ${long(b)} the calendar difference is ${n} days.`],
    answer: `There are ${n} days between them.`,
  };
}

export const dates: Family = {
  name: 'dates',
  description: 'date arithmetic',
  generate: (rng) => rng.pick([addDays, weekday, between])(rng),
};
