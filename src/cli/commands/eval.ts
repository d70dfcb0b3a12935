import type { Command } from 'commander';
import { CliError } from '../options.js';

interface EvalOptions {
  model?: string;
  adapter?: string;
  set?: string;
  out?: string;
  run?: string;
  models?: string;
  responses?: string;
  name?: string;
  judge?: string;
  maxNewTokens?: string;
  bootstrap?: string;
  json: boolean;
  preset?: string;
  config?: string;
  override: string[];
}

export function register(program: Command): void {
  program
    .command('eval')
    .description(
      'generate responses on a held-out set and score them (format, code execution, program-aided and stated accuracy, Countdown, instruction checks, judge). ' +
        'Either one model (--model [--adapter] --set --out) or every model of a run (--run RUN_DIR: reference, sft-original, sft-cot, sft-unified, sft-unified-dpo)',
    )
    .option('--model <dir>', "a Hugging Face model folder, or 'embedded'")
    .option('--adapter <dir>', 'a PEFT LoRA adapter folder to apply to --model')
    .option('--set <file>', 'eval items JSONL (e.g. runs/NAME/data/eval.jsonl); with --run the default is RUN_DIR/data/eval.jsonl')
    .option('--out <dir>', 'with --model: where <name>/responses.jsonl and summary.json go')
    .option('--run <dir>', "evaluate every model of a run folder; results in RUN_DIR/eval/ (settings from RUN_DIR/config.json)")
    .option('--models <names>', 'with --run: a comma-separated subset of the five models (the reference is always included)')
    .option('--responses <dir>', 'with --run: score <dir>/<model>.jsonl (one {"id", "response"} per item, e.g. from an export\'s generate.py) instead of generating for those models')
    .option('--name <model>', 'with --model: the model name in the summary (default: adapter folder name, else "model")')
    .option('--judge <mode>', 'auto (Claude when ANTHROPIC_API_KEY is set, else the offline rubric), offline or claude (default: eval.judge)')
    .option('--max-new-tokens <n>', 'generation limit per response (default: eval.maxNewTokens)')
    .option('--bootstrap <n>', 'bootstrap resamples for the 95% intervals (default: eval.bootstrap)')
    .option('--json', 'print summary.json instead of the table', false)
    .option('--preset <name>', 'config preset (default: the run\'s config.json, else $UNITRACE_PRESET or demo)')
    .option('--config <file>', 'JSON config file overriding the preset')
    .option('--override <key=value...>', 'override config values, e.g. --override eval.temperature=0.7', (v: string, prev: string[]) => prev.concat(v), [])
    .action(async (opts: EvalOptions) => {
      const { existsSync, readFileSync } = await import('node:fs');
      const { basename, dirname, join } = await import('node:path');
      const { resolveConfig } = await import('../../config/index.js');
      const evaluation = await import('../../eval/index.js');
      if (!opts.run && !opts.model) throw new CliError('eval: give --model DIR --set FILE --out DIR, or --run RUN_DIR', 2);
      if (opts.run && opts.model) throw new CliError('eval: --run and --model exclude each other', 2);
      const runConfig = opts.run ? join(opts.run, 'config.json') : undefined;
      const fromRun = runConfig && existsSync(runConfig) ? (JSON.parse(readFileSync(runConfig, 'utf8')) as { preset?: string }) : null;
      const overrides: string[] = [...opts.override];
      if (opts.judge) overrides.push(`eval.judge=${opts.judge}`);
      if (opts.maxNewTokens) overrides.push(`eval.maxNewTokens=${opts.maxNewTokens}`);
      if (opts.bootstrap) overrides.push(`eval.bootstrap=${opts.bootstrap}`);
      if (opts.model) overrides.push(`model.source=${opts.model}`);
      let config;
      try {
        config = resolveConfig({ preset: opts.preset ?? fromRun?.preset, file: opts.config ?? (fromRun ? runConfig : undefined), overrides });
      } catch (e) {
        throw new CliError(`eval: ${(e as Error).message}`, 2);
      }
      const log = (line: string): void => console.error(line);
      const onProgress = progressPrinter(log);

      if (opts.run) {
        if (!existsSync(opts.run)) throw new CliError(`eval: no such run folder: ${opts.run}`, 2);
        const models = opts.models?.split(',').map((m) => m.trim()).filter(Boolean);
        const unknown = models?.filter((m) => !(evaluation.EVAL_MODELS as readonly string[]).includes(m)) ?? [];
        if (unknown.length) throw new CliError(`eval: unknown model ${unknown.join(', ')} (models: ${evaluation.EVAL_MODELS.join(', ')})`, 2);
        const summary = await evaluation.evaluateRun(config, opts.run, {
          itemsFile: opts.set,
          responses: opts.responses,
          models: models as typeof evaluation.EVAL_MODELS[number][] | undefined,
          onProgress,
          log,
        });
        print(summary, opts.json, evaluation.formatSummary);
        return;
      }

      if (!opts.set || !opts.out) throw new CliError('eval: --model needs --set FILE and --out DIR', 2);
      let items;
      try {
        items = evaluation.readEvalItems(opts.set);
        // Generation takes a while: an --out that cannot be created fails before it.
        (await import('../../util/files.js')).makeDirs(opts.out);
      } catch (e) {
        throw new CliError(`eval: ${(e as Error).message}`, 2);
      }
      // runs/NAME/sft-unified/adapter is named after its stage.
      const adapterDir = opts.adapter?.replace(/\/+$/, '');
      const name = opts.name ?? (adapterDir ? (basename(adapterDir) === 'adapter' ? basename(dirname(adapterDir)) : basename(adapterDir)) : 'model');
      const summary = await evaluation.evaluateOne(config, { adapter: opts.adapter ?? null, items, itemsFile: opts.set, out: opts.out, name, onProgress, log });
      print(summary, opts.json, evaluation.formatSummary);
    });
}

function print<S>(summary: S, json: boolean, format: (s: S) => string): void {
  console.log(json ? JSON.stringify(summary, null, 2) : format(summary));
}

/** One line per stage change and per 10% of progress, on stderr. */
function progressPrinter(log: (line: string) => void): (e: { model: string; stage: string; done: number; total: number; message?: string }) => void {
  let last = '';
  return (e) => {
    const key = `${e.model}/${e.stage}/${e.total ? Math.floor((10 * e.done) / e.total) : 0}`;
    if (key === last) return;
    last = key;
    log(`${e.model}: ${e.stage}${e.total ? ` ${e.done}/${e.total}` : ''}${e.message ? ` (${e.message})` : ''}`);
  };
}
