// `unitrace bench`: training speed of the engine on a random-init model (random tokens, LoRA r16 on
// q,k,v,o or full fine-tuning, AdamW), the figure compared with PyTorch in bench/NOTES.md; with --decode,
// prefill and greedy decoding speed of a model folder beside the memory-bandwidth bound.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, parseNumber } from '../options.js';

interface BenchCliOptions {
  modelConfig?: string;
  decode?: boolean;
  model?: string;
  promptTokens: string;
  newTokens: string;
  engine: string;
  batch?: string;
  seq: string;
  mode: string;
  steps: string;
  warmup: string;
  workers: string;
  backend: string;
  loraRank: string;
  json?: boolean;
}

const int = (value: string, name: string, min: number): number => parseNumber(value, name, { integer: true, min })!;

export function register(program: Command): void {
  program
    .command('bench')
    .description('measure training speed (tokens/s) on a random-init model built from a config.json, or with --decode generation speed')
    .option('--model-config <file>', 'Hugging Face config.json of the model (e.g. bench/tiny.json); training bench')
    .option('--decode', 'time prefill and greedy decoding with the KV cache on --model instead of training')
    .option('--model <dir>', 'model folder (or embedded) for --decode; `npx tsx bench/model.ts write` makes random ones')
    .option('--prompt-tokens <n>', '--decode: prompt length per row', '64')
    .option('--new-tokens <n>', '--decode: decode steps timed', '32')
    .option('--engine <name>', '--decode: native (the addon) or tfjs', 'native')
    .option('--batch <n>', 'rows per step (--decode: sequences decoded together; default 1)')
    .option('--seq <n>', 'tokens per row', '256')
    .option('--mode <mode>', 'lora (r16 on q,k,v,o) or full', 'lora')
    .option('--steps <n>', 'timed steps', '5')
    .option('--warmup <n>', 'untimed steps first', '2')
    .option('--workers <n>', 'data-parallel worker threads; 1 = in-process, 0 = one per core', '0')
    .option('--backend <name>', 'TensorFlow.js backend: auto, tensorflow, wasm, cpu', 'auto')
    .option('--lora-rank <n>', 'LoRA rank', '16')
    .option('--json', 'print only the result as one JSON line (last line of output)')
    .action(async (opts: BenchCliOptions) => {
      if (opts.decode) return decodeBench(opts);
      if (!opts.modelConfig) throw new CliError('bench: --model-config <file> is required (or --decode --model DIR)', 2);
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(readFileSync(opts.modelConfig, 'utf8')) as Record<string, unknown>;
      } catch (e) {
        throw new CliError(`cannot read --model-config ${opts.modelConfig}: ${(e as Error).message}`, 2);
      }
      if (opts.mode !== 'lora' && opts.mode !== 'full') throw new CliError(`--mode must be lora or full, got ${opts.mode}`, 2);
      if (!['auto', 'tensorflow', 'wasm', 'cpu'].includes(opts.backend)) throw new CliError(`unknown --backend ${opts.backend}`, 2);
      const { runTrainBench } = await import('../../train/bench.js');
      const result = await runTrainBench({
        modelConfig: raw,
        batch: int(opts.batch ?? '8', '--batch', 1),
        seq: int(opts.seq, '--seq', 1),
        mode: opts.mode,
        steps: int(opts.steps, '--steps', 1),
        warmup: int(opts.warmup, '--warmup', 0),
        workers: int(opts.workers, '--workers', 0),
        backend: opts.backend as 'auto',
        loraRank: int(opts.loraRank, '--lora-rank', 1),
        onStep: opts.json
          ? undefined
          : (step, sec, loss, warm) => console.error(`step ${step + 1}${warm ? ' (warm-up)' : ''}: ${sec.toFixed(3)} s, loss ${loss.toFixed(4)}`),
      });
      if (!opts.json) {
        console.error(
          `${result.tokensPerSecond.toFixed(0)} tokens/s, ${result.secondsPerStep.toFixed(3)} s/step, ${result.gflops.toFixed(1)} GFLOP/s, ` +
            `backend ${result.backend} (matmul: ${result.matmul}), ${result.workers} worker(s)`,
        );
      }
      console.log(JSON.stringify(result));
    });
}

async function decodeBench(opts: BenchCliOptions): Promise<void> {
  if (!opts.model) throw new CliError('bench --decode: --model <dir> is required', 2);
  if (opts.engine !== 'native' && opts.engine !== 'tfjs') throw new CliError(`--engine must be native or tfjs, got ${opts.engine}`, 2);
  const { runDecodeBench } = await import('../../model/decode_bench.js');
  const result = await runDecodeBench({
    model: opts.model,
    batch: int(opts.batch ?? '1', '--batch', 1),
    promptTokens: int(opts.promptTokens, '--prompt-tokens', 1),
    newTokens: int(opts.newTokens, '--new-tokens', 1),
    engine: opts.engine,
    onStep: opts.json ? undefined : (step, sec) => console.error(`decode step ${step}: ${sec.toFixed(4)} s`),
  });
  if (!opts.json) {
    const bound = result.readSeconds === null ? '' : `; reading the ${(result.weightBytes! / 1e6).toFixed(0)} MB of weights takes ${result.readSeconds.toFixed(4)} s (${result.bandwidthGBs!.toFixed(1)} GB/s), step/read = ${result.boundRatio!.toFixed(2)}`;
    console.error(
      `prefill ${result.prefillTokensPerSecond.toFixed(0)} tokens/s; decode ${result.secondsPerStep.toFixed(4)} s/step = ${result.tokensPerSecond.toFixed(1)} tokens/s at batch ${result.batch} (${result.cpuSecondsPerStep.toFixed(4)} CPU-s/step)${bound}; ${result.matmul}; load ${result.loadAverage.map((l) => l.toFixed(1)).join(' -> ')}`,
    );
  }
  console.log(JSON.stringify(result));
}
