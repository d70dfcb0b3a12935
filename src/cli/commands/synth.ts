import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { inputFileProblem, makeDirs } from '../../util/files.js';
import { addConfigOptions, CliError, configFromOptions, COUNT, NON_NEGATIVE_INT, parseNumber, POSITIVE, type ConfigOptions } from '../options.js';

interface SynthOptions extends ConfigOptions {
  teacher?: string;
  count?: string;
  seed?: string;
  out: string;
  families?: string;
  model?: string;
  concurrency?: string;
  batch?: boolean;
  cache?: string;
  deadline?: string;
  prompts?: string;
  rejected?: string;
  filter: boolean;
}

const int = (v: string | undefined, name: string): number | undefined => parseNumber(v, `--${name}`, name === 'concurrency' ? COUNT : NON_NEGATIVE_INT);

/** Progress on stderr, about every 5% and at the end, so long runs show they are alive. */
function progressPrinter(label: string, total: number): (done: number, kept: number) => void {
  const step = Math.max(1, Math.floor(total / 20));
  return (done, kept) => {
    if (done % step === 0 || done === total) process.stderr.write(`${label}: ${done}/${total} done, ${kept} kept, ${done - kept} rejected\n`);
  };
}

export function register(program: Command): void {
  addConfigOptions(
    program
      .command('synth')
      .description('write unified traces (JSONL records with messages, family, groundTruth) from the offline teacher or Claude, quality-filtered')
      .option('--teacher <name>', 'offline (problem families, no network) or claude (needs ANTHROPIC_API_KEY); default: synth.teacher')
      .option('--count <n>', 'problems to synthesize (default: synth.count)')
      .option('--seed <n>', 'random seed (default: the config seed)')
      .requiredOption('--out <file>', 'output JSONL file of kept traces')
      .option('--families <list>', 'comma-separated problem families (default: synth.families, or all)')
      .option('--model <id>', 'Claude model (default: synth.claudeModel)')
      .option('--concurrency <n>', 'Claude requests in flight (default: synth.concurrency)')
      .option('--batch', 'use the Message Batches API (default: synth.useBatchApi)')
      .option('--cache <dir>', 'response cache folder (default: synth.cacheDir)')
      .option('--deadline <seconds>', 'claude only: stop when a request has no answer after this long, retries included', '600')
      .option('--prompts <file>', 'claude only: JSONL with {"prompt", "groundTruth"?} per line, or plain text lines, instead of family problems')
      .option('--rejected <file>', 'also write rejected items with their reason (JSONL)')
      .option('--no-filter', 'offline only: skip running each trace in the sandbox'),
  ).action(async (opts: SynthOptions) => {
    const config = configFromOptions(opts);
    const teacher = opts.teacher ?? config.synth.teacher;
    if (teacher !== 'offline' && teacher !== 'claude') throw new CliError(`--teacher must be offline or claude, got "${teacher}"`, 2);
    const count = int(opts.count, 'count') ?? config.synth.count;
    const seed = int(opts.seed, 'seed') ?? config.seed;
    const families = opts.families ? opts.families.split(',').map((s) => s.trim()).filter(Boolean) : config.synth.families;
    const problem = opts.prompts === undefined ? null : inputFileProblem(opts.prompts);
    if (problem) throw new CliError(`synth: --prompts: ${problem}`, 2);
    // Before any (possibly paid) request: output folders that cannot be created fail now.
    try {
      for (const f of [opts.out, opts.rejected]) if (f !== undefined) makeDirs(dirname(resolve(f)));
    } catch (e) {
      throw new CliError(`synth: ${(e as Error).message}`, 2);
    }
    const { runSynth, offlineTraces } = await import('../../synth/run.js');
    let summary;
    try {
      if (teacher === 'offline' && opts.prompts) throw new Error('--prompts needs the claude teacher (the offline teacher only knows its families)');
      const source =
        teacher === 'offline'
          ? offlineTraces({ count, seed, families, filter: opts.filter })
          : (await import('../../claude/run.js')).claudeTraces({
              count,
              seed,
              families,
              prompts: opts.prompts,
              claude: {
                model: opts.model ?? config.synth.claudeModel,
                concurrency: int(opts.concurrency, 'concurrency') ?? config.synth.concurrency,
                useBatchApi: opts.batch ?? config.synth.useBatchApi,
                cacheDir: opts.cache ?? config.synth.cacheDir,
                deadlineMs: parseNumber(opts.deadline, '--deadline', POSITIVE)! * 1000,
              },
            });
      summary = await runSynth({
        source,
        out: opts.out,
        rejectedOut: opts.rejected,
        sandboxTimeoutMs: config.eval.sandboxTimeoutMs,
        progress: progressPrinter(`synth (${teacher})`, count),
        log: (line) => process.stderr.write(line + '\n'),
      });
    } catch (e) {
      const msg = (e as Error).message;
      throw new CliError(`synth: ${msg}`, /unknown problem family|ANTHROPIC_API_KEY|no prompt/.test(msg) ? 2 : 1);
    }
    console.log(`synth: wrote ${summary.kept} of ${summary.total} traces to ${opts.out}`);
    const reasons = Object.entries(summary.rejections).filter(([, n]) => n > 0);
    console.log(`rejections: ${reasons.length ? reasons.map(([r, n]) => `${r} ${n}`).join(', ') : 'none'}`);
    if (summary.claude) console.log(`claude: ${summary.claude.requests} requests, ${summary.claude.cacheHits} cache hits, ${summary.claude.retries} retries`);
  });
}
