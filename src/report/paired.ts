// Paired comparisons of two models on the same prompts: per-prompt differences of one metric, resampled
// together (a prompt drawn for one model is drawn for the other), so prompt difficulty cancels out.
import { quantile } from '../eval/bootstrap.js';
import { METRICS, type ScoredResponse } from '../eval/metrics.js';
import { Rng } from '../util/rng.js';
import type { ResponseRow } from './artifacts.js';

export interface PairedDifference {
  metric: string;
  /** Model A minus model B. */
  a: string;
  b: string;
  /** Prompts where the metric applies to both responses. */
  n: number;
  meanA: number | null;
  meanB: number | null;
  /** Mean of A − B over the n prompts. */
  diff: number | null;
  /** 95% percentile interval of the mean difference; null when n = 0 or every difference is the same. */
  lo: number | null;
  hi: number | null;
  /** Every prompt has the same difference (e.g. both models wrong everywhere): an interval would say nothing. */
  constant: boolean;
  resamples: number;
}

/** Per-prompt values of a metric keyed by item id (the metric's extractor from src/eval/metrics.ts). */
function valuesById(rows: readonly ResponseRow[], metric: string): Map<string, number> {
  const extract = METRICS[metric];
  if (!extract) throw new Error(`unknown metric '${metric}' (known: ${Object.keys(METRICS).join(', ')})`);
  const out = new Map<string, number>();
  for (const row of rows) {
    if (row.id === undefined) continue;
    let v: number | null | undefined;
    try {
      v = extract(row as unknown as ScoredResponse);
    } catch {
      v = null; // a row written by another tool without the field this metric reads
    }
    if (typeof v === 'number' && Number.isFinite(v)) out.set(String(row.id), v);
  }
  return out;
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/**
 * Mean of A − B over the prompts both models answered, with a 95% percentile-bootstrap interval from
 * `resamples` resamples of the prompts (with replacement).
 */
export function pairedDifference(metric: string, a: { name: string; rows: readonly ResponseRow[] }, b: { name: string; rows: readonly ResponseRow[] }, resamples: number, seed: number): PairedDifference {
  const va = valuesById(a.rows, metric);
  const vb = valuesById(b.rows, metric);
  const ids = [...va.keys()].filter((id) => vb.has(id)).sort();
  const xa = ids.map((id) => va.get(id)!);
  const xb = ids.map((id) => vb.get(id)!);
  const d = ids.map((_, i) => xa[i]! - xb[i]!);
  const base = { metric, a: a.name, b: b.name, n: ids.length, resamples };
  if (ids.length === 0) return { ...base, meanA: null, meanB: null, diff: null, lo: null, hi: null, constant: false };
  const constant = d.every((x) => x === d[0]);
  let lo: number | null = null;
  let hi: number | null = null;
  if (!constant) {
    const rng = new Rng(seed).fork(`paired:${metric}:${a.name}:${b.name}`);
    const means = new Float64Array(resamples);
    for (let r = 0; r < resamples; r++) {
      let s = 0;
      for (let i = 0; i < d.length; i++) s += d[Math.floor(rng.next() * d.length)]!;
      means[r] = s / d.length;
    }
    means.sort();
    lo = quantile(means, 0.025);
    hi = quantile(means, 0.975);
  }
  return { ...base, meanA: mean(xa), meanB: mean(xb), diff: mean(d), lo, hi, constant };
}

/** Which way a paired difference points: A higher, B higher, or no separation (the interval holds zero). */
export function direction(p: PairedDifference): 'a higher' | 'b higher' | 'no separation' | 'no data' {
  if (p.diff === null) return 'no data';
  if (p.constant) return p.diff > 0 ? 'a higher' : p.diff < 0 ? 'b higher' : 'no separation';
  if (p.lo! > 0) return 'a higher';
  if (p.hi! < 0) return 'b higher';
  return 'no separation';
}
