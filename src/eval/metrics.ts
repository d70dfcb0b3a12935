// The aggregate table: every metric as a mean with a bootstrap 95% interval, over all items, the
// in-distribution and out-of-distribution families separately, and per family.
import { Rng } from '../util/rng.js';
import { bootstrapMean, type Estimate } from './bootstrap.js';
import type { ResponseVerdict } from './types.js';

/** A scored response plus what the judge said about it. */
export interface ScoredResponse extends ResponseVerdict {
  response: string;
  /** `by`: the judge that produced the numbers ('offline-rubric' or 'claude:<model>'). */
  judge?: { by: string; score: number | null; rating: number | null; error?: string };
  /** Pairwise outcome against the reference model: 1 win, 0.5 tie, 0 loss; null when the judge gave no verdict. */
  vsReference?: { by: string; outcome: number | null; modelFirst: boolean; error?: string };
}

type Extractor = (r: ScoredResponse) => number | null | undefined;

const bool = (b: boolean | null | undefined): number | null => (b === null || b === undefined ? null : b ? 1 : 0);
const onTrace = (f: (r: ScoredResponse) => number | null): Extractor => (r) => (r.kind === 'trace' ? f(r) : null);

/**
 * Metric name -> per-response value (null: the metric does not apply to that response). Format and code
 * metrics apply to trace items; accuracies to items with a checkable answer.
 */
export const METRICS: Record<string, Extractor> = {
  strict: onTrace((r) => bool(r.strict)),
  lenient: onTrace((r) => bool(r.lenient)),
  'tag.cot': onTrace((r) => bool(r.tags.cot)),
  'tag.logic': onTrace((r) => bool(r.tags.logic)),
  'tag.code': onTrace((r) => bool(r.tags.code)),
  'tag.answer': onTrace((r) => bool(r.tags.answer)),
  logicValid: onTrace((r) => bool(r.logicValid)),
  codeCompiles: onTrace((r) => bool(r.codeCompiles)),
  codeRuns: onTrace((r) => bool(r.codeRuns)),
  programAccuracy: (r) => bool(r.programCorrect),
  statedAccuracy: (r) => bool(r.statedCorrect),
  agreement: (r) => bool(r.agree),
  countdownAccuracy: (r) => (r.countdown ? (r.countdown.score === 1 ? 1 : 0) : null),
  countdownScore: (r) => (r.countdown ? r.countdown.score : null),
  instructionPass: (r) => (r.instruction ? bool(r.instruction.pass) : null),
  finalAccuracy: (r) => bool(r.finalCorrect),
  lengthChars: (r) => r.chars,
  lengthTokens: (r) => r.tokens,
  judgeScore: (r) => r.judge?.score,
  winRate: (r) => r.vsReference?.outcome,
};

export type MetricTable = Record<string, Estimate>;

export interface ModelSummary {
  n: number;
  all: MetricTable;
  id: MetricTable;
  ood: MetricTable;
  families: Record<string, MetricTable>;
}

/** Bootstrap streams are keyed by (seed, group, metric), so adding a metric changes no other interval. */
export function summarize(rows: readonly ScoredResponse[], resamples: number, seed: number): ModelSummary {
  const table = (group: string, subset: readonly ScoredResponse[]): MetricTable => {
    const out: MetricTable = {};
    for (const [name, get] of Object.entries(METRICS)) {
      const values: number[] = [];
      for (const r of subset) {
        const v = get(r);
        if (v !== null && v !== undefined) values.push(v);
      }
      out[name] = bootstrapMean(values, resamples, new Rng(seed).fork(`${group}/${name}`));
    }
    return out;
  };
  const families: Record<string, MetricTable> = {};
  for (const f of [...new Set(rows.map((r) => r.family))].sort()) {
    families[f] = table(`family:${f}`, rows.filter((r) => r.family === f));
  }
  return {
    n: rows.length,
    all: table('all', rows),
    id: table('id', rows.filter((r) => !r.ood)),
    ood: table('ood', rows.filter((r) => r.ood)),
    families,
  };
}
