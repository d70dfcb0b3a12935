// The quality filter: a trace is kept only if it is strict, its logic is valid, its code runs in the
// sandbox, the code's printed answer matches the ground truth, and the <answer> section agrees.
// Every rejection is counted by its (first) reason.
import { scoreCountdown } from '../trace/countdown.js';
import type { CodeSandbox } from '../sandbox/types.js';
import { answersMatch, extractAnswer } from '../trace/answer.js';
import { validateTrace } from '../trace/trace.js';
import type { ProblemSpec } from './types.js';

export const REJECTION_REASONS = ['not-strict', 'logic-invalid', 'code-fails', 'wrong-printed-answer', 'answer-disagrees'] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export interface FilterVerdict {
  ok: boolean;
  reason?: RejectionReason;
  /** Human-readable detail for the log. */
  detail?: string;
  /** The last non-empty stdout line. */
  printed?: string;
}

export type Truth = Pick<ProblemSpec, 'groundTruth' | 'kind' | 'tolerance' | 'countdown'>;

export function lastLine(stdout: string): string {
  const lines = stdout.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  return lines[lines.length - 1] ?? '';
}

function matchesTruth(text: string, truth: Truth): boolean {
  if (truth.kind === 'countdown' && truth.countdown) return scoreCountdown(text, truth.countdown).correct;
  return answersMatch(text, truth.groundTruth, { abs: truth.tolerance ?? 1e-6 });
}

/**
 * With `checkTruth: false` (prompts without a ground truth) only the format, the logic and the run are
 * checked, and the <answer> section must be non-empty.
 */
export async function filterTrace(
  text: string,
  truth: Truth,
  sandbox: CodeSandbox,
  timeoutMs?: number,
  opts: { checkTruth?: boolean } = {},
): Promise<FilterVerdict> {
  const v = await validateTrace(text, { sandbox, execute: true, timeoutMs });
  if (!v.strict) return { ok: false, reason: 'not-strict', detail: v.errors.find((e) => e.startsWith('not strict')) ?? v.errors[0] };
  if (!v.logicValid) return { ok: false, reason: 'logic-invalid', detail: v.errors.find((e) => e.startsWith('logic')) ?? v.errors[0] };
  if (!v.codeRuns) return { ok: false, reason: 'code-fails', detail: v.errors.find((e) => e.startsWith('code')) ?? v.errors[0] };
  const printed = lastLine(v.stdout ?? '');
  if (opts.checkTruth === false) return printed ? { ok: true, printed } : { ok: false, reason: 'wrong-printed-answer', detail: 'the program printed nothing' };
  if (!matchesTruth(printed, truth)) return { ok: false, reason: 'wrong-printed-answer', detail: `printed "${printed.slice(0, 80)}", expected ${truth.groundTruth}`, printed };
  const stated = extractAnswer(text) ?? '';
  if (!matchesTruth(stated, truth)) return { ok: false, reason: 'answer-disagrees', detail: `<answer> says "${stated.slice(0, 80)}", code printed "${printed.slice(0, 80)}"`, printed };
  return { ok: true, printed };
}

/** Counts per rejection reason (every reason present, zero when unused). */
export function emptyRejections(): Record<string, number> {
  return Object.fromEntries(REJECTION_REASONS.map((r) => [r, 0]));
}
