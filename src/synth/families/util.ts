// Small helpers the family generators share: names, number formatting in prose and Python.
import type { Rng } from '../../util/rng.js';

export const NAMES = [
  'Maya', 'Liam', 'Aisha', 'Noah', 'Sofia', 'Kenji', 'Elena', 'Omar', 'Priya', 'Lucas', 'Zara', 'Mateo',
  'Hana', 'Felix', 'Amara', 'Diego', 'Ingrid', 'Tariq', 'Chloe', 'Ravi', 'Nadia', 'Jonas', 'Leila', 'Tomas',
];

/** Distinct names, in random order. */
export function pickNames(rng: Rng, n: number): string[] {
  return rng.shuffle(NAMES).slice(0, n);
}

/** Rounds like Python's round(x, digits) for values that are not exact binary ties. */
export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A number as prose shows it: integers plain, other values with at most 2 decimals. */
export function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : String(round(x, 2));
}

export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${fmt(n)} ${n === 1 ? word : pluralWord}`;
}

/** A random integer in [lo, hi] that is a multiple of step. */
export function intStep(rng: Rng, lo: number, hi: number, step: number): number {
  return step * rng.int(Math.ceil(lo / step), Math.floor(hi / step));
}
