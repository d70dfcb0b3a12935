// On-policy preference pairs (beyond the paper): sample several responses per prompt from the SFT model,
// let execution decide which are right, and pair a verified-correct response against a failing one.
import type { Qwen2Model } from '../model/qwen2.js';
import type { Tokenizer } from '../model/tokenizer.js';
import type { PairRow } from './collate.js';
import type { Message } from './types.js';

/** A mixing-stage pair row: the prompt, its offline chosen/rejected responses and what checks them. */
export interface PairSource extends PairRow {
  id: string;
  family?: string;
  groundTruth?: string | number;
}

export interface OnPolicyOptions {
  samples: number;
  temperature: number;
  topP: number;
  maxNewTokens: number;
  seed: number;
  /** True when a response is right: strict format, code runs, answer matches (execution feedback). */
  verify(source: PairSource, response: string): Promise<boolean>;
  onProgress?(done: number, total: number): void;
}

export interface OnPolicyReport {
  prompts: number;
  /** Pairs built from two samples (a correct and a failing one). */
  sampled: number;
  /** No sample was correct: the offline chosen response (a verified trace) against a failing sample. */
  offlineChosen: number;
  /** Every sample was correct (nothing to learn from): the offline pair kept. */
  offlinePair: number;
  samplesCorrect: number;
  samplesTotal: number;
}

const assistant = (content: string): Message[] => [{ role: 'assistant', content }];

/** One pair per source, sampled where the samples allow, falling back to the offline responses. */
export async function onPolicyPairs(model: Qwen2Model, tokenizer: Tokenizer, sources: readonly PairSource[], opts: OnPolicyOptions): Promise<{ pairs: PairSource[]; report: OnPolicyReport }> {
  const { generate, usesNativeDecoder } = await import('../model/generate.js');
  const { NativeDecoder } = await import('../model/decoder.js');
  const report: OnPolicyReport = { prompts: sources.length, sampled: 0, offlineChosen: 0, offlinePair: 0, samplesCorrect: 0, samplesTotal: 0 };
  const pairs: PairSource[] = [];
  // The policy does not change while its pairs are drawn: its native weights are packed once, not per prompt.
  const decoder = usesNativeDecoder() ? NativeDecoder.fromModel(model) : null;
  try {
    for (let i = 0; i < sources.length; i++) {
      const src = sources[i]!;
      const prompts = Array.from({ length: opts.samples }, () => src.prompt);
      // One seed per prompt (not per run position) so a resumed or reordered run draws the same samples.
      const gens = await generate(decoder ?? model, tokenizer, prompts, { maxNewTokens: opts.maxNewTokens, temperature: opts.temperature, topP: opts.topP, seed: opts.seed + i * 1009 });
      // Each of the batch's rows gets its own draws from the seeded stream, so the samples differ.
      const verdicts = await Promise.all(gens.map((g) => (g.finishReason === 'stop' ? opts.verify(src, g.text) : Promise.resolve(false))));
      report.samplesTotal += gens.length;
      report.samplesCorrect += verdicts.filter(Boolean).length;
      const good = gens.find((_, k) => verdicts[k]);
      const bad = gens.find((_, k) => !verdicts[k]);
      if (good && bad) {
        report.sampled++;
        pairs.push({ ...src, id: `${src.id}-onpolicy`, chosen: assistant(good.text), rejected: assistant(bad.text) });
      } else if (bad) {
        report.offlineChosen++;
        pairs.push({ ...src, id: `${src.id}-onpolicy`, rejected: assistant(bad.text) });
      } else {
        report.offlinePair++;
        pairs.push(src);
      }
      opts.onProgress?.(i + 1, sources.length);
    }
  } finally {
    decoder?.dispose();
  }
  return { pairs, report };
}
