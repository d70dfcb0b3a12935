// Scoring a batch of outputs, and the files a run keeps: eval/<model>/responses.jsonl (every response
// with its verdicts) and eval/summary.json (the aggregate table, the judge, decoding settings and seeds).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirs } from '../util/files.js';
import type { CodeSandbox } from '../sandbox/types.js';
import { sha256File } from '../util/hash.js';
import { writeJsonl } from '../util/jsonl.js';
import type { JudgeInfo } from './judge/index.js';
import { summarize, type ModelSummary, type ScoredResponse } from './metrics.js';
import type { EvalItem, InstructionChecker } from './types.js';
import { scoreResponse } from './verdicts.js';

export interface Output {
  item: EvalItem;
  response: string;
  tokens?: number | null;
  finishReason?: string | null;
}

export interface ScoreSettings {
  sandbox?: CodeSandbox;
  timeoutMs?: number;
  checkInstruction?: InstructionChecker;
  /** Responses scored at once (the sandbox pool runs their programs in parallel). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function scoreOutputs(outputs: readonly Output[], settings: ScoreSettings = {}): Promise<ScoredResponse[]> {
  const rows: ScoredResponse[] = new Array(outputs.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < outputs.length) {
      const i = next++;
      const o = outputs[i]!;
      const verdict = await scoreResponse(o.item, o.response, {
        sandbox: settings.sandbox,
        timeoutMs: settings.timeoutMs,
        checkInstruction: settings.checkInstruction,
        tokens: o.tokens ?? null,
        finishReason: o.finishReason ?? null,
      });
      rows[i] = { ...verdict, response: o.response };
      settings.onProgress?.(++done, outputs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(settings.concurrency ?? 2, outputs.length)) }, worker));
  return rows;
}

export interface Decoding {
  maxNewTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  /** Prompts per generation batch (sampling streams are per batch). */
  batchSize: number;
}

export interface ModelEntry extends ModelSummary {
  /** Adapter folder evaluated (null: the base model; or where the outputs came from). */
  adapter: string | null;
  source?: string;
  judge: string;
}

export interface EvalSummary {
  judge: JudgeInfo;
  decoding: Decoding | null;
  seeds: { generation: number | null; bootstrap: number; pairwise: number };
  bootstrap: { resamples: number; level: number; method: string };
  sandbox: { executed: boolean; timeoutMs: number | null };
  items: { n: number; id: number; ood: number; families: Record<string, number>; file?: string; sha256?: string };
  reference: string | null;
  models: Record<string, ModelEntry>;
  /** Models of a run that could not be evaluated, and why. */
  skipped?: Record<string, string>;
  metrics: Record<string, string>;
}

/** What each metric in summary.json means (written into the file so the table documents itself). */
export const METRIC_DOCS: Record<string, string> = {
  strict: 'trace items: exactly <cot>, <logic>, <code>, <answer> in order, nothing else (issue #2)',
  lenient: 'trace items: all four tags present, any order',
  'tag.cot': 'trace items: a matched <cot>...</cot> pair', 'tag.logic': 'trace items: a matched <logic> pair',
  'tag.code': 'trace items: a matched <code> pair', 'tag.answer': 'trace items: a matched <answer> pair',
  logicValid: 'trace items: every logic line is DEFINE/GIVEN/REQUIRE/IMPLIES: body',
  codeCompiles: 'trace items: the <code> section compiles (no section: false)',
  codeRuns: 'trace items: the code runs to the end in the sandbox within the time limit',
  programAccuracy: 'PAL: the last stdout line (or variable answer/result/solution()) matches the ground truth; no program, an error or a timeout is wrong',
  statedAccuracy: 'the <answer> section matches the ground truth (no section: wrong); Countdown: the section passes TinyZero\'s equation check',
  agreement: 'among responses with both a program answer and an <answer> section: they agree',
  countdownAccuracy: 'Countdown items, TinyZero\'s compute_score is 1: the last <answer> on the response\'s last line uses each number once and evaluates (as Python) within 1e-5 of the target; an answer on lines of its own, as in a unified trace, is not read',
  countdownScore: 'Countdown items, TinyZero\'s graded compute_score: 0 without an answer, 0.1 for a wrong one, 1 when correct',
  instructionPass: 'instruction items: the item\'s checker passes on the <answer> section, or the whole response without one',
  finalAccuracy: 'any checkable item: the <answer> section, or the whole response when there is none, is correct; Countdown: the <answer> section by TinyZero\'s equation check (no section: wrong)',
  lengthChars: 'response length in characters', lengthTokens: 'response length in real Qwen tokens (the embedded model\'s pruned ids are counted as the Qwen tokenizer counts their text)',
  judgeScore: 'single-answer judge score, rating 1-10 rescaled to 0-1',
  winRate: 'pairwise vs the reference model: win 1, tie 0.5, loss 0 (se: standard error)',
};

export function modelEntry(rows: readonly ScoredResponse[], opts: { adapter: string | null; source?: string; judge: string; resamples: number; seed: number }): ModelEntry {
  return { adapter: opts.adapter, ...(opts.source ? { source: opts.source } : {}), judge: opts.judge, ...summarize(rows, opts.resamples, opts.seed) };
}

/** The summary.json object; `seed` seeds the bootstrap, the pairwise order and (with decoding) generation. */
export function buildSummary(opts: {
  judge: JudgeInfo;
  decoding: Decoding | null;
  seed: number;
  resamples: number;
  timeoutMs: number | null;
  items: readonly EvalItem[];
  itemsFile?: string;
  reference: string | null;
  models: Record<string, ModelEntry>;
  skipped?: Record<string, string>;
}): EvalSummary {
  return {
    judge: opts.judge,
    decoding: opts.decoding,
    seeds: { generation: opts.decoding ? opts.decoding.seed : null, bootstrap: opts.seed, pairwise: opts.seed },
    bootstrap: { resamples: opts.resamples, level: 0.95, method: 'percentile, items resampled with replacement' },
    sandbox: { executed: opts.timeoutMs !== null, timeoutMs: opts.timeoutMs },
    items: { ...itemCounts(opts.items), ...(opts.itemsFile ? { file: opts.itemsFile, sha256: sha256File(opts.itemsFile) } : {}) },
    reference: opts.reference,
    models: opts.models,
    ...(opts.skipped ? { skipped: opts.skipped } : {}),
    metrics: METRIC_DOCS,
  };
}

export function itemCounts(items: readonly EvalItem[]): EvalSummary['items'] {
  const families: Record<string, number> = {};
  for (const it of items) families[it.family] = (families[it.family] ?? 0) + 1;
  const ood = items.filter((it) => it.ood).length;
  return { n: items.length, id: items.length - ood, ood, families };
}

export function writeResponses(evalDir: string, model: string, rows: readonly ScoredResponse[]): string {
  const file = join(evalDir, model, 'responses.jsonl');
  writeJsonl(file, rows);
  return file;
}

export function writeSummary(evalDir: string, summary: EvalSummary): string {
  makeDirs(evalDir);
  const file = join(evalDir, 'summary.json');
  writeFileSync(file, JSON.stringify(summary, null, 2) + '\n');
  return file;
}
