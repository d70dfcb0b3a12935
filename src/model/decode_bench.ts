// `unitrace bench --decode`: prefill and greedy decoding speed of a model folder with the KV cache, beside
// the bound a decode step cannot beat: reading the step's weights once, timed in the same run by the
// native addon's threads over the same memory. Random prompt ids (the weights may be random too).
import { loadavg } from 'node:os';
import { Rng } from '../util/rng.js';
import { parameterCount } from './config.js';
import { NativeDecoder, nativeDecoderProblem } from './decoder.js';

export interface DecodeBenchOptions {
  /** Model folder (or 'embedded'). */
  model: string;
  batch: number;
  promptTokens: number;
  newTokens: number;
  /** 'native' (the addon's decoder) or 'tfjs' (the TensorFlow.js decoder, for comparison). */
  engine: 'native' | 'tfjs';
  onStep?: (step: number, seconds: number) => void;
}

export interface DecodeBenchResult {
  model: string;
  parameters: number;
  batch: number;
  promptTokens: number;
  newTokens: number;
  loadSeconds: number;
  prefillSeconds: number;
  prefillTokensPerSecond: number;
  /** Median decode step (one token per row). */
  secondsPerStep: number;
  /** = secondsPerStep: what one row waits per token. */
  secondsPerToken: number;
  /** Tokens per second over all rows: batch / secondsPerStep. */
  tokensPerSecond: number;
  /** Median CPU time of a decode step, all threads of the process (robust to other load on the machine). */
  cpuSecondsPerStep: number;
  /** Bytes one decode step reads (layer matrices, lm_head, norms, biases); null when not measured. */
  weightBytes: number | null;
  /** Seconds to read weightBytes once with the addon's threads (best of 3), measured in this run. */
  readSeconds: number | null;
  /** weightBytes / readSeconds, GB/s. */
  bandwidthGBs: number | null;
  /** secondsPerStep / readSeconds: 1 is the memory bound. */
  boundRatio: number | null;
  backend: string;
  matmul: string;
  /** 1-minute load average before and after (the machine is shared). */
  loadAverage: [number, number];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;
const cpuSeconds = (c0: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1e6;
};

export async function runDecodeBench(opts: DecodeBenchOptions): Promise<DecodeBenchResult> {
  const loadBefore = loadavg()[0]!;
  const run = opts.engine === 'native' ? await nativeRun(opts) : await tfjsRun(opts);
  const secondsPerStep = median(run.steps);
  const bytes = run.weightBytes;
  return {
    model: opts.model,
    parameters: run.parameters,
    batch: opts.batch,
    promptTokens: opts.promptTokens,
    newTokens: opts.newTokens,
    loadSeconds: run.loadSeconds,
    prefillSeconds: run.prefillSeconds,
    prefillTokensPerSecond: (opts.batch * opts.promptTokens) / run.prefillSeconds,
    secondsPerStep,
    secondsPerToken: secondsPerStep,
    tokensPerSecond: opts.batch / secondsPerStep,
    cpuSecondsPerStep: median(run.cpuSteps),
    weightBytes: bytes,
    readSeconds: run.readSeconds,
    bandwidthGBs: bytes !== null && run.readSeconds ? bytes / run.readSeconds / 1e9 : null,
    boundRatio: run.readSeconds ? secondsPerStep / run.readSeconds : null,
    backend: run.backend,
    matmul: run.matmul,
    loadAverage: [loadBefore, loadavg()[0]!],
  };
}

interface Run {
  parameters: number;
  loadSeconds: number;
  prefillSeconds: number;
  steps: number[];
  cpuSteps: number[];
  weightBytes: number | null;
  readSeconds: number | null;
  backend: string;
  matmul: string;
}

function randomPrompts(vocab: number, batch: number, length: number): number[][] {
  const rng = new Rng(7);
  return Array.from({ length: batch }, () => Array.from({ length }, () => Math.floor(rng.next() * vocab)));
}

async function nativeRun(opts: DecodeBenchOptions): Promise<Run> {
  const problem = nativeDecoderProblem();
  if (problem) throw new Error(`bench --decode: the native decoder is unavailable (${problem}); use --engine tfjs`);
  let t0 = performance.now();
  const decoder = NativeDecoder.fromCheckpoint(opts.model);
  const loadSeconds = seconds(t0);
  const cache = decoder.createCache(opts.batch);
  try {
    const prompts = randomPrompts(decoder.config.vocabSize, opts.batch, opts.promptTokens);
    const slots = Int32Array.from(prompts, (_, i) => i);
    t0 = performance.now();
    let last = decoder.forward(cache, slots, Int32Array.from(prompts, (p) => p.length), Int32Array.from(prompts.flat()), 'argmax');
    const prefillSeconds = seconds(t0);
    const ones = new Int32Array(opts.batch).fill(1);
    const steps: number[] = [];
    const cpuSteps: number[] = [];
    for (let s = 0; s < opts.newTokens; s++) {
      t0 = performance.now();
      const c0 = process.cpuUsage();
      last = decoder.forward(cache, slots, ones, last, 'argmax');
      steps.push(seconds(t0));
      cpuSteps.push(cpuSeconds(c0));
      opts.onStep?.(s + 1, steps[s]!);
    }
    const { kernel, threads, weightBytes, bf16Bytes } = decoder.info;
    const matmul = `native decoder (${kernel} kernels, ${threads} threads, ${((100 * bf16Bytes) / weightBytes).toFixed(0)}% of weight bytes bf16)`;
    return { parameters: parameterCount(decoder.config), loadSeconds, prefillSeconds, steps, cpuSteps, weightBytes, readSeconds: decoder.readSeconds(), backend: 'native', matmul };
  } finally {
    cache.dispose();
    decoder.dispose();
  }
}

async function tfjsRun(opts: DecodeBenchOptions): Promise<Run> {
  const { matmulPath } = await import('../engine/backend.js');
  const tf = await import('@tensorflow/tfjs-core');
  const { loadModel } = await import('./load.js');
  const { generateBatch } = await import('./generate.js');
  const { loadTokenizer } = await import('./tokenizer.js');
  let t0 = performance.now();
  const model = await loadModel(opts.model);
  const loadSeconds = seconds(t0);
  try {
    const prompts = randomPrompts(model.config.vocabSize, opts.batch, opts.promptTokens);
    const ends: number[] = [];
    const cpuEnds: number[] = [];
    const c0 = process.cpuUsage();
    t0 = performance.now();
    // Equal-length prompts and no stop ids: no padding, and step 1 is the prefill (with the first token).
    const onStep = (step: number) => {
      ends.push(performance.now());
      cpuEnds.push(cpuSeconds(c0));
      if (step > 1) opts.onStep?.(step - 1, (ends[step - 1]! - ends[step - 2]!) / 1000);
    };
    await generateBatch(model, loadTokenizer(), prompts, { maxNewTokens: opts.newTokens + 1, stopIds: [], onStep }, new Rng(0));
    const steps = ends.slice(1).map((t, i) => (t - ends[i]!) / 1000);
    const cpuSteps = cpuEnds.slice(1).map((t, i) => t - cpuEnds[i]!);
    const weightBytes = [...model.weights.values()].reduce((n, v) => n + v.size * 4, 0);
    return { parameters: model.parameterCount(), loadSeconds, prefillSeconds: (ends[0]! - t0) / 1000, steps, cpuSteps, weightBytes, readSeconds: null, backend: tf.getBackend(), matmul: matmulPath() };
  } finally {
    model.dispose();
  }
}
