// Corrupted traces for DPO's rejected side: each breaks one thing the quality filter checks.
import { renderTrace } from '../trace/render.js';
import type { Rng } from '../util/rng.js';
import type { Problem } from './types.js';

export const CORRUPTIONS = ['wrong-arithmetic', 'answer-disagrees', 'missing-section', 'plain-answer'] as const;
export type Corruption = (typeof CORRUPTIONS)[number];

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const NUMBER = /-?\d+(?:\.\d+)?/g;

/** A plausible but wrong value for the answer sentence. */
function wrongAnswer(p: Problem, rng: Rng): string {
  const gt = p.groundTruth;
  if (typeof gt === 'string' && WEEKDAYS.includes(gt)) {
    return p.answer.replace(gt, rng.pick(WEEKDAYS.filter((d) => d !== gt)));
  }
  if (typeof gt === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(gt)) {
    const d = new Date(`${gt}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + rng.pick([-2, -1, 1, 2]));
    return p.answer.replace(gt, d.toISOString().slice(0, 10));
  }
  if (typeof gt === 'string') {
    // Ordering puzzles: name another person from the question.
    const others = [...new Set(p.question.match(/\b[A-Z][a-z]+\b/g) ?? [])].filter((w) => w !== gt && !['Who', 'Which', 'Among'].includes(w));
    return others.length ? p.answer.replace(gt, rng.pick(others)) : `${p.answer} (not ${gt})`;
  }
  // Numbers: replace the last number of the sentence with an off-by-some value.
  const matches = [...p.answer.matchAll(NUMBER)];
  const last = matches[matches.length - 1];
  if (!last) return `${p.answer} Actually it is ${gt + 1}.`;
  const v = Number(last[0]);
  // Far enough from the truth that no numeric tolerance accepts it.
  const scale = Math.max(1, Math.round(Math.abs(v) * 0.05));
  const delta = rng.pick([1, 2, 3, -1, -2]) * scale * (Number.isInteger(v) ? 1 : 0.5);
  const wrong = Math.round((v + delta) * 100) / 100;
  return p.answer.slice(0, last.index) + String(wrong) + p.answer.slice(last.index! + last[0].length);
}

/**
 * Breaks the computation: flips the first comparison of an enumeration's condition, or else changes one
 * numeric literal of the first code line that has one, so the program computes the wrong thing.
 */
function miscompute(p: Problem, rng: Rng): string[] {
  const out = p.code.slice();
  const cond = out.findIndex((l) => /^\s*if\b.*</.test(l));
  if (cond >= 0) {
    // Flip a clue about the person who is the answer, so the enumeration picks someone else.
    const clauses = out[cond]!.split(' and ');
    const k = Math.max(0, clauses.findIndex((c) => c.includes(`"${p.groundTruth}"`)));
    clauses[k] = clauses[k]!.replace('<', '>');
    out[cond] = clauses.join(' and ');
    return out;
  }
  const i = out.findIndex((l) => /\d/.test(l) && !/^\s*(import|from)\b/.test(l));
  if (i < 0) return out.concat('print(0)');
  // Whole literals only (bumping the last digits of 2.20462 would stay within rounding).
  const nums = [...out[i]!.matchAll(/(?<![\w.])\d+(?:\.\d+)?(?![\w.])/g)];
  if (nums.length === 0) return out.concat('print(0)');
  const pick = rng.pick(nums);
  const bumped = String(Number(pick[0]) + rng.pick([1, 2, 3]));
  out[i] = out[i]!.slice(0, pick.index) + bumped + out[i]!.slice(pick.index! + pick[0].length);
  return out;
}

/** The rejected response for a problem, broken in the given way. */
export function corruptTrace(p: Problem, kind: Corruption, rng: Rng): string {
  const parts = { cot: p.plan, logic: p.logic.join('\n'), code: p.code.join('\n'), answer: p.answer };
  switch (kind) {
    case 'wrong-arithmetic':
      return renderTrace({ ...parts, code: miscompute(p, rng).join('\n') });
    case 'answer-disagrees':
      return renderTrace({ ...parts, answer: wrongAnswer(p, rng) });
    case 'missing-section': {
      const full = renderTrace(parts);
      const drop = rng.pick(['logic', 'code'] as const);
      return full.replace(new RegExp(`<${drop}>[\\s\\S]*?</${drop}>\\n\\n`), '');
    }
    case 'plain-answer':
      return p.direct;
  }
}
