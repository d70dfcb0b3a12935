// `unitrace bench`: training speed of the engine on a random-init model (random tokens, LoRA r16 on
// q,k,v,o or full fine-tuning, AdamW), the figure compared with PyTorch in bench/NOTES.md.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, parseNumber } from '../options.js';

interface BenchCliOptions {
  modelConfig: string;
  batch: string;
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
    .description('measure training speed (tokens/s) on a random-init model built from a config.json')
    .requiredOption('--model-config <file>', 'Hugging Face config.json of the model (e.g. bench/tiny.json)')
    .option('--batch <n>', 'rows per step', '8')
    .option('--seq <n>', 'tokens per row', '256')
    .option('--mode <mode>', 'lora (r16 on q,k,v,o) or full', 'lora')
    .option('--steps <n>', 'timed steps', '5')
    .option('--warmup <n>', 'untimed steps first', '2')
    .option('--workers <n>', 'data-parallel worker threads; 1 = in-process, 0 = one per core', '0')
    .option('--backend <name>', 'TensorFlow.js backend: auto, tensorflow, wasm, cpu', 'auto')
    .option('--lora-rank <n>', 'LoRA rank', '16')
    .option('--json', 'print only the result as one JSON line (last line of output)')
    .action(async (opts: BenchCliOptions) => {
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
        batch: int(opts.batch, '--batch', 1),
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
