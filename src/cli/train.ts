// What `unitrace sft` and `unitrace dpo` share: the training options (with each preset's value in --help),
// the config patch they make, Ctrl-C as "stop after this step", and the progress bar around the run.
import type { Command } from 'commander';
import { describeKey, presetNames, resolveConfig, type Config, type DeepPartial } from '../config/index.js';
import type { MetricsRow } from '../train/runfolder.js';
import { CliError, configFromOptions, COUNT, NON_NEGATIVE_INT, parseNumber, type ConfigOptions, type NumberRule } from './options.js';

/** "(demo: x, paper: y, smoke: z)": what each preset sets, for --help. */
export function presetDefaults(pick: (c: Config) => unknown): string {
  return '(' + presetNames.map((p) => `${p}: ${JSON.stringify(pick(resolveConfig({ preset: p })))}`).join(', ') + ')';
}

export interface TrainCliOptions extends ConfigOptions {
  data?: string;
  model?: string;
  out?: string;
  resume?: boolean;
  overwrite?: boolean;
  epochs?: string;
  lr?: string;
  batchSize?: string;
  gradAccum?: string;
  warmupRatio?: string;
  maxPromptTokens?: string;
  maxResponseTokens?: string;
  workers?: string;
  backend?: string;
  maxSteps?: string;
  seed?: string;
}

/** A training flag's value (the shared parser); the config schema checks the ranges of the values it holds. */
export function number(value: string | undefined, flag: string, rule?: NumberRule): number | undefined {
  return parseNumber(value, flag, rule);
}

/** Flags that set a field of the stage's section (their --help is the field's description in the schema). */
const SECTION_FLAGS = [
  ['--epochs <n>', 'epochs'],
  ['--lr <x>', 'lr'],
  ['--batch-size <n>', 'batchSize'],
  ['--grad-accum <n>', 'gradAccum'],
  ['--warmup-ratio <x>', 'warmupRatio'],
  ['--max-prompt-tokens <n>', 'maxPromptTokens'],
  ['--max-response-tokens <n>', 'maxResponseTokens'],
] as const;

/** Options both training commands share; the stage's own defaults appear in the descriptions. */
export function addTrainOptions(cmd: Command, stage: 'sft' | 'dpo'): Command {
  cmd
    .option('--model <dir>', `base model: a Hugging Face Qwen2 folder or 'embedded' ${presetDefaults((c) => c.model.source)}`)
    .option('--out <dir>', `the run's folder (default: <run.dir>/<run.name>/${stage})`)
    .option('--resume', 'continue from the newest checkpoint in --out (a killed run picks up where its last checkpoint was)')
    .option('--overwrite', 'replace an earlier run in --out');
  for (const [flag, field] of SECTION_FLAGS) cmd.option(flag, `${describeKey(`${stage}.${field}`)} ${presetDefaults((c) => c[stage][field])}`);
  return cmd
    .option('--workers <n>', `data-parallel worker threads, 0 = one per core ${presetDefaults((c) => c.engine.workers)}`)
    .option('--backend <name>', `auto, tensorflow, wasm or cpu ${presetDefaults((c) => c.engine.backend)}`)
    .option('--seed <n>', `seed for LoRA init, data order and dropout ${presetDefaults((c) => c.seed)}`)
    .option('--max-steps <n>', 'stop after this many optimizer steps in this process (the run stays resumable)');
}

/** The first Ctrl-C finishes the current step and writes a checkpoint; a second one exits at once. */
export function interruptible(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => {
    console.error('\ninterrupted: stopping after this step with a checkpoint (Ctrl-C again to quit now; --resume continues)');
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.removeListener('SIGINT', onSigint) };
}

/** The resolved config with the command's flags applied to its stage's section (and `extra`, the stage's own flags). */
export function trainConfig(opts: TrainCliOptions, stage: 'sft' | 'dpo', extra: DeepPartial<Config['sft']> | DeepPartial<Config['dpo']> = {}): Config {
  const section: Record<string, unknown> = { ...extra };
  for (const [flag, field] of SECTION_FLAGS) if (opts[field] !== undefined) section[field] = number(opts[field], flag.split(' ')[0]!);
  const patch: DeepPartial<Config> = {
    [stage]: section,
    ...(opts.model !== undefined && { model: { source: opts.model } }),
    ...(opts.seed !== undefined && { seed: number(opts.seed, '--seed', NON_NEGATIVE_INT) }),
    engine: {
      ...(opts.workers !== undefined && { workers: number(opts.workers, '--workers') }),
      ...(opts.backend !== undefined && { backend: opts.backend as Config['engine']['backend'] }),
    },
  };
  return configFromOptions(opts, [patch]);
}

/** What a training command hands its trainer: the run-control options and the progress hooks. */
export interface TrainHooks {
  resume?: boolean;
  overwrite?: boolean;
  maxSteps?: number;
  signal: AbortSignal;
  onStep(row: MetricsRow, progress: { totalSteps: number; etaSeconds: number }): void;
  onLog(message: string): void;
}

/** Runs a trainer under a progress bar (showing `metric` too) and Ctrl-C handling; prints speed and the outcome. */
export async function runTrainCommand<R extends { finished: boolean; steps: number; totalSteps: number; tokensPerEpoch: number; tokensSeen: number; trainSeconds: number }>(
  stage: 'sft' | 'dpo',
  opts: TrainCliOptions,
  metric: string | undefined,
  train: (hooks: TrainHooks) => Promise<R>,
  finishedLine: (r: R) => string,
): Promise<void> {
  const { progressBar, speedLine } = await import('../train/progress.js');
  const maxSteps = number(opts.maxSteps, '--max-steps', COUNT);
  const stop = interruptible();
  const bar = await progressBar(stage, metric);
  try {
    const r = await train({
      resume: opts.resume,
      overwrite: opts.overwrite,
      maxSteps,
      signal: stop.signal,
      onStep: (row, p) => bar.update(row, p),
      onLog: (m) => console.error(m),
    });
    bar.stop();
    console.log(speedLine(r));
    console.log(r.finished ? `${stage}: ${finishedLine(r)}` : `${stage}: stopped at step ${r.steps}/${r.totalSteps}; continue with --resume`);
  } finally {
    bar.stop();
    stop.dispose();
  }
}
