import type { Command } from 'commander';
import { makeDirs } from '../../util/files.js';
import { addConfigOptions, CliError, configFromOptions, type ConfigOptions } from '../options.js';

interface MixOptions extends ConfigOptions {
  out?: string;
  original?: string;
  teacher?: string;
  nOriginal?: string;
  nSynthetic?: string;
  nCot?: string;
  nPairs?: string;
  seed?: string;
}

export function register(program: Command): void {
  addConfigOptions(
    program
      .command('mix')
      .description('build a run\'s datasets: the paper\'s mix (original + unified traces), the baselines (original only; original + CoT), DPO pairs, held-out eval sets, and manifest.json')
      .option('--out <dir>', 'output folder (default: <run.dir>/<run.name>/data)')
      .option('--original <source>', '"embedded" or a UltraFeedback file (parquet or JSONL) (default: mix.original)')
      .option('--teacher <name>', 'offline or claude (default: synth.teacher)')
      .option('--n-original <n>', 'original examples in the mix (default: mix.nOriginal)')
      .option('--n-synthetic <n>', 'unified traces in the mix (default: mix.nSynthetic)')
      .option('--n-cot <n>', 'CoT-only traces for the CoT baseline (default: mix.nCot)')
      .option('--n-pairs <n>', 'DPO preference pairs (default: mix.nPairs)')
      .option('--seed <n>', 'random seed (default: the config seed)'),
  ).action(async (opts: MixOptions) => {
    const extra: string[] = [];
    if (opts.original) extra.push(`mix.original=${opts.original}`);
    if (opts.teacher) extra.push(`synth.teacher=${opts.teacher}`);
    for (const [flag, key] of [['nOriginal', 'mix.nOriginal'], ['nSynthetic', 'mix.nSynthetic'], ['nCot', 'mix.nCot'], ['nPairs', 'mix.nPairs'], ['seed', 'seed']] as const) {
      const v = opts[flag];
      if (v === undefined) continue;
      if (!/^\d+$/.test(v)) throw new CliError(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a non-negative integer, got "${v}"`, 2);
      extra.push(`${key}=${v}`);
    }
    const config = configFromOptions(opts, extra);
    if (opts.out) {
      try {
        makeDirs(opts.out);
      } catch (e) {
        throw new CliError(`mix: ${(e as Error).message}`, 2);
      }
    }
    const { buildDatasets } = await import('../../data/index.js');
    let manifest;
    try {
      manifest = await buildDatasets(config, {
        outDir: opts.out,
        onProgress: (e) => {
          if (e.message) process.stderr.write(`mix [${e.stage}] ${e.message}\n`);
          else if (e.total > 0) process.stderr.write(`mix [${e.stage}] ${e.done}/${e.total}\n`);
        },
      });
    } catch (e) {
      const msg = (e as Error).message;
      throw new CliError(`mix: ${msg}`, /no such file|usable SFT rows|cannot read parquet|ANTHROPIC_API_KEY|unknown problem family/.test(msg) ? 2 : 1);
    }
    const c = manifest.counts;
    console.log(`sft-unified: ${c.unified.original} original + ${c.unified.unified} unified = ${c.unified.total} (${(manifest.ratio * 100).toFixed(0)}% synthetic)`);
    console.log(`sft-original: ${c.original}; sft-cot: ${c.cot.original} original + ${c.cot.cot} CoT-only`);
    console.log(`dpo-pairs: ${c.pairs.total} (${Object.entries(c.pairs.byKind).map(([k, n]) => `${k} ${n}`).join(', ')})`);
    console.log(`eval: ${c.eval.total} (${Object.entries(c.eval.byFamily).map(([k, n]) => `${k} ${n}`).join(', ')}; OOD: ${manifest.families.ood})`);
    const rej = manifest.sources.synthetic.rejections;
    if (rej) console.log(`rejections: ${Object.entries(rej).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${n}`).join(', ') || 'none'}`);
    if (manifest.sources.original.skippedRows) console.log(`original: ${manifest.sources.original.skippedRows} malformed rows skipped (listed above)`);
  });
}
