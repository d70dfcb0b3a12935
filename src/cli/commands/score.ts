import type { Command } from 'commander';
import { CliError, COUNT, NON_NEGATIVE_INT, parseNumber, TIMEOUT_MS } from '../options.js';

interface ScoreOptions {
  set?: string;
  field?: string;
  reference?: string;
  execute: boolean;
  timeoutMs: string;
  judge: string;
  judgeModel?: string;
  bootstrap: string;
  seed: string;
  name?: string;
  out?: string;
  json: boolean;
  preset?: string;
  config?: string;
}

export function register(program: Command): void {
  program
    .command('score')
    .description(
      'score model outputs produced elsewhere (e.g. by TRL) with the evaluation metrics and judge: format, code execution, program-aided and stated accuracy, Countdown, instruction checks, judge score and win rate',
    )
    .argument('<file>', 'JSONL of outputs: "response", "completion" or the last assistant turn of "messages"; item fields (id, family, ood, kind, groundTruth, countdown, check, prompt) inline or joined from --set by id')
    .option('--set <file>', 'eval items (e.g. runs/NAME/data/eval.jsonl) to join by id')
    .option('--field <name>', 'read the response from this field instead')
    .option('--reference <file>', "the reference model's outputs on the same items, for the pairwise win rate")
    .option('--no-execute', 'do not run the code sections (no codeRuns, no program-aided accuracy)')
    .option('--timeout-ms <n>', 'wall-clock limit per program in the sandbox', '5000')
    .option('--judge <mode>', 'auto (Claude when ANTHROPIC_API_KEY is set, else the offline rubric), offline or claude', 'auto')
    .option('--judge-model <id>', "Claude model for the judge (default: the config's eval.judgeModel)")
    .option('--bootstrap <n>', 'bootstrap resamples for the 95% intervals', '1000')
    .option('--seed <n>', 'seed for the bootstrap and the pairwise order', '42')
    .option('--name <model>', 'name of the model in the summary (default: the file name)')
    .option('--out <dir>', 'also write <dir>/<model>/responses.jsonl and <dir>/summary.json')
    .option('--json', 'print one JSON object {summary, records, errors} instead of the table', false)
    .option('--preset <name>', 'config preset for the judge settings (default: $UNITRACE_PRESET or demo)')
    .option('--config <file>', 'JSON config file overriding the preset')
    .action(async (file: string, opts: ScoreOptions) => {
      const { resolveConfig } = await import('../../config/index.js');
      const { readEvalItems, scoreFile, formatSummary, claudeClientFor } = await import('../../eval/index.js');
      const { inputFileProblem, makeDirs } = await import('../../util/files.js');
      for (const f of [file, opts.set, opts.reference]) {
        const problem = f === undefined ? null : inputFileProblem(f);
        if (problem) throw new CliError(`score: ${problem}`, 2);
      }
      // Before any scoring: an --out that cannot be created fails now, not after the work.
      if (opts.out) {
        try {
          makeDirs(opts.out);
        } catch (e) {
          throw new CliError(`score: --out: ${(e as Error).message}`, 2);
        }
      }
      const judge = opts.judge;
      if (judge !== 'auto' && judge !== 'offline' && judge !== 'claude') throw new CliError(`score: --judge must be auto, offline or claude (got ${judge})`, 2);
      const config = resolveConfig({ preset: opts.preset, file: opts.config, overrides: opts.judgeModel ? [{ eval: { judgeModel: opts.judgeModel } }] : [] });
      let items;
      try {
        items = opts.set ? readEvalItems(opts.set) : undefined;
      } catch (e) {
        throw new CliError(`score: ${(e as Error).message}`, 2);
      }
      const log = opts.json ? () => {} : (line: string) => console.error(line);
      const result = await scoreFile({
        file,
        items,
        itemsFile: opts.set,
        field: opts.field,
        reference: opts.reference,
        execute: opts.execute,
        timeoutMs: parseNumber(opts.timeoutMs, '--timeout-ms', TIMEOUT_MS)!,
        judge,
        judgeModel: config.eval.judgeModel,
        makeClient: () => claudeClientFor(config),
        resamples: parseNumber(opts.bootstrap, '--bootstrap', COUNT)!,
        seed: parseNumber(opts.seed, '--seed', NON_NEGATIVE_INT)!,
        modelName: opts.name,
        out: opts.out,
        log,
      });
      for (const e of result.errors) console.error(`unitrace score: ${e}`);
      if (result.rows.length === 0) throw new CliError(`score: no usable record in ${file}`, 2);
      if (opts.json) console.log(JSON.stringify({ summary: result.summary, records: result.rows, errors: result.errors }));
      else console.log(formatSummary(result.summary));
    });
}
