// Continuous batching on the native decoder: up to batchSize sequences decode together, each in its own
// KV-cache slot; a sequence that stops frees its slot at once and the next prompt's prefill joins the
// following step, so short answers never wait for long ones. Greedy decoding takes the ids from the fused
// lm_head argmax; sampling draws from each prompt's own random stream, so a result does not depend on
// which other prompts shared its batch.
import { Rng } from '../util/rng.js';
import type { NativeDecoder } from './decoder.js';

export interface DecodeOptions {
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topP: number;
  seed: number;
  stopIds: ReadonlySet<number>;
  /** Sequences decoding at once (KV-cache slots). */
  batchSize: number;
  /** Prompt tokens admitted into one forward, beyond the first prompt (bounds activation memory). */
  maxPrefillTokens?: number;
  onStep?: (step: number, finished: number, total: number) => void;
}

export interface Decoded {
  ids: number[];
  finishReason: 'stop' | 'length';
}

type Sampler = (logits: Float32Array, temperature: number, topP: number, rng: Rng) => number;

interface Row {
  index: number;
  slot: number;
  /** Tokens the next forward feeds: the prompt, then the last generated id. */
  feed: number[];
  ids: number[];
  rng: Rng;
}

/** Generates for every prompt (ids checked by the caller); results in prompt order. */
export function decodeAll(decoder: NativeDecoder, prompts: readonly number[][], opts: DecodeOptions, sample: Sampler): Decoded[] {
  const out: Decoded[] = prompts.map(() => ({ ids: [], finishReason: 'length' }));
  if (opts.maxNewTokens <= 0 || prompts.length === 0) return out;
  const slots = Math.min(opts.batchSize, prompts.length);
  const cache = decoder.createCache(slots);
  const free = Array.from({ length: slots }, (_, i) => i);
  const active: Row[] = [];
  const greedy = opts.temperature <= 0;
  const V = decoder.config.vocabSize;
  const base = new Rng(opts.seed);
  let next = 0;
  let finished = 0;
  try {
    for (let step = 1; active.length > 0 || next < prompts.length; step++) {
      next = admit(prompts, next, free, active, cache, base, opts.maxPrefillTokens ?? 2048);
      const slotIds = Int32Array.from(active, (r) => r.slot);
      const counts = Int32Array.from(active, (r) => r.feed.length);
      const tokens = Int32Array.from(active.flatMap((r) => r.feed));
      const logits = greedy ? null : decoder.forward(cache, slotIds, counts, tokens, 'last');
      const argmax = greedy ? decoder.forward(cache, slotIds, counts, tokens, 'argmax') : null;
      const still: Row[] = [];
      active.forEach((row, r) => {
        const id = argmax ? argmax[r]! : sample(logits!.subarray(r * V, (r + 1) * V), opts.temperature, opts.topP, row.rng);
        const stop = opts.stopIds.has(id);
        if (!stop) row.ids.push(id);
        if (stop || row.ids.length >= opts.maxNewTokens) {
          out[row.index] = { ids: row.ids, finishReason: stop ? 'stop' : 'length' };
          free.push(row.slot);
          finished++;
        } else {
          row.feed = [id];
          still.push(row);
        }
      });
      active.splice(0, active.length, ...still);
      opts.onStep?.(step, finished, prompts.length);
    }
  } finally {
    cache.dispose();
  }
  return out;
}

/** Starts prompts in free slots while the step's prefill stays within budget; returns the next prompt index. */
function admit(prompts: readonly number[][], next: number, free: number[], active: Row[], cache: ReturnType<NativeDecoder['createCache']>, base: Rng, budget: number): number {
  let admitted = 0;
  while (free.length > 0 && next < prompts.length) {
    const p = prompts[next]!;
    if (admitted > 0 && admitted + p.length > budget) break;
    const slot = free.shift()!;
    cache.reset(slot);
    active.push({ index: next, slot, feed: p.slice(), ids: [], rng: base.fork(`prompt ${next}`) });
    admitted += p.length;
    next++;
  }
  return next;
}
