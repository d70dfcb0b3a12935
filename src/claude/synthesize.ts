// Claude as the teacher for family problems: rounds of requests until enough traces pass the filter.
import type { Config } from '../config/schema.js';
import type { CodeSandbox } from '../sandbox/types.js';
import type { Problem } from '../synth/types.js';
import { ClaudeClient, type ClaudeClientOptions } from './client.js';
import { itemOfProblem, runTeacher, type TeacherOutcome } from './teacher.js';

export interface SynthesizeOptions {
  client: ClaudeClient;
  sandbox: CodeSandbox;
  useBatchApi?: boolean;
  sandboxTimeoutMs?: number;
  onOutcome?: (o: TeacherOutcome, done: number, total: number) => void;
}

export interface SynthesisResult {
  /** Problems whose trace is Claude's and passed the filter, in problem order. */
  kept: Problem[];
  outcomes: TeacherOutcome[];
  rejections: Record<string, number>;
  model: string;
}

/**
 * Asks Claude for problems in order, `needed - kept` at a time, until `needed` traces pass the filter or
 * the problems run out. Kept problems carry Claude's trace in place of the offline one.
 */
export async function synthesizeWithClaude(problems: Problem[], needed: number, opts: SynthesizeOptions): Promise<SynthesisResult> {
  const kept: Problem[] = [];
  const outcomes: TeacherOutcome[] = [];
  const rejections: Record<string, number> = {};
  let next = 0;
  while (kept.length < needed && next < problems.length) {
    const round = problems.slice(next, next + (needed - kept.length));
    next += round.length;
    const res = await runTeacher(round.map(itemOfProblem), { ...opts, onOutcome: (o, d) => opts.onOutcome?.(o, outcomes.length + d, needed) });
    res.outcomes.forEach((o, i) => {
      outcomes.push(o);
      if (o.ok) kept.push({ ...round[i]!, trace: o.trace! });
    });
    for (const [k, v] of Object.entries(res.rejections)) rejections[k] = (rejections[k] ?? 0) + v;
  }
  return { kept, outcomes, rejections, model: opts.client.model };
}

export function clientFromConfig(config: Config, extra: Partial<ClaudeClientOptions> = {}): ClaudeClient {
  return new ClaudeClient({ model: config.synth.claudeModel, cacheDir: config.synth.cacheDir, concurrency: config.synth.concurrency, ...extra });
}
