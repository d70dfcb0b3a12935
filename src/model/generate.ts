// Autoregressive generation with greedy or temperature/top-p sampling, stop ids and a token limit. Two
// decoders: the native one (src/model/decoder.ts + decode.ts: weights outside the wasm heap, continuous
// batching), used when the addon is built; and the TensorFlow.js one here (left-padded batches with a key
// mask and per-row positions, a KvCache), the fallback and the reference the native one is tested against.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../util/rng.js';
import { decodeAll } from './decode.js';
import { NativeDecoder, nativeDecoderProblem } from './decoder.js';
import type { LoraAdapter } from './lora.js';
import { KvCache, Qwen2Model } from './qwen2.js';
import type { ChatMessage, Tokenizer } from './tokenizer.js';

/** A raw text, a conversation (rendered with the chat template plus the assistant prompt), or model ids. */
export type Prompt = string | readonly ChatMessage[] | readonly number[];

export interface GenerateOptions {
  maxNewTokens?: number;
  /** 0 = greedy (default). */
  temperature?: number;
  topP?: number;
  seed?: number;
  lora?: LoraAdapter;
  /** Default: the tokenizer's eosIds (`<|im_end|>`, `<|endoftext|>`). */
  stopIds?: readonly number[];
  /** Prompts per forward batch (default 8). */
  batchSize?: number;
  /** false recomputes the whole sequence each step (for measuring what the cache saves). */
  useCache?: boolean;
  /** Called after each decoding step with the number of prompts finished so far. */
  onStep?: (step: number, finished: number, total: number) => void;
  /**
   * 'native' (the addon's decoder; the LoRA adapter merged once), 'tfjs', or 'auto' (default, or
   * $UNITRACE_DECODER): native when the addon is built and the KV cache is on.
   */
  engine?: 'auto' | 'native' | 'tfjs';
}

export interface Generation {
  text: string;
  /** Generated model ids, without the stop token. */
  ids: number[];
  finishReason: 'stop' | 'length';
  promptTokens: number;
}

export function promptIds(tokenizer: Tokenizer, prompt: Prompt): number[] {
  if (typeof prompt === 'string') return tokenizer.encode(prompt);
  if (prompt.length > 0 && typeof prompt[0] === 'number') return (prompt as readonly number[]).slice();
  return tokenizer.encodeChat(prompt as readonly ChatMessage[], { addGenerationPrompt: true });
}

/** Picks the next id from one row of logits. */
export function sampleToken(logits: Float32Array, temperature: number, topP: number, rng: Rng): number {
  const V = logits.length;
  if (temperature <= 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i]! > logits[best]!) best = i;
    return best;
  }
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i]! > max) max = logits[i]!;
  const probs = new Float64Array(V);
  let sum = 0;
  for (let i = 0; i < V; i++) sum += probs[i] = Math.exp((logits[i]! - max) / temperature);
  let order: Int32Array | number[];
  let mass = 1;
  if (topP < 1) {
    // Nucleus: the most likely tokens whose probabilities first reach topP.
    const sorted = Int32Array.from({ length: V }, (_, i) => i).sort((a, b) => probs[b]! - probs[a]!);
    let cum = 0;
    let n = 0;
    while (n < V && cum < topP * sum) cum += probs[sorted[n++]!]!;
    order = sorted.subarray(0, n);
    mass = cum / sum;
  } else order = Int32Array.from({ length: V }, (_, i) => i);
  let r = rng.next() * mass * sum;
  for (const i of order) {
    r -= probs[i]!;
    if (r < 0) return i;
  }
  return order[order.length - 1]!;
}

/** True when generate() would run the native decoder for these options. */
export function usesNativeDecoder(opts: Pick<GenerateOptions, 'engine' | 'useCache'> = {}): boolean {
  const engine = opts.engine ?? (process.env.UNITRACE_DECODER as GenerateOptions['engine']) ?? 'auto';
  if (engine === 'tfjs') return false;
  const problem = nativeDecoderProblem() || (opts.useCache === false ? 'useCache: false' : '');
  if (engine === 'native' && problem) throw new Error(`generate: engine 'native' requested but ${problem}`);
  return !problem;
}

/**
 * Generates a completion for each prompt; results come back in prompt order. `model` may be a NativeDecoder
 * built once by the caller (evaluation, benchmarks): then the native decoder runs.
 */
export async function generate(model: Qwen2Model | NativeDecoder, tokenizer: Tokenizer, prompts: readonly Prompt[], opts: GenerateOptions = {}): Promise<Generation[]> {
  const ids = prompts.map((p) => promptIds(tokenizer, p));
  checkPrompts(ids, model.config.vocabSize);
  if (model instanceof Qwen2Model && !usesNativeDecoder(opts)) {
    const batchSize = opts.batchSize ?? 8;
    const rng = new Rng(opts.seed ?? 0);
    const out: Generation[] = [];
    for (let start = 0; start < ids.length; start += batchSize)
      out.push(...(await generateBatch(model, tokenizer, ids.slice(start, start + batchSize), opts, rng, start, ids.length)));
    return out;
  }
  if (!(model instanceof Qwen2Model) && opts.lora) throw new Error('generate: a NativeDecoder has its adapter merged when built (NativeDecoder.fromModel(model, lora))');
  const decoder = model instanceof Qwen2Model ? NativeDecoder.fromModel(model, opts.lora) : model;
  try {
    const decodeOpts = {
      maxNewTokens: opts.maxNewTokens ?? 256,
      temperature: opts.temperature ?? 0,
      topP: opts.topP ?? 1,
      seed: opts.seed ?? 0,
      stopIds: new Set(opts.stopIds ?? tokenizer.eosIds),
      batchSize: opts.batchSize ?? 8,
      onStep: opts.onStep,
    };
    return decodeAll(decoder, ids, decodeOpts, sampleToken).map((d, i) => ({
      text: tokenizer.decode(d.ids, { skipSpecialTokens: true }),
      ids: d.ids,
      finishReason: d.finishReason,
      promptTokens: ids[i]!.length,
    }));
  } finally {
    if (decoder !== model) decoder.dispose();
  }
}

function checkPrompts(prompts: readonly number[][], vocabSize: number, doneBefore = 0): void {
  for (const [i, p] of prompts.entries()) {
    if (p.length === 0) throw new Error(`generate: prompt ${doneBefore + i} is empty`);
    const bad = p.find((id) => !Number.isInteger(id) || id < 0 || id >= vocabSize);
    if (bad !== undefined) throw new Error(`generate: prompt ${doneBefore + i} has token id ${bad}, outside the model's vocabulary of ${vocabSize} (tokenizer and model do not match?)`);
  }
}

/** One left-padded batch of prompt ids on the TensorFlow.js decoder. */
export async function generateBatch(
  model: Qwen2Model,
  tokenizer: Tokenizer,
  prompts: number[][],
  opts: GenerateOptions,
  rng: Rng,
  doneBefore = 0,
  total = prompts.length,
): Promise<Generation[]> {
  const maxNew = opts.maxNewTokens ?? 256;
  const temperature = opts.temperature ?? 0;
  const topP = opts.topP ?? 1;
  const stop = new Set(opts.stopIds ?? tokenizer.eosIds);
  const useCache = opts.useCache ?? true;
  const B = prompts.length;
  checkPrompts(prompts, model.config.vocabSize, doneBefore);
  const P = Math.max(...prompts.map((p) => p.length));
  // Left padding: row r has P - len(r) pads, then its prompt; pads are masked and take position 0.
  const tokens: number[][] = prompts.map((p) => [...new Array(P - p.length).fill(tokenizer.padId), ...p]);
  const mask: number[][] = prompts.map((p) => [...new Array(P - p.length).fill(0), ...new Array(p.length).fill(1)]);
  const positions: number[][] = prompts.map((p) => [...new Array(P - p.length).fill(0), ...p.map((_, i) => i)]);
  const generated: number[][] = prompts.map(() => []);
  const finished: ('stop' | 'length' | null)[] = prompts.map(() => null);
  const cache = useCache ? new KvCache(model.config.numHiddenLayers) : undefined;
  try {
    for (let step = 0; step < maxNew && finished.some((f) => f === null); step++) {
      // With the cache only the newest token goes in; without it the whole sequence is recomputed.
      const from = useCache && step > 0 ? tokens[0]!.length - 1 : 0;
      const T = tokens[0]!.length - from;
      const next = tf.tidy(() => {
        const ids = tf.tensor2d(tokens.map((r) => r.slice(from)), [B, T], 'int32');
        const keyMask = tf.tensor2d(mask, [B, tokens[0]!.length], 'float32');
        const pos = tf.tensor2d(positions.map((r) => r.slice(from)), [B, T], 'int32');
        const logits = model.forward(ids, { lora: opts.lora, cache, keyMask, positions: pos, lastOnly: true }); // [B,1,V]
        return temperature <= 0 ? tf.argMax(tf.reshape(logits, [B, -1]), 1) : tf.reshape(logits, [B, -1]);
      });
      const data = await next.data();
      next.dispose();
      const V = model.config.vocabSize;
      for (let r = 0; r < B; r++) {
        let id: number;
        if (finished[r] !== null) id = tokenizer.padId;
        else {
          id = temperature <= 0 ? data[r]! : sampleToken((data as Float32Array).subarray(r * V, (r + 1) * V), temperature, topP, rng);
          if (stop.has(id)) finished[r] = 'stop';
          else {
            generated[r]!.push(id);
            if (generated[r]!.length >= maxNew) finished[r] = 'length';
          }
        }
        tokens[r]!.push(id);
        mask[r]!.push(1);
        positions[r]!.push(positions[r]![positions[r]!.length - 1]! + 1);
      }
      opts.onStep?.(step + 1, doneBefore + finished.filter((f) => f !== null).length, total);
    }
  } finally {
    cache?.dispose();
  }
  return generated.map((ids, r) => ({
    text: tokenizer.decode(ids, { skipSpecialTokens: true }),
    ids,
    finishReason: finished[r] ?? 'length',
    promptTokens: prompts[r]!.length,
  }));
}
