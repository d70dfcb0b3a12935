// `unitrace generate`: complete a prompt with a model (and optional LoRA adapter).
import type { Command } from 'commander';
import { addConfigOptions, configFromOptions, COUNT, NON_NEGATIVE_INT, parseNumber, type ConfigOptions, type NumberRule } from '../options.js';

interface GenerateCliOptions extends ConfigOptions {
  model?: string;
  adapter?: string;
  prompt: string;
  system?: string;
  raw?: boolean;
  maxNewTokens?: string;
  temperature?: string;
  topP?: string;
  seed?: string;
  backend?: string;
  json?: boolean;
  cache: boolean;
}

const num = (value: string | undefined, name: string, fallback: number, rule?: NumberRule): number => parseNumber(value, name, rule) ?? fallback;

export function register(program: Command): void {
  addConfigOptions(
    program
      .command('generate')
      .description('generate a completion for a prompt (as a chat user turn unless --raw)')
      .option('--model <dir>', "Hugging Face model folder or 'embedded' (default: the config's model.source)")
      .option('--adapter <dir>', 'PEFT LoRA adapter folder applied on top of the model')
      .requiredOption('--prompt <text>', 'the prompt')
      .option('--system <text>', 'a system message before the prompt')
      .option('--raw', 'encode the prompt as-is instead of rendering it with the chat template')
      .option('--max-new-tokens <n>', "tokens to generate at most (default: the config's eval.maxNewTokens)")
      .option('--temperature <t>', "0 for greedy decoding (default: the config's eval.temperature)")
      .option('--top-p <p>', "nucleus sampling mass (default: the config's eval.topP)")
      .option('--seed <n>', "sampling seed (default: the config's seed)")
      .option('--backend <name>', "TensorFlow.js backend: auto, tensorflow, wasm, cpu (default: the config's engine.backend)")
      .option('--no-cache', 'recompute the whole sequence at every step (slow; for comparison)')
      .option('--json', 'print {text, ids, finishReason, promptTokens, seconds, tokensPerSecond, backend} as JSON'),
  ).action(async (opts: GenerateCliOptions) => {
    const config = configFromOptions(opts);
    const source = opts.model ?? config.model.source;
    const maxNewTokens = num(opts.maxNewTokens, '--max-new-tokens', config.eval.maxNewTokens, COUNT);
    const { loadModelAndTokenizer, loadAdapter, generate } = await import('../../model/index.js');
    const tf = await import('@tensorflow/tfjs-core');
    // Progress on an interactive terminal only, so piped output stays clean.
    const progress = (text: string) => process.stderr.isTTY && process.stderr.write(`\r${text}\x1b[K`);
    const { model, tokenizer } = await loadModelAndTokenizer(source, {
      backend: (opts.backend ?? config.engine.backend) as 'auto',
      onTensor: (_name, done, total) => progress(`loading ${source}: ${done}/${total} tensors`),
    });
    const adapter = opts.adapter ? loadAdapter(opts.adapter, model) : undefined;
    const messages = [...(opts.system ? [{ role: 'system' as const, content: opts.system }] : []), { role: 'user' as const, content: opts.prompt }];
    const start = performance.now();
    const [result] = await generate(model, tokenizer, [opts.raw ? opts.prompt : messages], {
      maxNewTokens,
      temperature: num(opts.temperature, '--temperature', config.eval.temperature, { min: 0 }),
      topP: num(opts.topP, '--top-p', config.eval.topP, { min: 0, exclusiveMin: true, max: 1 }),
      seed: num(opts.seed, '--seed', config.seed, NON_NEGATIVE_INT),
      lora: adapter,
      useCache: opts.cache,
      onStep: (step) => progress(`generating: ${step}/${maxNewTokens} tokens`),
    });
    progress('');
    const seconds = (performance.now() - start) / 1000;
    const r = result!;
    if (opts.json) console.log(JSON.stringify({ ...r, seconds, tokensPerSecond: r.ids.length / seconds, backend: tf.getBackend() }));
    else {
      console.log(r.text);
      console.error(`[${r.ids.length} tokens, ${r.finishReason}, ${(r.ids.length / seconds).toFixed(1)} tokens/s on ${tf.getBackend()}]`);
    }
  });
}
