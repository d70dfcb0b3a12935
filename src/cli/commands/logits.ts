// `unitrace logits`: next-token logits of a model (optionally with a LoRA adapter) for given ids,
// for checking parity against another implementation.
import type { Command } from 'commander';
import { CliError } from '../options.js';

interface LogitsOptions {
  model: string;
  adapter?: string;
  ids: string;
  json?: boolean;
  backend: string;
}

function parseIds(text: string): number[] {
  const ids = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (ids.length === 0 || ids.some((n) => !Number.isInteger(n) || n < 0)) throw new CliError(`--ids must be comma-separated non-negative integers, got ${JSON.stringify(text)}`, 2);
  return ids;
}

export function register(program: Command): void {
  program
    .command('logits')
    .description("print the logits at every position for a sequence of the model's own token ids")
    .requiredOption('--model <dir>', "Hugging Face model folder (config.json + safetensors) or 'embedded'")
    .option('--adapter <dir>', 'PEFT LoRA adapter folder applied on top of the model')
    .requiredOption('--ids <list>', 'comma-separated token ids, e.g. 1,2,3 (ids of the model, not of the base tokenizer)')
    .option('--json', 'print {"logits": [[...], ...]}, one row per position')
    .option('--backend <name>', 'TensorFlow.js backend: auto, tensorflow, wasm, cpu', 'auto')
    .action(async (opts: LogitsOptions) => {
      const ids = parseIds(opts.ids);
      const tf = await import('@tensorflow/tfjs-core');
      const { loadModel, loadAdapter } = await import('../../model/index.js');
      const model = await loadModel(opts.model, { backend: opts.backend as 'auto' });
      const bad = ids.find((id) => id >= model.config.vocabSize);
      if (bad !== undefined) throw new CliError(`--ids: ${bad} is outside the vocabulary of ${model.config.vocabSize}`, 2);
      const adapter = opts.adapter ? loadAdapter(opts.adapter, model) : undefined;
      const input = tf.tensor2d([ids], [1, ids.length], 'int32');
      const logits = model.forward(input, { lora: adapter });
      const rows = (logits.arraySync() as number[][][])[0]!;
      tf.dispose([input, logits]);
      if (opts.json) {
        console.log(JSON.stringify({ logits: rows }));
        return;
      }
      console.log(`backend ${tf.getBackend()}, vocab ${model.config.vocabSize}`);
      rows.forEach((row, t) => {
        const top = row.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 5);
        console.log(`position ${t} (id ${ids[t]}): top ${top.map(([v, i]) => `${i}:${v.toFixed(4)}`).join(' ')}`);
      });
    });
}
