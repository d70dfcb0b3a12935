import { join } from 'node:path';
import type { Command } from 'commander';
import { inputFileProblem } from '../../util/files.js';
import { presetNames, resolveConfig, runDir, type Config, type DeepPartial } from '../../config/index.js';
import { addConfigOptions, CliError, configFromOptions, COUNT, NON_NEGATIVE_INT, parseNumber, type ConfigOptions, type NumberRule } from '../options.js';

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
  workers?: string;
  backend?: string;
  maxSteps?: string;
  seed?: string;
  warmupRatio?: string;
}

/** A training flag's value; the config schema checks the ranges of the values it holds. */
export function number(value: string | undefined, flag: string, rule?: NumberRule): number | undefined {
  return parseNumber(value, flag, rule);
}

/** Options both training commands share; the stage's own defaults appear in the descriptions. */
export function addTrainOptions(cmd: Command, stage: 'sft' | 'dpo'): Command {
  const s = (c: Config) => c[stage];
  return cmd
    .option('--model <dir>', `base model: a Hugging Face Qwen2 folder or 'embedded' ${presetDefaults((c) => c.model.source)}`)
    .option('--out <dir>', `the run's folder (default: <run.dir>/<run.name>/${stage})`)
    .option('--resume', 'continue from the newest checkpoint in --out (a killed run picks up where its last checkpoint was)')
    .option('--overwrite', 'replace an earlier run in --out')
    .option('--epochs <n>', `epochs ${presetDefaults((c) => s(c).epochs)}`)
    .option('--lr <x>', `peak learning rate ${presetDefaults((c) => s(c).lr)}`)
    .option('--batch-size <n>', `examples per micro-batch ${presetDefaults((c) => s(c).batchSize)}`)
    .option('--grad-accum <n>', `micro-batches per optimizer step ${presetDefaults((c) => s(c).gradAccum)}`)
    .option('--warmup-ratio <x>', `share of steps with linear warmup, then linear decay ${presetDefaults((c) => s(c).warmupRatio)}`)
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

export function trainConfig(opts: TrainCliOptions, stage: 'sft' | 'dpo', extra: DeepPartial<Config['sft']> | DeepPartial<Config['dpo']> = {}): Config {
  const section = {
    ...extra,
    ...(opts.epochs !== undefined && { epochs: number(opts.epochs, '--epochs') }),
    ...(opts.lr !== undefined && { lr: number(opts.lr, '--lr') }),
    ...(opts.batchSize !== undefined && { batchSize: number(opts.batchSize, '--batch-size') }),
    ...(opts.gradAccum !== undefined && { gradAccum: number(opts.gradAccum, '--grad-accum') }),
    ...(opts.warmupRatio !== undefined && { warmupRatio: number(opts.warmupRatio, '--warmup-ratio') }),
  };
  const patch: DeepPartial<Config> = {
    [stage]: section,
    ...(opts.model !== undefined && { model: { source: opts.model } }),
    ...(opts.seed !== undefined && { seed: number(opts.seed, '--seed', NON_NEGATIVE_INT) }),
    engine: {
      ...(opts.workers !== undefined && { workers: number(opts.workers, '--workers') }),
      ...(opts.backend !== undefined && { backend: opts.backend as Config['engine']['backend'] }),
    },
  };
  try {
    return configFromOptions(opts, [patch]);
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
}

interface SftCliOptions extends TrainCliOptions {
  mode?: string;
  maxPromptTokens?: string;
  maxResponseTokens?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('sft')
    .description(
      'supervised fine-tuning (LoRA or full) on chat examples (TRL `messages`, `prompt`/`completion`, or `text` rows); loss on the assistant ' +
        'response including its closing <|im_end|>. Writes config.json, metrics.jsonl, checkpoints/ and adapter/ (PEFT) or model/ into --out.',
    )
    .option('--data <file>', 'training JSONL (default: <run.dir>/<run.name>/data/sft-unified.jsonl)')
    .option('--mode <mode>', `lora or full ${presetDefaults((c) => c.sft.mode)}`)
    .option('--max-prompt-tokens <n>', `prompt tokens kept (its end) ${presetDefaults((c) => c.sft.maxPromptTokens)}`)
    .option('--max-response-tokens <n>', `response tokens kept (its start) ${presetDefaults((c) => c.sft.maxResponseTokens)}`);
  addConfigOptions(addTrainOptions(cmd, 'sft')).action(async (opts: SftCliOptions) => {
    const config = trainConfig(opts, 'sft', {
      ...(opts.mode !== undefined && { mode: opts.mode as 'lora' | 'full' }),
      ...(opts.maxPromptTokens !== undefined && { maxPromptTokens: number(opts.maxPromptTokens, '--max-prompt-tokens') }),
      ...(opts.maxResponseTokens !== undefined && { maxResponseTokens: number(opts.maxResponseTokens, '--max-response-tokens') }),
    });
    const data = opts.data ?? join(runDir(config), 'data', 'sft-unified.jsonl');
    const problem = inputFileProblem(data);
    if (problem) throw new CliError(`training data: ${problem} (pass --data FILE)`, 2);
    const out = opts.out ?? join(runDir(config), 'sft');
    const { runSft } = await import('../../train/sft.js');
    const { progressBar, speedLine } = await import('../../train/progress.js');
    const stop = interruptible();
    const bar = await progressBar('sft');
    try {
      const r = await runSft(config, {
        data,
        out,
        resume: opts.resume,
        overwrite: opts.overwrite,
        maxSteps: number(opts.maxSteps, '--max-steps', COUNT),
        signal: stop.signal,
        onStep: (row, p) => bar.update(row, p),
        onLog: (m) => console.error(m),
      });
      bar.stop();
      console.log(speedLine(r));
      console.log(r.finished ? `sft: finished ${r.steps} steps; ${r.result}` : `sft: stopped at step ${r.steps}/${r.totalSteps}; continue with --resume`);
    } finally {
      bar.stop();
      stop.dispose();
    }
  });
}
