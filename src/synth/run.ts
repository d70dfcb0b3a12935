// `unitrace synth` as a function: a teacher's traces (offline here, Claude's in src/claude/run.ts), filtered,
// written as JSONL. The teacher is passed in, so synth knows nothing of Claude.
import type { CodeSandbox } from '../sandbox/types.js';
import { readTextFile, writeJsonl } from '../util/jsonl.js';
import { emptyRejections, filterTrace } from './filter.js';
import { generateProblems } from './offline.js';
import type { Problem } from './types.js';

export interface SynthRecord {
  messages: { role: 'user' | 'assistant'; content: string }[];
  family?: string;
  /** A string, as in the mixing stage's files (one type per column). */
  groundTruth?: string;
  source: 'unified';
  id: string;
  countdown?: { nums: number[]; target: number };
  tolerance?: number;
}

/** What a teacher hands back: kept records, rejected rows with their reason, counts by reason. */
export interface Traces {
  total: number;
  kept: SynthRecord[];
  rejected: unknown[];
  rejections: Record<string, number>;
  claude?: { requests: number; cacheHits: number; retries: number };
}

export interface TraceContext {
  /** The sandbox for the quality filter, started on first call. */
  sandbox(): Promise<CodeSandbox>;
  sandboxTimeoutMs?: number;
  progress?: (done: number, kept: number) => void;
  log: (line: string) => void;
}

/** A teacher: the offline one below, or Claude's (src/claude/run.ts `claudeTraces`). */
export type TraceSource = (ctx: TraceContext) => Promise<Traces>;

export interface RunSynthOptions {
  source: TraceSource;
  out: string;
  rejectedOut?: string;
  sandbox?: CodeSandbox;
  sandboxTimeoutMs?: number;
  progress?: (done: number, kept: number) => void;
  log?: (line: string) => void;
}

export interface OfflineTeacherOptions {
  count: number;
  seed: number;
  families?: readonly string[];
  /** Run each trace through the quality filter (default true). */
  filter?: boolean;
}

export interface SynthSummary {
  total: number;
  kept: number;
  rejections: Record<string, number>;
  claude?: { requests: number; cacheHits: number; retries: number };
}

/** The JSONL row of a family problem answered with `trace`. */
export const synthRecord = (p: Problem, trace: string): SynthRecord => ({
  messages: [
    { role: 'user', content: p.question },
    { role: 'assistant', content: trace },
  ],
  family: p.family,
  groundTruth: String(p.groundTruth),
  source: 'unified',
  id: p.id,
  ...(p.countdown ? { countdown: p.countdown } : {}),
  ...(p.tolerance !== undefined ? { tolerance: p.tolerance } : {}),
});

/** A prompt file: JSONL rows {prompt, groundTruth?} (or {question}), or plain text, one prompt a line. */
export function readPromptFile(file: string): { prompt: string; groundTruth?: string | number }[] {
  const out: { prompt: string; groundTruth?: string | number }[] = [];
  readTextFile(file)
    .split(/\r?\n/)
    .forEach((line, i) => {
      const t = line.trim();
      if (!t) return;
      if (t.startsWith('{')) {
        let row: { prompt?: unknown; question?: unknown; groundTruth?: unknown };
        try {
          row = JSON.parse(t);
        } catch (e) {
          throw new Error(`${file}:${i + 1}: invalid JSON (${(e as Error).message})`);
        }
        const prompt = row.prompt ?? row.question;
        if (typeof prompt !== 'string' || !prompt.trim()) throw new Error(`${file}:${i + 1}: no prompt (expected a "prompt" string)`);
        const gt = row.groundTruth;
        out.push({ prompt, ...(typeof gt === 'string' || typeof gt === 'number' ? { groundTruth: gt } : {}) });
      } else out.push({ prompt: t });
    });
  if (out.length === 0) throw new Error(`${file}: no prompt found`);
  return out;
}

/** `unitrace synth`: get traces from the teacher, write the kept and (optionally) the rejected rows. */
export async function runSynth(opts: RunSynthOptions): Promise<SynthSummary> {
  let ownSandbox: { close(): Promise<void> } | null = null;
  const sandbox = async (): Promise<CodeSandbox> => {
    if (opts.sandbox) return opts.sandbox;
    const { createSandboxPool } = await import('../sandbox/index.js');
    const pool = createSandboxPool({ timeoutMs: opts.sandboxTimeoutMs });
    ownSandbox = pool;
    opts.sandbox = pool;
    return pool;
  };
  try {
    const traces = await opts.source({ sandbox, sandboxTimeoutMs: opts.sandboxTimeoutMs, progress: opts.progress, log: opts.log ?? (() => {}) });
    writeJsonl(opts.out, traces.kept);
    if (opts.rejectedOut) writeJsonl(opts.rejectedOut, traces.rejected);
    return { total: traces.total, kept: traces.kept.length, rejections: traces.rejections, ...(traces.claude ? { claude: traces.claude } : {}) };
  } finally {
    await (ownSandbox as { close(): Promise<void> } | null)?.close();
  }
}

/** The offline teacher: each family problem's own trace, kept when it passes the quality filter. */
export function offlineTraces(o: OfflineTeacherOptions): TraceSource {
  return async (ctx) => {
    const problems = generateProblems({ seed: o.seed, count: o.count, families: o.families });
    const traces: Traces = { total: problems.length, kept: [], rejected: [], rejections: emptyRejections() };
    if (o.filter === false) {
      problems.forEach((p, i) => {
        traces.kept.push(synthRecord(p, p.trace));
        ctx.progress?.(i + 1, traces.kept.length);
      });
      return traces;
    }
    const sb = await ctx.sandbox();
    let done = 0;
    let passed = 0;
    const verdicts = await Promise.all(
      problems.map(async (p) => {
        const v = await filterTrace(p.trace, p, sb, ctx.sandboxTimeoutMs);
        if (v.ok) passed++;
        ctx.progress?.(++done, passed);
        return v;
      }),
    );
    verdicts.forEach((v, i) => {
      const p = problems[i]!;
      if (v.ok) traces.kept.push(synthRecord(p, p.trace));
      else {
        traces.rejections[v.reason!]!++;
        traces.rejected.push({ id: p.id, family: p.family, reason: v.reason, detail: v.detail });
        ctx.log(`rejected ${p.id}: ${v.reason} (${v.detail})`);
      }
    });
    return traces;
  };
}
