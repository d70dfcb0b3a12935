// Which judge produces the judged numbers: Claude when a key is set (or asked for), otherwise the offline
// rubric. The offline path never builds a network client.
import { ClaudeJudge, JUDGE_PROMPT_HASH, type ChatClient } from './claude.js';
import { OfflineRubricJudge } from './offline.js';
import type { Judge } from './types.js';

export type JudgeMode = 'auto' | 'offline' | 'claude';

export interface JudgeInfo {
  /** 'offline-rubric' or 'claude:<model>'. */
  name: string;
  kind: 'offline' | 'claude';
  scale: string;
  pairwise: string;
  promptHash?: string;
}

export const RATING_SCALE = 'rating 1-10 ([[N]]), score = (N - 1) / 9';
export const PAIRWISE_RULE = 'vs reference, seeded random order, win 1, tie 0.5, loss 0; mean with standard error and n';

export interface JudgeChoice {
  judge: Judge;
  info: JudgeInfo;
}

export function resolveJudgeMode(mode: JudgeMode, env: NodeJS.ProcessEnv = process.env): 'offline' | 'claude' {
  if (mode === 'auto') return env.ANTHROPIC_API_KEY ? 'claude' : 'offline';
  if (mode === 'claude' && !env.ANTHROPIC_API_KEY) {
    throw new Error('eval.judge is "claude" but ANTHROPIC_API_KEY is not set (use "auto" or "offline" to judge offline)');
  }
  return mode;
}

/** `makeClient` is only called for the Claude judge, so the offline judge cannot reach the network. */
export async function createJudge(
  mode: JudgeMode,
  opts: { model: string; env?: NodeJS.ProcessEnv; makeClient: () => ChatClient | Promise<ChatClient> },
): Promise<JudgeChoice> {
  if (resolveJudgeMode(mode, opts.env) === 'offline') {
    const judge = new OfflineRubricJudge();
    return { judge, info: { name: judge.name, kind: 'offline', scale: RATING_SCALE, pairwise: PAIRWISE_RULE } };
  }
  const judge = new ClaudeJudge(await opts.makeClient(), opts.model);
  return { judge, info: { name: judge.name, kind: 'claude', scale: RATING_SCALE, pairwise: PAIRWISE_RULE, promptHash: JUDGE_PROMPT_HASH } };
}

export { ClaudeJudge, JUDGE_PROMPT_HASH, PAIRWISE_SYSTEM, SINGLE_SYSTEM, parsePreference, parseRating } from './claude.js';
export type { ChatClient, ChatRequest } from './claude.js';
export { OfflineRubricJudge, rubricPoints, rubricRating } from './offline.js';
export { judgeResponses } from './run.js';
export type { Comparison, Judge, JudgeInput, Preference, Rating } from './types.js';
