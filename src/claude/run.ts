// Claude as the teacher of `unitrace synth` (a TraceSource of src/synth/run.ts): family problems or a
// prompt file, each answered by Claude and kept when it passes the quality filter.
import { sha256 } from '../util/hash.js';
import { readPromptFile, synthRecord, type SynthRecord, type Traces, type TraceSource } from '../synth/run.js';
import { generateProblems } from '../synth/offline.js';
import type { Problem } from '../synth/types.js';
import { ClaudeClient } from './client.js';
import { itemOfProblem, runTeacher, type TeacherItem } from './teacher.js';

export interface ClaudeTeacherOptions {
  count: number;
  seed: number;
  families?: readonly string[];
  /** A prompt file instead of family problems (src/synth/run.ts `readPromptFile`). */
  prompts?: string;
  claude: {
    model: string;
    concurrency: number;
    useBatchApi: boolean;
    cacheDir: string;
    baseURL?: string;
    /** Total time one request may take, retries included, before the run stops (default: the client's). */
    deadlineMs?: number;
  };
}

/** The prompt file's rows as teacher items; a ground truth, when given, is checked as a number or text. */
function promptItems(file: string, count: number): TeacherItem[] {
  return readPromptFile(file)
    .slice(0, count || undefined)
    .map((r) => ({
      id: `prompt-${sha256(r.prompt).slice(0, 12)}`,
      question: r.prompt,
      ...(r.groundTruth !== undefined ? { truth: { groundTruth: r.groundTruth, kind: typeof r.groundTruth === 'string' ? ('text' as const) : ('number' as const) } } : {}),
    }));
}

export function claudeTraces(o: ClaudeTeacherOptions): TraceSource {
  return async (ctx): Promise<Traces> => {
    const client = new ClaudeClient({
      ...o.claude,
      onEvent: (e) => {
        if (e.type === 'waiting')
          ctx.log(`claude: waiting for ${e.host}: ${e.inFlight} request(s) without an answer, the oldest for ${Math.round(e.waitedMs / 1000)} s (deadline ${Math.round(e.deadlineMs / 1000)} s)`);
        else if (e.type === 'retry') ctx.log(`claude: retrying in ${(e.delayMs / 1000).toFixed(1)} s after ${e.reason}`);
      },
    });
    const problems = o.prompts ? null : generateProblems({ seed: o.seed, count: o.count, families: o.families });
    const byId = new Map<string, Problem>((problems ?? []).map((p) => [p.id, p]));
    const items = problems ? problems.map(itemOfProblem) : promptItems(o.prompts!, o.count);
    const sandbox = await ctx.sandbox();
    let passed = 0;
    const { outcomes, rejections } = await runTeacher(items, {
      client,
      sandbox,
      useBatchApi: o.claude.useBatchApi,
      sandboxTimeoutMs: ctx.sandboxTimeoutMs,
      onOutcome: (out, done) => {
        if (out.ok) passed++;
        else ctx.log(`rejected ${out.item.id}: ${out.reason}${out.detail ? ` (${out.detail})` : ''}`);
        ctx.progress?.(done, passed);
      },
    });
    const kept: SynthRecord[] = [];
    const rejected: unknown[] = [];
    for (const out of outcomes) {
      if (!out.ok) {
        rejected.push({ id: out.item.id, family: out.item.family, reason: out.reason, detail: out.detail, response: out.trace });
        continue;
      }
      const p = byId.get(out.item.id);
      kept.push(
        p
          ? synthRecord(p, out.trace!)
          : { messages: [{ role: 'user', content: out.item.question }, { role: 'assistant', content: out.trace! }], ...(out.item.truth ? { groundTruth: String(out.item.truth.groundTruth) } : {}), source: 'unified', id: out.item.id },
      );
    }
    const { requests, cacheHits, retries } = client.stats;
    return { total: items.length, kept, rejected, rejections, claude: { requests, cacheHits, retries } };
  };
}
