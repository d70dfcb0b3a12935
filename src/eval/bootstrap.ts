// Percentile bootstrap confidence intervals for a mean over items (resampling items with replacement).
import { Rng } from '../util/rng.js';

export interface Estimate {
  /** Mean over the items the metric applies to; null when there are none. */
  mean: number | null;
  /** 95% percentile-bootstrap interval; null when n = 0. */
  lo: number | null;
  hi: number | null;
  /** Standard error of the mean (sample standard deviation / sqrt(n)); null when n < 2. */
  se: number | null;
  n: number;
}

/**
 * Mean of `values` with a 95% interval from `resamples` bootstrap resamples drawn with `rng`.
 * The same rng state gives the same interval.
 */
export function bootstrapMean(values: readonly number[], resamples: number, rng: Rng, level = 0.95): Estimate {
  const n = values.length;
  if (n === 0) return { mean: null, lo: null, hi: null, se: null, n: 0 };
  const mean = sum(values) / n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  const se = n > 1 ? Math.sqrt(ss / (n - 1) / n) : null;
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(rng.next() * n)]!;
    means[b] = s / n;
  }
  means.sort();
  const alpha = (1 - level) / 2;
  return { mean, lo: quantile(means, alpha), hi: quantile(means, 1 - alpha), se, n };
}

/** Linear-interpolated quantile of sorted values (numpy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}
