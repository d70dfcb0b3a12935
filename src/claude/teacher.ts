// The Claude teacher: asks Claude for a unified trace per problem, keeps only traces that pass the quality
// filter, and counts every rejection by reason. Problems come from the families (checkable answers) or
// from a user's prompt file (format and execution checks only).
import type { CodeSandbox } from '../sandbox/types.js';
import { emptyRejections, filterTrace, type Truth } from '../synth/filter.js';
import type { Problem } from '../synth/types.js';
import { ClaudeError, type ClaudeClient, type ClaudeRequest, type ClaudeResult } from './client.js';
import { TEACHER_SYSTEM_PROMPT } from './prompt.js';

export interface TeacherItem {
  id: string;
  question: string;
  family?: string;
  truth?: Truth;
}

export interface TeacherOutcome {
  item: TeacherItem;
  ok: boolean;
  /** The trace Claude wrote (kept or not), when a response arrived. */
  trace?: string;
  reason?: string;
  detail?: string;
  cached?: boolean;
}

export interface TeacherOptions {
  client: ClaudeClient;
  sandbox: CodeSandbox;
  maxTokens?: number;
  temperature?: number;
  useBatchApi?: boolean;
  sandboxTimeoutMs?: number;
  onOutcome?: (o: TeacherOutcome, done: number, total: number) => void;
}

export function teacherRequest(question: string, opts: { maxTokens?: number; temperature?: number } = {}): ClaudeRequest {
  return { system: TEACHER_SYSTEM_PROMPT, messages: [{ role: 'user', content: question }], maxTokens: opts.maxTokens ?? 1024, temperature: opts.temperature ?? 0 };
}

export function itemOfProblem(p: Problem): TeacherItem {
  return { id: p.id, question: p.question, family: p.family, truth: { groundTruth: p.groundTruth, kind: p.kind, tolerance: p.tolerance, countdown: p.countdown } };
}

/** Runs every item through Claude and the filter. Results come back in item order. */
export async function runTeacher(items: TeacherItem[], opts: TeacherOptions): Promise<{ outcomes: TeacherOutcome[]; rejections: Record<string, number> }> {
  const rejections: Record<string, number> = { ...emptyRejections(), 'api-error': 0 };
  let done = 0;
  const judge = async (item: TeacherItem, res: ClaudeResult | Error): Promise<TeacherOutcome> => {
    let o: TeacherOutcome;
    if (res instanceof Error) {
      o = { item, ok: false, reason: 'api-error', detail: res.message };
    } else {
      const v = item.truth
        ? await filterTrace(res.text, item.truth, opts.sandbox, opts.sandboxTimeoutMs)
        : await filterTrace(res.text, { kind: 'text', groundTruth: '' }, opts.sandbox, opts.sandboxTimeoutMs, { checkTruth: false });
      o = { item, ok: v.ok, trace: res.text, reason: v.reason, detail: v.detail, cached: res.cached };
    }
    if (!o.ok) rejections[o.reason!] = (rejections[o.reason!] ?? 0) + 1;
    opts.onOutcome?.(o, ++done, items.length);
    return o;
  };
  const reqs = items.map((it) => teacherRequest(it.question, opts));
  if (opts.useBatchApi) {
    const results = await opts.client.completeBatch(reqs);
    const outcomes: TeacherOutcome[] = [];
    for (let i = 0; i < items.length; i++) outcomes.push(await judge(items[i]!, results[i]!));
    return { outcomes, rejections };
  }
  const outcomes = await Promise.all(
    items.map(async (item, i) => {
      let res: ClaudeResult | Error;
      try {
        res = await opts.client.complete(reqs[i]!);
      } catch (e) {
        // A refused key or a silent server fails every item alike: stop instead of rejecting them all.
        if (!(e instanceof ClaudeError) || e.fatal) throw e;
        res = e;
      }
      return judge(item, res);
    }),
  );
  return { outcomes, rejections };
}
