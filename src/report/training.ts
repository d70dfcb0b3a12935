// Summaries of a training run's per-step metrics: per-epoch mean loss, first -> last epoch reduction,
// and stability indicators (non-finite losses, spikes, gradient norms).
import type { MetricRow } from './artifacts.js';

export interface EpochLoss {
  epoch: number;
  meanLoss: number;
  steps: number;
}

/**
 * Groups steps by epoch. Trainers log either an integer epoch index or a fractional epoch counter
 * (1.5 = halfway through the second epoch, Hugging Face style); both map to 1-based epochs here.
 */
export function epochLosses(rows: readonly MetricRow[]): EpochLoss[] {
  if (rows.length === 0) return [];
  const integral = rows.every((r) => Number.isInteger(r.epoch));
  const zeroBased = integral && rows.some((r) => r.epoch === 0);
  const byEpoch = new Map<number, { sum: number; n: number }>();
  for (const r of rows) {
    if (!Number.isFinite(r.loss)) continue;
    const e = integral ? r.epoch + (zeroBased ? 1 : 0) : Math.max(1, Math.ceil(r.epoch - 1e-9));
    const acc = byEpoch.get(e) ?? { sum: 0, n: 0 };
    acc.sum += r.loss;
    acc.n += 1;
    byEpoch.set(e, acc);
  }
  return [...byEpoch.entries()].sort((a, b) => a[0] - b[0]).map(([epoch, a]) => ({ epoch, meanLoss: a.sum / a.n, steps: a.n }));
}

export interface TrainingSummary {
  steps: number;
  epochs: number;
  firstEpochLoss: number | null;
  lastEpochLoss: number | null;
  /** (first - last) / first, from per-epoch mean losses. */
  lossReduction: number | null;
  nonFiniteLosses: number;
  /** Epochs whose mean loss rose more than 10% over the previous epoch's. */
  lossSpikes: number;
  maxGradNorm: number | null;
  meanTokensPerSecond: number | null;
  tokens: number;
}

export function summarizeTraining(rows: readonly MetricRow[]): TrainingSummary {
  const epochs = epochLosses(rows);
  const first = epochs[0]?.meanLoss ?? null;
  const last = epochs.length ? epochs[epochs.length - 1]!.meanLoss : null;
  let spikes = 0;
  for (let i = 1; i < epochs.length; i++) if (epochs[i]!.meanLoss > epochs[i - 1]!.meanLoss * 1.1) spikes++;
  const grads = rows.map((r) => r.gradNorm).filter((g): g is number => typeof g === 'number' && Number.isFinite(g));
  const tps = rows.map((r) => r.tokensPerSecond).filter((t): t is number => typeof t === 'number' && Number.isFinite(t));
  return {
    steps: rows.length ? Math.max(...rows.map((r) => r.step)) : 0,
    epochs: epochs.length,
    firstEpochLoss: first,
    lastEpochLoss: last,
    lossReduction: first !== null && last !== null && first > 0 ? (first - last) / first : null,
    nonFiniteLosses: rows.filter((r) => !Number.isFinite(r.loss)).length,
    lossSpikes: spikes,
    maxGradNorm: grads.length ? Math.max(...grads) : null,
    meanTokensPerSecond: tps.length ? tps.reduce((a, b) => a + b, 0) / tps.length : null,
    // metrics.jsonl's `tokens` is the running total (like TRL's num_tokens): the last row holds the run's count.
    tokens: rows.reduce((a, r) => (typeof r.tokens === 'number' ? Math.max(a, r.tokens) : a), 0),
  };
}

/** The x coordinate of a step in epochs, so runs of different lengths share one axis. */
export function epochAxis(rows: readonly MetricRow[]): number[] {
  const integral = rows.every((r) => Number.isInteger(r.epoch));
  if (!integral) return rows.map((r) => r.epoch);
  // Integer epochs: spread the steps of each epoch evenly inside it.
  const zeroBased = rows.some((r) => r.epoch === 0);
  const stepsIn = new Map<number, number>();
  for (const r of rows) stepsIn.set(r.epoch + (zeroBased ? 1 : 0), (stepsIn.get(r.epoch + (zeroBased ? 1 : 0)) ?? 0) + 1);
  const seen = new Map<number, number>();
  return rows.map((r) => {
    const e = r.epoch + (zeroBased ? 1 : 0);
    const k = (seen.get(e) ?? 0) + 1;
    seen.set(e, k);
    return e - 1 + k / (stepsIn.get(e) ?? 1);
  });
}
