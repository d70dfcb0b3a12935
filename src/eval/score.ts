// `unitrace score`: the evaluation's metrics and judge on outputs produced elsewhere (e.g. by a model
// trained with TRL), so any model can be compared with ours on the same items.
import { basename, extname } from 'node:path';
import { createJudge, judgeResponses, type ChatClient, type JudgeMode } from './judge/index.js';
import { readOutputs } from './items.js';
import type { ScoredResponse } from './metrics.js';
import { buildSummary, modelEntry, scoreOutputs, writeResponses, writeSummary, type EvalSummary } from './results.js';
import type { EvalItem } from './types.js';

export interface ScoreFileOptions {
  file: string;
  /** Eval items to join by id; without them each record carries its own item fields. */
  items?: EvalItem[];
  itemsFile?: string;
  field?: string;
  /** Outputs of the reference model on the same items, for the pairwise win rate. */
  reference?: string;
  execute: boolean;
  timeoutMs: number;
  judge: JudgeMode;
  judgeModel: string;
  makeClient: () => ChatClient | Promise<ChatClient>;
  resamples: number;
  seed: number;
  modelName?: string;
  /** Writes <out>/<model>/responses.jsonl and <out>/summary.json. */
  out?: string;
  log?: (line: string) => void;
}

export interface ScoreFileResult {
  summary: EvalSummary;
  rows: ScoredResponse[];
  /** Lines that could not be scored, with file:line. */
  errors: string[];
}

export async function scoreFile(opts: ScoreFileOptions): Promise<ScoreFileResult> {
  const log = opts.log ?? (() => {});
  const { outputs, errors } = readOutputs(opts.file, { field: opts.field, items: opts.items });
  const ref = opts.reference ? readOutputs(opts.reference, { field: opts.field, items: opts.items }) : null;
  if (ref) errors.push(...ref.errors);
  const modelName = opts.modelName ?? basename(opts.file, extname(opts.file));
  const sandbox = opts.execute ? (await import('../sandbox/pool.js')).createSandboxPool({ timeoutMs: opts.timeoutMs }) : undefined;
  try {
    const settings = { sandbox, timeoutMs: opts.timeoutMs, onProgress: progress(log, `scoring ${modelName}`) };
    const rows = await scoreOutputs(outputs, settings);
    const refRows = ref ? await scoreOutputs(ref.outputs, { ...settings, onProgress: progress(log, 'scoring the reference') }) : null;
    const { judge, info } = await createJudge(opts.judge, { model: opts.judgeModel, makeClient: opts.makeClient });
    const items = outputs.map((o) => o.item);
    const all = [...items, ...(ref?.outputs.map((o) => o.item) ?? [])];
    await judgeResponses({ judge, items: all, rows, reference: refRows, seed: opts.seed, model: modelName, onProgress: progress(log, `judging (${judge.name})`) });
    const models: EvalSummary['models'] = {};
    if (refRows) {
      await judgeResponses({ judge, items: all, rows: refRows, reference: null, seed: opts.seed, model: 'reference' });
      models.reference = modelEntry(refRows, { adapter: null, source: opts.reference, judge: info.name, resamples: opts.resamples, seed: opts.seed });
    }
    models[modelName] = modelEntry(rows, { adapter: null, source: opts.file, judge: info.name, resamples: opts.resamples, seed: opts.seed });
    const summary = buildSummary({
      judge: info,
      decoding: null,
      seed: opts.seed,
      resamples: opts.resamples,
      timeoutMs: opts.execute ? opts.timeoutMs : null,
      items,
      itemsFile: opts.itemsFile,
      reference: refRows ? 'reference' : null,
      models,
    });
    if (opts.out) {
      writeResponses(opts.out, modelName, rows);
      if (refRows) writeResponses(opts.out, 'reference', refRows);
      writeSummary(opts.out, summary);
    }
    return { summary, rows, errors };
  } finally {
    await sandbox?.close();
  }
}

/** Logs a progress line at most every 10% (long runs show they are alive without flooding the log). */
export function progress(log: (line: string) => void, label: string): (done: number, total: number) => void {
  let shown = -1;
  return (done, total) => {
    const tenth = Math.floor((done / Math.max(1, total)) * 10);
    if (tenth === shown) return;
    shown = tenth;
    log(`${label}: ${done}/${total}`);
  };
}
