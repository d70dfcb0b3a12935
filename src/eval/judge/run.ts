// Applying a judge to a model's responses: a single-answer rating for each, and a pairwise comparison
// with the reference model's response to the same item, shown in a seeded random order.
import { Rng } from '../../util/rng.js';
import type { EvalItem } from '../types.js';
import type { ScoredResponse } from '../metrics.js';
import type { Judge, JudgeInput } from './types.js';

export interface JudgeRunOptions {
  judge: Judge;
  items: readonly EvalItem[];
  rows: ScoredResponse[];
  /** The reference model's responses (same items); null to skip the pairwise comparison. */
  reference: readonly ScoredResponse[] | null;
  /** Seeds the presentation order; the same seed and model show the same order. */
  seed: number;
  model: string;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Fills `judge` and `vsReference` on each row in place. */
export async function judgeResponses(opts: JudgeRunOptions): Promise<void> {
  const { judge, items, rows } = opts;
  const byId = new Map(items.map((it) => [it.id, it]));
  const refById = new Map((opts.reference ?? []).map((r) => [r.id, r]));
  // Draw the order for every row up front, in row order, so concurrency cannot change it.
  const orderRng = new Rng(opts.seed).fork(`pairwise/${opts.model}`);
  const modelFirst = rows.map(() => orderRng.next() < 0.5);
  const total = rows.length * (opts.reference ? 2 : 1);
  let done = 0;
  const tick = (): void => opts.onProgress?.(++done, total);

  const tasks: (() => Promise<void>)[] = [];
  rows.forEach((row, i) => {
    const item = byId.get(row.id);
    if (!item) throw new Error(`judge: response ${row.id} has no eval item`);
    const input: JudgeInput = { item, response: row.response, verdict: row };
    tasks.push(async () => {
      const r = await judge.rate(input);
      row.judge = { by: judge.name, score: r.score, rating: r.rating, ...(r.error ? { error: r.error } : {}) };
      tick();
    });
    if (!opts.reference) return;
    tasks.push(async () => {
      const ref = refById.get(row.id);
      if (!ref) {
        row.vsReference = { by: judge.name, outcome: null, modelFirst: modelFirst[i]!, error: 'no reference response for this item' };
      } else {
        const refInput: JudgeInput = { item, response: ref.response, verdict: ref };
        const first = modelFirst[i] ? input : refInput;
        const second = modelFirst[i] ? refInput : input;
        const c = await judge.compare(item, first, second);
        const modelWon = c.preference === (modelFirst[i] ? 'first' : 'second');
        const outcome = c.preference === null ? null : c.preference === 'tie' ? 0.5 : modelWon ? 1 : 0;
        row.vsReference = { by: judge.name, outcome, modelFirst: modelFirst[i]!, ...(c.error ? { error: c.error } : {}) };
      }
      tick();
    });
  });
  await runPool(tasks, Math.max(1, opts.concurrency ?? 4));
}

async function runPool(tasks: (() => Promise<void>)[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
}
