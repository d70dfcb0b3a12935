// Model benchmarks (not part of npm test):
//   npx tsx bench/model.ts write --shape qwen05b|FILE.json --out DIR [--dtype BF16]
//                                    writes a random-init checkpoint for `unitrace bench --decode --model DIR`
//                                    (qwen05b: Qwen2.5-0.5B's shapes; FILE.json: a config such as bench/tiny.json)
//   npx tsx bench/model.ts cache     tokens/s at 256 new tokens with and without the KV cache (small model)
//   npx tsx bench/model.ts qwen05b   a random-init checkpoint with all of Qwen2.5-0.5B's shapes (24 layers,
//                                    vocab 151936, bf16): write, load, generate; peak memory and s/token
// Options: --backend wasm|cpu|auto (default auto), --new N (default 256 / 32), --keep (keep the 0.5B folder).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendPreference } from '../src/engine/backend.js';
import { makeConfig, parameterCount, parseConfig, type Qwen2Config } from '../src/model/config.js';
import { generate } from '../src/model/generate.js';
import { loadModel, randomModel, writeRandomCheckpoint } from '../src/model/load.js';
import { loadTokenizer } from '../src/model/tokenizer.js';
import { fromRoot } from '../src/util/paths.js';
import { Rng } from '../src/util/rng.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const valueOf = new Set(args.flatMap((a, i) => (a.startsWith('--') ? [i + 1] : [])));
const part = args.find((a, i) => !a.startsWith('--') && !valueOf.has(i)) ?? 'cache';
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const peakRss = () => process.resourceUsage().maxRSS * 1024;

const QWEN25_05B: Qwen2Config = makeConfig({
  vocabSize: 151936,
  hiddenSize: 896,
  intermediateSize: 4864,
  numHiddenLayers: 24,
  numAttentionHeads: 14,
  numKeyValueHeads: 2,
  headDim: 64,
  ropeTheta: 1_000_000,
  rmsNormEps: 1e-6,
  tieWordEmbeddings: true,
});

async function timeGeneration(label: string, run: () => Promise<number>): Promise<number> {
  const start = performance.now();
  const tokens = await run();
  const s = (performance.now() - start) / 1000;
  console.log(`${label}: ${tokens} tokens in ${s.toFixed(2)} s = ${(tokens / s).toFixed(1)} tokens/s`);
  return tokens / s;
}

async function cacheBench(backend: string): Promise<void> {
  const newTokens = Number(opt('new', '256'));
  // The embedded model's scale: hidden 256, 4 layers, a pruned vocabulary of a few thousand ids.
  const config = makeConfig({ vocabSize: 4096, hiddenSize: 256, intermediateSize: 704, numHiddenLayers: 4, numAttentionHeads: 4, numKeyValueHeads: 2 });
  const model = randomModel(config, new Rng(1));
  const tokenizer = loadTokenizer();
  const prompt = Array.from({ length: 32 }, (_, i) => (i * 37) % config.vocabSize);
  console.log(`model: ${parameterCount(config) / 1e6} M parameters, backend ${backend}, prompt 32 tokens, ${newTokens} new tokens, greedy`);
  await generate(model, tokenizer, [prompt], { maxNewTokens: 4, stopIds: [] }); // warm-up
  const count = (gs: { ids: number[] }[]) => gs.reduce((s, g) => s + g.ids.length, 0);
  const withCache = await timeGeneration('batch 1, KV cache', async () => count(await generate(model, tokenizer, [prompt], { maxNewTokens: newTokens, stopIds: [] })));
  const without = await timeGeneration('batch 1, no cache', async () => count(await generate(model, tokenizer, [prompt], { maxNewTokens: newTokens, stopIds: [], useCache: false })));
  console.log(`KV cache speed-up x${(withCache / without).toFixed(1)}`);
  const prompts = Array.from({ length: 4 }, () => prompt);
  await timeGeneration('batch 4, KV cache', async () => count(await generate(model, tokenizer, prompts, { maxNewTokens: newTokens, stopIds: [] })));
  model.dispose();
}

async function qwenBench(pref: BackendPreference): Promise<void> {
  const newTokens = Number(opt('new', '32'));
  const dir = fromRoot('tmp', 'bench-qwen2.5-0.5b-random');
  console.log(`Qwen2.5-0.5B shapes: ${(parameterCount(QWEN25_05B) / 1e6).toFixed(1)} M parameters`);
  if (!existsSync(join(dir, 'model.safetensors'))) {
    mkdirSync(dir, { recursive: true });
    const t0 = performance.now();
    writeRandomCheckpoint(dir, QWEN25_05B, new Rng(0), { dtype: 'BF16' });
    console.log(`wrote a random bf16 checkpoint in ${((performance.now() - t0) / 1000).toFixed(1)} s (${dir})`);
  }
  const rssBefore = peakRss();
  const t0 = performance.now();
  const model = await loadModel(dir, { backend: pref }); // 'auto' moves a model too large for wasm to cpu
  const loadS = (performance.now() - t0) / 1000;
  console.log(`loaded in ${loadS.toFixed(1)} s on ${tf.getBackend()}: tensors ${mib(tf.memory().numBytes)}, peak RSS ${mib(peakRss())} (before load ${mib(rssBefore)})`);
  const tokenizer = loadTokenizer();
  const prompt = tokenizer.encodeChat([{ role: 'user', content: 'Solve step by step: what is 17 * 23? Give the answer in <answer> tags.' }], { addGenerationPrompt: true });
  const tPrefill = performance.now();
  await generate(model, tokenizer, [prompt], { maxNewTokens: 1, stopIds: [] });
  const prefillS = (performance.now() - tPrefill) / 1000;
  console.log(`prompt ${prompt.length} tokens: prefill + first token ${prefillS.toFixed(2)} s`);
  const tGen = performance.now();
  const stepEnds: number[] = [];
  const [g] = await generate(model, tokenizer, [prompt], { maxNewTokens: newTokens, stopIds: [], onStep: () => stepEnds.push(performance.now()) });
  const genS = (performance.now() - tGen) / 1000;
  // Decoding steps after the first (which includes the prompt): median seconds per token.
  const steps = stepEnds.slice(1).map((t, i) => (t - stepEnds[i]!) / 1000).sort((a, b) => a - b);
  const perToken = steps[Math.floor(steps.length / 2)]!;
  console.log(`generated ${g!.ids.length} tokens in ${genS.toFixed(2)} s (first step ${((stepEnds[0]! - tGen) / 1000).toFixed(2)} s): median ${perToken.toFixed(3)} s/token after the prompt (min ${steps[0]!.toFixed(3)}, max ${steps[steps.length - 1]!.toFixed(3)}; ${(1 / perToken).toFixed(2)} tokens/s), peak RSS ${mib(peakRss())}`);
  const tNo = performance.now();
  await generate(model, tokenizer, [prompt], { maxNewTokens: 3, stopIds: [], useCache: false });
  console.log(`without the KV cache: 3 tokens in ${((performance.now() - tNo) / 1000).toFixed(2)} s`);
  model.dispose();
  if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
}

function writeCheckpointPart(): void {
  const shape = opt('shape', 'qwen05b');
  const out = opt('out', '');
  if (!out) throw new Error('write: --out DIR is required (put it under /tmp: the 0.5B checkpoint is about 1 GB)');
  const config = shape === 'qwen05b' ? QWEN25_05B : parseConfig(JSON.parse(readFileSync(shape, 'utf8')) as Record<string, unknown>, shape);
  const t0 = performance.now();
  writeRandomCheckpoint(out, config, new Rng(0), { dtype: opt('dtype', 'BF16') as 'BF16' });
  console.log(`wrote ${(parameterCount(config) / 1e6).toFixed(1)} M random parameters (${opt('dtype', 'BF16')}) to ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const pref = opt('backend', 'auto') as BackendPreference;
if (part === 'cache') await cacheBench(await initBackend(pref));
else if (part === 'qwen05b') await qwenBench(pref);
else if (part === 'write') writeCheckpointPart();
else throw new Error(`unknown part ${part} (write, cache or qwen05b)`);
