// One stage of the pipeline, run with a marker: skipped when its done marker exists, timed otherwise,
// and recorded as done or failed. The same function runs a stage from the CLI and from a notebook.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirs, readJsonFile } from '../util/files.js';
import type { Config } from '../config/index.js';
import { modelFingerprint } from '../model/folder.js';
import { appendProgress, configHash, readDone, writeDone, writeFailed, type DoneMarker, type StageMode } from './markers.js';
import { writeFileAtomic } from '../train/checkpoint.js';

/** A training step as the trainers report it (loss, lr, DPO rewards...). */
export type StepRow = Record<string, number>;

export interface StageHooks {
  /** Called for every optimizer step of a training stage (notebooks draw live loss curves from it). */
  onStep?(stage: string, row: StepRow, progress: { totalSteps: number; etaSeconds: number }): void;
  /** One-line notes from the stage. */
  onLog?(line: string): void;
}

export interface StageContext {
  config: Config;
  /** Absolute path of runs/<name>. */
  runDir: string;
  mode: StageMode;
  hooks: StageHooks;
  log(line: string): void;
}

export interface Stage {
  name: string;
  /** One sentence: what the stage does (shown in logs and `--help`). */
  describe: string;
  /**
   * The notebooks that run this stage when the pipeline executes notebooks (executed in order; the last
   * one calls the stage); none: run directly. Consecutive stages with the same list share one execution.
   */
  notebooks?: readonly string[];
  /** Of `notebooks`, those that run no stage (they read only the config): executed beside the others. */
  concurrentNotebooks?: readonly string[];
  /** Runs on every pipeline call, even when done before (cheap stages such as the report). */
  always?: boolean;
  run(ctx: StageContext): Promise<unknown>;
}

export class StageError extends Error {
  constructor(
    readonly stage: string,
    message: string,
  ) {
    super(`stage ${stage} failed: ${message}`);
    this.name = 'StageError';
  }
}

/**
 * Writes the run's config.json, or checks that the one there matches: resuming a run with different
 * settings would mix two experiments in one folder.
 */
export function ensureRunConfig(config: Config, runDir: string): void {
  ensureSameModel(config, runDir);
  const file = join(runDir, 'config.json');
  if (existsSync(file)) {
    const before = readJsonFile<Config>(file, 'run config');
    if (configHash(before) !== configHash(config)) {
      const changed = diffPaths(before, config).filter((p) => !p.startsWith('run.') && !p.startsWith('report.'));
      throw new Error(
        `${runDir} was made with a different config (${changed.slice(0, 6).join(', ') || 'changed'}); ` +
          'rerun with --restart to start it over, or pick another run name with --set run.name=NAME',
      );
    }
    return;
  }
  makeDirs(runDir);
  writeFileAtomic(file, JSON.stringify(config, null, 2) + '\n');
}

/** A run's finished stages were trained on the model files it started with: refuse to mix in others. */
function ensureSameModel(config: Config, runDir: string): void {
  const file = join(runDir, 'model-fingerprint.txt');
  const now = modelFingerprint(config.model.source);
  if (existsSync(file)) {
    const before = readFileSync(file, 'utf8').trim();
    if (before !== now)
      throw new Error(
        `${runDir} was made with other files in the model folder ${config.model.source} (fingerprint ${before}, now ${now}); ` +
          'rerun with --restart to start it over, or pick another run name with --set run.name=NAME',
      );
    return;
  }
  makeDirs(runDir);
  writeFileAtomic(file, now + '\n');
}

function diffPaths(a: unknown, b: unknown, prefix = ''): string[] {
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => diffPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
}

export interface StageRun {
  stage: string;
  skipped: boolean;
  marker: DoneMarker;
}

/** Adds a progress line to the log every `everyMs` of training (and at the last step), then calls the caller's onStep. */
export function withStepProgress(ctx: StageContext, everyMs = 15_000): StageContext {
  let last = Date.now();
  const onStep: StageHooks['onStep'] = (stage, row, progress) => {
    const now = Date.now();
    if (now - last >= everyMs || row.step === progress.totalSteps) {
      last = now;
      const eta = progress.etaSeconds >= 90 ? `${(progress.etaSeconds / 60).toFixed(1)} min` : `${progress.etaSeconds.toFixed(0)} s`;
      const tps = row.tokensPerSecond !== undefined ? `, ${row.tokensPerSecond.toFixed(0)} tokens/s` : '';
      const epoch = row.epoch !== undefined ? ` (epoch ${row.epoch.toFixed(2)})` : '';
      ctx.log(`  ${stage}: step ${row.step}/${progress.totalSteps}${epoch}, loss ${row.loss?.toFixed(4)}${tps}, ETA ${eta}`);
    }
    ctx.hooks.onStep?.(stage, row, progress);
  };
  return { ...ctx, hooks: { ...ctx.hooks, onStep } };
}

export async function runStage(ctx: StageContext, stage: Stage): Promise<StageRun> {
  const previous = readDone(ctx.runDir, stage.name);
  if (previous && !stage.always) {
    ctx.log(`${stage.name}: done in an earlier run (${previous.wallSeconds.toFixed(1)} s), skipped`);
    return { stage: stage.name, skipped: true, marker: previous };
  }
  const startedAt = new Date();
  const t0 = performance.now();
  ctx.log(`${stage.name}: ${stage.describe}`);
  let result: unknown;
  try {
    result = await stage.run(withStepProgress(ctx));
  } catch (e) {
    const err = e as Error;
    const wallSeconds = (performance.now() - t0) / 1000;
    writeFailed(ctx.runDir, { stage: stage.name, failedAt: new Date().toISOString(), wallSeconds, mode: ctx.mode, error: err.stack ?? err.message });
    ctx.log(`${stage.name}: FAILED after ${wallSeconds.toFixed(1)} s: ${err.message}`);
    throw new StageError(stage.name, err.message);
  }
  const marker: DoneMarker = {
    stage: stage.name,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    wallSeconds: (performance.now() - t0) / 1000,
    mode: ctx.mode,
    configHash: configHash(ctx.config),
    ...(result !== undefined ? { result: JSON.parse(JSON.stringify(result)) as unknown } : {}),
  };
  writeDone(ctx.runDir, marker);
  ctx.log(`${stage.name}: done in ${marker.wallSeconds.toFixed(1)} s`);
  return { stage: stage.name, skipped: false, marker };
}

/** A logger that prints and also appends to the run's progress log (which the pipeline echoes while a notebook runs). */
export function stageLogger(runDir: string, print: (line: string) => void = console.log): (line: string) => void {
  return (line: string) => {
    print(line);
    appendProgress(runDir, `[${new Date().toISOString().slice(11, 19)}] ${line}`);
  };
}
