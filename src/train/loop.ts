// The optimizer loop shared by SFT and DPO: seeded epoch order, gradient accumulation, clipping, AdamW,
// the learning-rate schedule, one metrics row per step, and checkpoints that make a killed run resumable.
// Per-step work is constant in the run's length: nothing is kept per step beyond a line appended to disk.
import { join } from 'node:path';
import type { TrainingConfig } from '../config/schema.js';
import { Rng } from '../util/rng.js';
import { latestCheckpoint, saveCheckpoint, type TrainerState } from './checkpoint.js';
import { epochBatches } from './collate.js';
import { AdamW, clipGradNorm, GradAccumulator, linearSchedule, warmupSteps, type ParamMap } from './optimizer.js';
import { RunFolder, type MetricsRow } from './runfolder.js';
import type { GradComputer } from './grad/types.js';
import { batchWeight, type MicroBatch } from './types.js';

/** The fields of a training section (config.sft or config.dpo) that the loop reads. */
export const LOOP_SETTINGS = ['epochs', 'batchSize', 'gradAccum', 'lr', 'warmupRatio', 'maxGradNorm', 'weightDecay', 'adamBeta1', 'adamBeta2', 'adamEpsilon', 'checkpointEvery'] as const;
export type LoopSettings = Pick<TrainingConfig, (typeof LOOP_SETTINGS)[number]>;

/** The loop's settings out of a training section: the one place the config meets trainLoop. */
export function loopSettings(section: LoopSettings): LoopSettings {
  return Object.fromEntries(LOOP_SETTINGS.map((k) => [k, section[k]])) as LoopSettings;
}

export interface LoopOptions extends LoopSettings {
  run: RunFolder;
  /** Differs when settings or data differ; a resume with another fingerprint is refused. */
  fingerprint: string;
  seed: number;
  /** Per-example lengths (tokens) for length-grouped batches. */
  lengths: readonly number[];
  makeBatch(indices: number[], seed: number): MicroBatch;
  computer: GradComputer;
  /** Initial trainable values; updated in place. */
  params: ParamMap;
  /** Which parameters get weight decay. */
  decays?: (name: string) => boolean;
  /** Writes the user-facing result (PEFT adapter, or model weights) for the given values into dir. */
  exportParams(dir: string, params: ParamMap): void | Promise<void>;
  /** Folder name of that result inside a checkpoint and the run folder: 'adapter' or 'model'. */
  exportName: string;
  resume: boolean;
  onStep?(row: MetricsRow, progress: { totalSteps: number; etaSeconds: number }): void;
  /** Stop after this many optimizer steps in this process (tests, benchmarks); the run stays resumable. */
  maxStepsThisProcess?: number;
  /** Aborting stops after the current step with a checkpoint (Ctrl-C in the CLI, a notebook's stop button). */
  signal?: AbortSignal;
}

export interface LoopResult {
  steps: number;
  totalSteps: number;
  stepsPerEpoch: number;
  resumedFrom: number | null;
  finished: boolean;
  trainSeconds: number;
  tokensSeen: number;
  lastRow: MetricsRow | null;
}

/** Steps per epoch: every example every epoch; the last step of an epoch may accumulate fewer micro-batches. */
export function planSteps(numExamples: number, batchSize: number, gradAccum: number, epochs: number): { microPerEpoch: number; stepsPerEpoch: number; totalSteps: number } {
  const microPerEpoch = Math.ceil(numExamples / batchSize);
  const stepsPerEpoch = Math.ceil(microPerEpoch / gradAccum);
  return { microPerEpoch, stepsPerEpoch, totalSteps: Math.max(1, Math.round(stepsPerEpoch * epochs)) };
}

/** The epoch's order depends only on (seed, epoch), so a resumed run rebuilds it without stored state. */
const epochOrder = (opts: LoopOptions, epoch: number): number[][] => epochBatches(opts.lengths, opts.batchSize, new Rng(opts.seed).fork(`epoch-${epoch}`));

export async function trainLoop(opts: LoopOptions): Promise<LoopResult> {
  const { run, params, computer } = opts;
  const { microPerEpoch, stepsPerEpoch, totalSteps } = planSteps(opts.lengths.length, opts.batchSize, opts.gradAccum, opts.epochs);
  const optimizer = new AdamW(params, { beta1: opts.adamBeta1, beta2: opts.adamBeta2, eps: opts.adamEpsilon, weightDecay: opts.weightDecay }, opts.decays);
  const schedule = linearSchedule(opts.lr, totalSteps, warmupSteps(totalSteps, opts.warmupRatio));

  let state: TrainerState = { step: 0, epoch: 0, batchInEpoch: 0, tokensSeen: 0, trainSeconds: 0, rng: new Rng(opts.seed).fork('dropout').state(), fingerprint: opts.fingerprint };
  let resumedFrom: number | null = null;
  let lastRow: MetricsRow | null = null;
  run.removeTemporaries();
  const ckpt = opts.resume ? latestCheckpoint(run.checkpoints) : null;
  if (ckpt) {
    if (ckpt.state.fingerprint !== opts.fingerprint)
      throw new Error(`${ckpt.dir}: this checkpoint was made with other settings or data (fingerprint ${ckpt.state.fingerprint}, now ${opts.fingerprint}); start a new run folder`);
    for (const [name, p] of params) {
      const saved = ckpt.params.get(name);
      if (!saved || saved.length !== p.length) throw new Error(`${ckpt.dir}: trainable parameter ${name} is missing or has another size`);
      p.set(saved);
    }
    optimizer.load(ckpt.optimizer);
    state = ckpt.state;
    resumedFrom = state.step;
    const kept = run.truncateMetrics(state.step);
    lastRow = kept[kept.length - 1] ?? null;
  } else {
    run.clear();
  }
  const rng = Rng.fromState(state.rng);
  await computer.setTrainable(params);

  const accumulator = new GradAccumulator();
  const checkpoint = () =>
    saveCheckpoint(run.checkpoints, { state: { ...state, rng: rng.state() }, params, optimizer: optimizer.state() }, (dir) => opts.exportParams(join(dir, opts.exportName), params));

  let batches = epochOrder(opts, state.epoch);
  let stepsHere = 0;
  while (state.step < totalSteps && (opts.maxStepsThisProcess === undefined || stepsHere < opts.maxStepsThisProcess) && !opts.signal?.aborted) {
    if (state.batchInEpoch >= microPerEpoch) {
      state.epoch++;
      state.batchInEpoch = 0;
      batches = epochOrder(opts, state.epoch);
    }
    const started = performance.now();
    const count = Math.min(opts.gradAccum, microPerEpoch - state.batchInEpoch);
    let weightSum = 0;
    let lossSum = 0;
    let stepTokens = 0;
    const metricSums: Record<string, number> = {};
    for (let i = 0; i < count; i++) {
      const batch = opts.makeBatch(batches[state.batchInEpoch + i]!, rng.nextU32());
      const out = await computer.compute(batch);
      if (!Number.isFinite(out.loss)) throw new Error(`step ${state.step + 1}, micro-batch ${i + 1}: loss is ${out.loss} (epoch ${state.epoch}); lower the learning rate`);
      const w = batchWeight(batch);
      if (w > 0) accumulator.add(out.grads, w);
      weightSum += w;
      lossSum += out.loss * w;
      for (const [k, v] of Object.entries(out.metrics)) metricSums[k] = (metricSums[k] ?? 0) + v * w;
      stepTokens += batch.tokens;
    }
    const grads = accumulator.mean();
    const gradNorm = clipGradNorm(grads, opts.maxGradNorm);
    const lr = schedule(state.step);
    optimizer.apply(params, grads, lr);
    await computer.setTrainable(params);

    const seconds = (performance.now() - started) / 1000;
    state.step++;
    state.batchInEpoch += count;
    state.tokensSeen += stepTokens;
    state.trainSeconds += seconds;
    stepsHere++;
    const row: MetricsRow = {
      step: state.step,
      epoch: state.epoch + state.batchInEpoch / microPerEpoch,
      loss: lossSum / weightSum,
      lr,
      gradNorm,
      tokens: state.tokensSeen,
      tokensPerSecond: stepTokens / Math.max(seconds, 1e-9),
    };
    for (const [k, v] of Object.entries(metricSums)) row[k] = v / weightSum;
    run.appendMetrics(row);
    lastRow = row;
    opts.onStep?.(row, { totalSteps, etaSeconds: (state.trainSeconds / state.step) * (totalSteps - state.step) });
    if (state.step % opts.checkpointEvery === 0 || state.step === totalSteps) await checkpoint();
    // In-process compute resolves through microtasks only; yield once a step so signals (Ctrl-C),
    // timers and a notebook's display get their turn.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const finished = state.step >= totalSteps;
  if (!finished && stepsHere > 0 && state.step % opts.checkpointEvery !== 0) await checkpoint();
  if (finished) await run.writeFolderAtomic(opts.exportName, (dir) => opts.exportParams(dir, params));
  return { steps: state.step, totalSteps, stepsPerEpoch, resumedFrom, finished, trainSeconds: state.trainSeconds, tokensSeen: state.tokensSeen, lastRow };
}
