// `unitrace synth` as a function: generate problems, get traces (offline or Claude), filter, write JSONL.
import type { CodeSandbox } from '../sandbox/types.js';
import { sha256 } from '../util/hash.js';
import { readTextFile, writeJsonl } from '../util/jsonl.js';
import { emptyRejections, filterTrace } from './filter.js';
import { generateProblems } from './offline.js';
import type { Problem } from './types.js';

export interface SynthRecord {
  messages: { role: 'user' | 'assistant'; content: string }[];
  family?: string;
  groundTruth?: string | number;
  source: 'unified';
  id: string;
  countdown?: { nums: number[]; target: number };
  tolerance?: number;
}

export interface RunSynthOptions {
  teacher: 'offline' | 'claude';
  count: number;
  seed: number;
  out: string;
  families?: readonly string[];
  /** Offline: run each trace through the quality filter (default true). Claude traces are always filtered. */
  filter?: boolean;
  rejectedOut?: string;
  /** Claude only: a prompt file instead of family problems. */
  prompts?: string;
  claude?: {
    model: string;
    concurrency: number;
    useBatchApi: boolean;
    cacheDir: string;
    baseURL?: string;
    /** Total time one request may take, retries included, before the run stops (default: the client's). */
    deadlineMs?: number;
  };
  sandbox?: CodeSandbox;
  sandboxTimeoutMs?: number;
  progress?: (done: number, kept: number) => void;
  log?: (line: string) => void;
}

export interface SynthSummary {
  total: number;
  kept: number;
  rejections: Record<string, number>;
  claude?: { requests: number; cacheHits: number; retries: number };
}

const record = (p: Problem, trace: string): SynthRecord => ({
  messages: [
    { role: 'user', content: p.question },
    { role: 'assistant', content: trace },
  ],
  family: p.family,
  groundTruth: p.groundTruth,
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

export async function runSynth(opts: RunSynthOptions): Promise<SynthSummary> {
  const log = opts.log ?? (() => {});
  const rejectedRows: unknown[] = [];
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
    if (opts.teacher === 'offline') {
      if (opts.prompts) throw new Error('--prompts needs the claude teacher (the offline teacher only knows its families)');
      const problems = generateProblems({ seed: opts.seed, count: opts.count, families: opts.families });
      const rejections = emptyRejections();
      const kept: SynthRecord[] = [];
      if (opts.filter === false) {
        problems.forEach((p, i) => {
          kept.push(record(p, p.trace));
          opts.progress?.(i + 1, kept.length);
        });
      } else {
        const sb = await sandbox();
        let done = 0;
        let passed = 0;
        const verdicts = await Promise.all(
          problems.map(async (p) => {
            const v = await filterTrace(p.trace, p, sb, opts.sandboxTimeoutMs);
            if (v.ok) passed++;
            opts.progress?.(++done, passed);
            return v;
          }),
        );
        verdicts.forEach((v, i) => {
          const p = problems[i]!;
          if (v.ok) kept.push(record(p, p.trace));
          else {
            rejections[v.reason!]!++;
            rejectedRows.push({ id: p.id, family: p.family, reason: v.reason, detail: v.detail });
            log(`rejected ${p.id}: ${v.reason} (${v.detail})`);
          }
        });
      }
      writeJsonl(opts.out, kept);
      if (opts.rejectedOut) writeJsonl(opts.rejectedOut, rejectedRows);
      return { total: problems.length, kept: kept.length, rejections };
    }

    // Claude.
    if (!opts.claude) throw new Error('claude settings missing');
    const { ClaudeClient } = await import('../claude/client.js');
    const { runTeacher, itemOfProblem } = await import('../claude/teacher.js');
    const client = new ClaudeClient({
      ...opts.claude,
      baseURL: opts.claude.baseURL,
      onEvent: (e) => {
        if (e.type === 'waiting')
          log(`claude: waiting for ${e.host}: ${e.inFlight} request(s) without an answer, the oldest for ${Math.round(e.waitedMs / 1000)} s (deadline ${Math.round(e.deadlineMs / 1000)} s)`);
        else if (e.type === 'retry') log(`claude: retrying in ${(e.delayMs / 1000).toFixed(1)} s after ${e.reason}`);
      },
    });
    let items;
    let byId: Map<string, Problem> | null = null;
    if (opts.prompts) {
      items = readPromptFile(opts.prompts)
        .slice(0, opts.count || undefined)
        .map((r) => ({
          id: `prompt-${sha256(r.prompt).slice(0, 12)}`,
          question: r.prompt,
          ...(r.groundTruth !== undefined ? { truth: { groundTruth: r.groundTruth, kind: 'number' as const } } : {}),
        }))
        .map((it) => (it.truth && typeof it.truth.groundTruth === 'string' ? { ...it, truth: { ...it.truth, kind: 'text' as const } } : it));
    } else {
      const problems = generateProblems({ seed: opts.seed, count: opts.count, families: opts.families });
      byId = new Map(problems.map((p) => [p.id, p]));
      items = problems.map(itemOfProblem);
    }
    const sb = await sandbox();
    let kept = 0;
    const { outcomes, rejections } = await runTeacher(items, {
      client,
      sandbox: sb,
      useBatchApi: opts.claude.useBatchApi,
      sandboxTimeoutMs: opts.sandboxTimeoutMs,
      onOutcome: (o, done) => {
        if (o.ok) kept++;
        else log(`rejected ${o.item.id}: ${o.reason}${o.detail ? ` (${o.detail})` : ''}`);
        opts.progress?.(done, kept);
      },
    });
    const rows: SynthRecord[] = [];
    for (const o of outcomes) {
      if (!o.ok) {
        rejectedRows.push({ id: o.item.id, family: o.item.family, reason: o.reason, detail: o.detail, response: o.trace });
        continue;
      }
      const p = byId?.get(o.item.id);
      rows.push(
        p
          ? record(p, o.trace!)
          : { messages: [{ role: 'user', content: o.item.question }, { role: 'assistant', content: o.trace! }], ...(o.item.truth ? { groundTruth: o.item.truth.groundTruth } : {}), source: 'unified', id: o.item.id },
      );
    }
    writeJsonl(opts.out, rows);
    if (opts.rejectedOut) writeJsonl(opts.rejectedOut, rejectedRows);
    return { total: items.length, kept: rows.length, rejections, claude: { requests: client.stats.requests, cacheHits: client.stats.cacheHits, retries: client.stats.retries } };
  } finally {
    await (ownSandbox as { close(): Promise<void> } | null)?.close();
  }
}
