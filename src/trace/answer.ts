// Answer helpers: the text of the <answer> section, the number it states, and tolerant comparison.
import { parseTrace } from './sections.js';

/** The first matched <answer> section, trimmed; null when there is none. */
export function extractAnswer(text: string): string | null {
  const s = parseTrace(text).sections.answer;
  return s ? s.content.trim() : null;
}

// A number as people write it: optional sign, currency, thousands commas, decimals, exponent.
const NUM_SRC = String.raw`[-+\u2212]?\s*[$\u20ac\u00a3\u00a5]?\s*[-+\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?`;
const WHOLE_NUMBER = new RegExp(String.raw`^(${NUM_SRC})(?:\s*/\s*(${NUM_SRC}))?((?:\s*(?:%|[^\d\s,.+\-]+(?![^\d\s,.+\-])(?:\^?[23])?))*)$`);
const ANY_NUMBER = /[-\u2212]?[$\u20ac\u00a3\u00a5]?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-\u2212]?\.\d+/g;

function toNumber(token: string): number | null {
  const t = token.replace(/[\s$\u20ac\u00a3\u00a5,]/g, '').replace(/\u2212/g, '-');
  if (!/\d/.test(t)) return null;
  // "-$5" and "$-5" both leave one sign; a doubled sign is not a number.
  if (/^[-+]{2}/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/**
 * The whole string as one number, units and currency allowed: "30", "30.0", "30 square units", "$1,200.50",
 * "-4", "3/4", "12.5%", "7 cm^2". Returns null when the text is not a single number.
 */
export function parseNumber(text: string): number | null {
  const t = text.trim().replace(/[.;!]+$/, '').trim();
  if (t === '' || t.length > 200) return null;
  const m = WHOLE_NUMBER.exec(t);
  if (!m) return null;
  const a = toNumber(m[1]!);
  if (a === null) return null;
  if (m[2] === undefined) return a;
  const b = toNumber(m[2]);
  return b === null || b === 0 ? null : a / b;
}

const STATED = new RegExp(String.raw`(?:\bis|\bare|\bequals?|=|:|\bof|\bgives|\bget)\s*(?:approximately\s+|about\s+|exactly\s+|roughly\s+|~\s*)?(${ANY_NUMBER.source})`, 'gi');

/**
 * The number a free-text answer states, in order of preference: \boxed{...}; the whole text (or its first
 * line) as a number; "#### N"; the last "is/=/equals/: N"; the last number in the text.
 */
export function answerNumber(text: string): number | null {
  const boxed = /\\boxed\{([^{}]*)\}/.exec(text);
  if (boxed) {
    const n = parseNumber(boxed[1]!) ?? lastNumber(boxed[1]!);
    if (n !== null) return n;
  }
  const whole = parseNumber(text) ?? parseNumber(text.trim().split(/\r?\n/, 1)[0] ?? '');
  if (whole !== null) return whole;
  const hashes = /####\s*([^\n]+)/.exec(text);
  if (hashes) {
    const n = parseNumber(hashes[1]!) ?? firstNumber(hashes[1]!);
    if (n !== null) return n;
  }
  let stated: number | null = null;
  for (const m of text.matchAll(STATED)) stated = toNumber(m[1]!) ?? stated;
  return stated ?? lastNumber(text);
}

function firstNumber(text: string): number | null {
  for (const m of text.matchAll(ANY_NUMBER)) return toNumber(m[0]);
  return null;
}

function lastNumber(text: string): number | null {
  let last: number | null = null;
  for (const m of text.matchAll(ANY_NUMBER)) last = toNumber(m[0]) ?? last;
  return last;
}

export interface Tolerance {
  /** Absolute tolerance (default 1e-6). */
  abs?: number;
  /** Relative tolerance, against the larger magnitude (default 1e-4). */
  rel?: number;
}

export function numbersClose(a: number, b: number, tol: Tolerance = {}): boolean {
  const abs = tol.abs ?? 1e-6;
  const rel = tol.rel ?? 1e-4;
  return Math.abs(a - b) <= Math.max(abs, rel * Math.max(Math.abs(a), Math.abs(b)));
}

/** Lowercase, single spaces, no surrounding quotes or final punctuation. */
export function normalizeText(text: string): string {
  return text
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^["'`*]+|["'`*.!;:]+$/g, '')
    .trim();
}

/**
 * Whether an answer matches the expected one: numerically within tolerance when the expected value is a
 * number (or a numeric string), otherwise by normalised text (equal, or the answer starts with it as a word).
 */
export function answersMatch(answer: string, expected: string | number, tol: Tolerance = {}): boolean {
  const want = typeof expected === 'number' ? expected : parseNumber(expected);
  if (want !== null) {
    const got = answerNumber(answer);
    return got !== null && numbersClose(got, want, tol);
  }
  const a = normalizeText(answer);
  const e = normalizeText(String(expected));
  if (e === '') return false;
  return a === e || (a.startsWith(e) && /^\W/.test(a.slice(e.length)));
}
