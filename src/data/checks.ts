// Checkers for instruction items: each item carries a small spec, and checkInstruction scores any
// response against it (evaluation calls this; the embedded data set's own responses must pass).
import { answerNumber, numbersClose } from '../trace/answer.js';

export type InstructionCheck =
  /** The whole response equals the value (whitespace collapsed, final period ignored). */
  | { type: 'exact'; value: string; caseSensitive: boolean }
  /** The response states this number. */
  | { type: 'number'; value: number; tolerance?: number }
  /** The response names exactly one of the options, and it is the value. */
  | { type: 'label'; value: string; options: string[] }
  /** The response is a list split on the separator; ordered or as a set. */
  | { type: 'list'; value: string[]; ordered: boolean; separator: ',' | '\n' }
  /** The response holds a JSON object deep-equal to the value. */
  | { type: 'json'; value: Record<string, unknown> };

export interface CheckResult {
  pass: boolean;
  reason?: string;
}

const squash = (s: string): string => s.replace(/\s+/g, ' ').trim().replace(/[.!]$/, '').trim();

export function checkInstruction(check: InstructionCheck, response: string): CheckResult {
  const text = response.replace(/<\|im_end\|>|<\|endoftext\|>/g, '').trim();
  switch (check.type) {
    case 'exact': {
      const [a, b] = check.caseSensitive ? [squash(text), squash(check.value)] : [squash(text).toLowerCase(), squash(check.value).toLowerCase()];
      return a === b ? { pass: true } : { pass: false, reason: `expected "${check.value}"` };
    }
    case 'number': {
      const n = answerNumber(text);
      if (n === null) return { pass: false, reason: 'no number in the response' };
      return numbersClose(n, check.value, { abs: check.tolerance ?? 1e-6 }) ? { pass: true } : { pass: false, reason: `stated ${n}, expected ${check.value}` };
    }
    case 'label': {
      const lower = text.toLowerCase();
      const named = check.options.filter((o) => new RegExp(`\\b${escapeRe(o.toLowerCase())}\\b`).test(lower));
      if (named.length !== 1) return { pass: false, reason: named.length ? `names several labels (${named.join(', ')})` : 'names no label' };
      return named[0] === check.value ? { pass: true } : { pass: false, reason: `said ${named[0]}, expected ${check.value}` };
    }
    case 'list': {
      const items = text.split(check.separator).map((s) => squash(s)).filter((s) => s !== '');
      const want = check.value.map(squash);
      const same = check.ordered ? items.join('\u0000') === want.join('\u0000') : items.slice().sort().join('\u0000') === want.slice().sort().join('\u0000');
      return same ? { pass: true } : { pass: false, reason: `expected ${check.ordered ? 'the list' : 'the items'} ${want.join(check.separator === ',' ? ', ' : ' / ')}` };
    }
    case 'json': {
      const start = text.indexOf('{');
      const end = text.lastIndexOf('}');
      if (start < 0 || end < start) return { pass: false, reason: 'no JSON object' };
      try {
        const got = JSON.parse(text.slice(start, end + 1)) as unknown;
        return deepEqual(got, check.value) ? { pass: true } : { pass: false, reason: 'JSON object differs' };
      } catch (e) {
        return { pass: false, reason: `invalid JSON (${(e as Error).message})` };
      }
    }
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
