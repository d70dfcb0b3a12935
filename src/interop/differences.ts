// Where unitrace and TRL 1.13 define training differently, found by running unitrace's own code (so the
// export's README stays true when unitrace changes) and written next to what TRL does (read from TRL's
// source: SFTTrainer/DPOTrainer tokenisation and truncation, DPO's IPO loss, transformers' schedule).
import * as tf from '@tensorflow/tfjs-core';
import type { Config } from '../config/index.js';
import type { Tokenizer } from '../model/tokenizer.js';
import { tokenizeTurn, type TokenizedSequence } from '../train/collate.js';
import { dpoObjective } from '../train/objectives.js';
import { linearSchedule } from '../train/optimizer.js';
import type { DpoBatch, Message } from '../train/types.js';

export interface Difference {
  topic: string;
  unitrace: string;
  trl: string;
  /** What it changes for this run (counts from its data where they apply). */
  effect: string;
}

export interface TruncationCounts {
  sequences: number;
  /** Sequences unitrace truncates (prompt kept at its end, response at its start). */
  unitrace: number;
  /** Sequences longer than TRL's max_length (prompt + response, end cut). */
  trl: number;
}

/** Counts both engines' truncation on the run's sequences (TRL's length includes the trained newline). */
export function truncationCounts(seqs: readonly TokenizedSequence[], maxLength: number, trlExtraTokens: number): TruncationCounts {
  let unitrace = 0;
  let trl = 0;
  for (const s of seqs) {
    if (s.promptTruncated || s.responseTruncated) unitrace++;
    if (s.ids.length + trlExtraTokens > maxLength) trl++;
  }
  return { sequences: seqs.length, unitrace, trl };
}

/** Tokens the chat template puts after <|im_end|> at the end of a turn (TRL trains them; unitrace may not). */
export function tokensAfterTurnEnd(tok: Tokenizer): { unitraceTrains: boolean; trailing: number } {
  const prompt: Message[] = [{ role: 'user', content: 'x' }];
  const response: Message = { role: 'assistant', content: 'y' };
  const seq = tokenizeTurn(tok, prompt, response, { maxPromptTokens: 1 << 20, maxResponseTokens: 1 << 20 }, 'probe');
  const full = tok.encode(tok.applyChatTemplate([...prompt, response], { addGenerationPrompt: false }));
  const end = full.lastIndexOf(tok.imEndId);
  const trailing = full.length - 1 - end;
  const trained = seq.ids.length - seq.promptLength;
  const responseThroughEnd = end + 1 - seq.promptLength;
  return { unitraceTrains: trained > responseThroughEnd, trailing };
}

/** Whether unitrace's IPO loss averages the log-ratio over response tokens (TRL does) or sums it. */
export function ipoIsLengthNormalised(): boolean {
  // A pair whose chosen response has two tokens and rejected one, under uniform logits over 2 ids:
  // summed log-ratio h = -log 2, per-token means give h = 0; refs 0, beta 0.5 so the IPO target is 1.
  const batch: DpoBatch = {
    kind: 'dpo',
    inputIds: Int32Array.from([0, 0, 0, 0, 0, 0]),
    labels: Int32Array.from([0, 0, 0, 0, 0, 0]),
    weights: Float32Array.from([0, 1, 1, 0, 1, 0]),
    rowLengths: Int32Array.from([3, 2]),
    batch: 2,
    seqLen: 3,
    tokens: 5,
    seed: 0,
    pairs: 1,
    refChosen: Float32Array.from([0]),
    refRejected: Float32Array.from([0]),
  };
  const uniform = { forward: (ids: tf.Tensor2D) => tf.zeros([ids.shape[0], ids.shape[1], 2]) as tf.Tensor };
  const loss = tf.tidy(() => dpoObjective(uniform, null, batch, false, { beta: 0.5, loss: 'ipo' }).loss.dataSync()[0]!);
  const normalised = (0 - 1) ** 2;
  const summed = (-Math.log(2) - 1) ** 2;
  return Math.abs(loss - normalised) < Math.abs(loss - summed);
}

/** True when the chat template adds a system message to a conversation that has none. */
export function templateAddsSystemPrompt(tok: Tokenizer): boolean {
  return tok.applyChatTemplate([{ role: 'user', content: 'x' }], { addGenerationPrompt: false }).includes('<|im_start|>system');
}

export interface ProbeInputs {
  config: Config;
  tokenizer: Tokenizer;
  sft: TruncationCounts;
  dpo: TruncationCounts;
}

export function definitionDifferences({ config, tokenizer, sft, dpo }: ProbeInputs): Difference[] {
  const out: Difference[] = [];
  const turn = tokensAfterTurnEnd(tokenizer);
  if (!turn.unitraceTrains && turn.trailing > 0)
    out.push({
      topic: 'end of the response',
      unitrace: 'trains the response through <|im_end|> and drops what the template puts after it',
      trl: `trains the completion as the template renders it: <|im_end|> and the ${turn.trailing} token(s) after it (a newline)`,
      effect: `one more trained token per sequence in TRL (a newline after <|im_end|>; generation stops at <|im_end|> either way)`,
    });
  const maxLength = config.sft.maxPromptTokens + config.sft.maxResponseTokens;
  const extra = turn.unitraceTrains ? 0 : turn.trailing;
  out.push({
    topic: 'truncation',
    unitrace: `prompt cut to its last ${config.sft.maxPromptTokens} tokens, response to its first ${config.sft.maxResponseTokens}`,
    trl: `prompt + response cut to the first max_length = ${maxLength} tokens (truncation_mode keep_start; TRL 1.13 has no separate prompt limit)`,
    effect:
      `SFT: unitrace truncates ${sft.unitrace} of ${sft.sequences} sequences, TRL ${sft.trl}; ` +
      `DPO: unitrace ${dpo.unitrace} of ${dpo.sequences} responses, TRL ${dpo.trl}` +
      (sft.unitrace + sft.trl + dpo.unitrace + dpo.trl === 0 ? ' (no difference on this run)' : ''),
  });
  const ipoMean = ipoIsLengthNormalised();
  if (!ipoMean)
    out.push({
      topic: "IPO's log-ratio",
      unitrace: 'summed over the response tokens',
      trl: 'averaged over the response tokens (loss_type ipo)',
      effect: config.dpo.loss === 'ipo' ? 'this run uses IPO: the same beta regularises differently; compare losses with care' : `none for this run (dpo.loss is ${config.dpo.loss})`,
    });
  out.push({
    topic: 'system prompt',
    unitrace: templateAddsSystemPrompt(tokenizer) ? "the model's chat template adds a default system prompt" : 'the chat template adds no system prompt',
    trl: 'renders the same chat template (the exported model folder carries it), so the same',
    effect: 'none: both engines see the same text',
  });
  const firstLr = linearSchedule(1, 100, 10)(0);
  if (firstLr > 0)
    out.push({
      topic: 'warmup',
      unitrace: 'step k of the warmup (from 0) uses lr (k + 1) / warmup',
      trl: 'transformers uses lr k / warmup: its first step has learning rate 0',
      effect: 'the schedule is one step later in TRL during warmup; identical after it',
    });
  out.push({
    topic: 'batches',
    unitrace: 'a seeded shuffle; examples of similar length share a batch (within windows of 32 batches)',
    trl: "transformers' seeded random sampler (no length grouping unless group_by_length is set)",
    effect: 'different batch composition and padding; the same examples per epoch',
  });
  return out;
}
