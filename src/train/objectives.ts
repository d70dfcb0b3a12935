// Training objectives as pure functions of (model, adapter, micro-batch). The engine's gradient computer
// differentiates `loss` with respect to the trainable parameters, in-process or in worker threads.
import * as tf from '@tensorflow/tfjs-core';
import { maskedCrossEntropy, tokenLogProbs } from '../engine/ops.js';
import type { DpoBatch, DpoLoss, MicroBatch, ObjectiveOptions, SftBatch } from './types.js';

/** What an objective needs from a model: Qwen2Model satisfies it. */
export interface LogitsModel<A> {
  forward(ids: tf.Tensor2D, options: { lora?: A; training?: boolean; seed?: number }): tf.Tensor; // [B,T,V]
}

export interface ObjectiveResult {
  loss: tf.Scalar;
  metrics: Record<string, tf.Scalar>;
}

export type Objective = <A>(model: LogitsModel<A>, adapter: A | null, batch: MicroBatch, training: boolean, options?: ObjectiveOptions) => ObjectiveResult;

/** Logits for every position, flattened: [batch*seqLen, vocab]. */
function flatLogits<A>(model: LogitsModel<A>, adapter: A | null, batch: MicroBatch, training: boolean): tf.Tensor2D {
  const ids = tf.tensor2d(batch.inputIds, [batch.batch, batch.seqLen], 'int32');
  const logits = model.forward(ids, { lora: adapter ?? undefined, training, seed: batch.seed }); // [B,T,V]
  const vocab = logits.shape[logits.shape.length - 1]!;
  return tf.reshape(logits, [batch.batch * batch.seqLen, vocab]);
}

/** SFT: masked mean negative log-likelihood over the response tokens, and TRL's mean_token_accuracy. */
export function sftObjective<A>(model: LogitsModel<A>, adapter: A | null, batch: MicroBatch, training: boolean): ObjectiveResult {
  if (batch.kind !== 'sft') throw new Error(`sft objective got a ${batch.kind} batch`);
  const b = batch as SftBatch;
  const logits = flatLogits(model, adapter, b, training); // [N,V]
  const labels = tf.tensor1d(b.labels, 'int32'); // [N]
  const weights = tf.tensor1d(b.weights, 'float32'); // [N]
  const weightSum = tf.maximum(tf.sum(weights), 1);
  const loss = tf.div(maskedCrossEntropy(logits, labels, weights), weightSum) as tf.Scalar;
  const hits = tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'); // [N]
  const accuracy = tf.div(tf.sum(tf.mul(hits, weights)), weightSum) as tf.Scalar;
  return { loss, metrics: { mean_token_accuracy: accuracy } };
}

/** Per-token log-probs of the labels, zero off the weighted (response) tokens: [batch*seqLen]. */
function maskedTokenLogProbs(logits: tf.Tensor2D, batch: MicroBatch): tf.Tensor1D {
  const lp = tokenLogProbs(logits, tf.tensor1d(batch.labels, 'int32')); // [N]
  return tf.mul(lp, tf.tensor1d(batch.weights, 'float32')) as tf.Tensor1D;
}

/**
 * Summed log-probs of the weighted (response) tokens per row: [rows]. No tidy here: intermediates must
 * live until the caller's gradient pass; callers outside one wrap it in tf.tidy.
 */
export function sequenceLogProbs<A>(model: LogitsModel<A>, adapter: A | null, batch: MicroBatch, training: boolean): tf.Tensor1D {
  const masked = maskedTokenLogProbs(flatLogits(model, adapter, batch, training), batch);
  return tf.sum(tf.reshape(masked, [batch.batch, batch.seqLen]), 1) as tf.Tensor1D;
}

/** Trained tokens per row: [rows]. */
function rowWeightSums(batch: MicroBatch): Float32Array {
  const out = new Float32Array(batch.batch);
  for (let r = 0; r < batch.batch; r++) for (let t = 0; t < batch.seqLen; t++) out[r] += batch.weights[r * batch.seqLen + t]!;
  return out;
}

/** Chosen rows are even, rejected odd: [P] each. */
function splitPairs(perRow: tf.Tensor1D, pairs: number): [tf.Tensor1D, tf.Tensor1D] {
  const [chosen, rejected] = tf.split(tf.reshape(perRow, [pairs, 2]), 2, 1).map((t) => tf.reshape(t, [pairs]));
  return [chosen as tf.Tensor1D, rejected as tf.Tensor1D];
}

/** -log sigmoid(z) = softplus(-z); tf.logSigmoid's custom gradient reads a disposed input. */
const negLogSigmoid = (z: tf.Tensor): tf.Tensor => tf.softplus(tf.neg(z));

/**
 * DPO (Rafailov et al.) per pair, with h = (log pi(y+) - log ref(y+)) - (log pi(y-) - log ref(y-)) from
 * summed response log-probs. Reference: TRL trl/trainer/dpo_trainer.py, DPOTrainer._compute_loss (v1.13).
 * - sigmoid: -log sigmoid(beta h); with label smoothing e, conservative DPO
 *   -(1-e) log sigmoid(beta h) - e log sigmoid(-beta h), TRL's `sigmoid` in v0.x (DPOTrainer.dpo_loss;
 *   TRL 1.x's `sigmoid` ignores label_smoothing and moved it to `robust`).
 * - robust (Chowdhury et al.): (-(1-e) log sigmoid(beta h) + e log sigmoid(-beta h)) / (1 - 2e), TRL's `robust`.
 * - ipo: (h_avg - 1/(2 beta))^2 where each log-ratio is divided by its completion's token count, as TRL
 *   does in v0.x and today (the IPO authors' normalised form).
 * - hinge: max(0, 1 - beta h).
 */
function dpoPerPair(kind: DpoLoss, h: tf.Tensor1D, avgH: () => tf.Tensor1D, beta: number, smoothing: number): tf.Tensor {
  const z = tf.mul(h, beta);
  if (kind === 'sigmoid') {
    const clean = negLogSigmoid(z);
    return smoothing === 0 ? clean : tf.add(tf.mul(clean, 1 - smoothing), tf.mul(negLogSigmoid(tf.neg(z)), smoothing));
  }
  if (kind === 'robust') return tf.div(tf.sub(tf.mul(negLogSigmoid(z), 1 - smoothing), tf.mul(negLogSigmoid(tf.neg(z)), smoothing)), 1 - 2 * smoothing);
  if (kind === 'ipo') return tf.square(tf.sub(avgH(), 1 / (2 * beta)));
  return tf.relu(tf.sub(1, z));
}

/** DPO loss (mean over pairs) and TRL's metrics: rewards/*, logps/*, logits/* (mean logit over the vocabulary on response positions). */
export function dpoObjective<A>(model: LogitsModel<A>, adapter: A | null, batch: MicroBatch, training: boolean, options: ObjectiveOptions = {}): ObjectiveResult {
  if (batch.kind !== 'dpo') throw new Error(`dpo objective got a ${batch.kind} batch`);
  const b = batch as DpoBatch;
  const beta = options.beta ?? 0.1;
  const kind = options.loss ?? 'sigmoid';
  const smoothing = options.labelSmoothing ?? 0;
  if (kind === 'robust' && !(smoothing >= 0 && smoothing < 0.5)) throw new Error(`dpo: label smoothing for the robust loss must lie in [0, 0.5), got ${smoothing}`);
  const logits = flatLogits(model, adapter, b, training); // [N,V]
  const seq = tf.sum(tf.reshape(maskedTokenLogProbs(logits, b), [b.batch, b.seqLen]), 1) as tf.Tensor1D; // [rows]
  const [chosen, rejected] = splitPairs(seq, b.pairs);
  const chosenRatio = tf.sub(chosen, tf.tensor1d(b.refChosen)); // [P]
  const rejectedRatio = tf.sub(rejected, tf.tensor1d(b.refRejected));
  const h = tf.sub(chosenRatio, rejectedRatio) as tf.Tensor1D;
  const avgH = (): tf.Tensor1D => {
    const [nChosen, nRejected] = splitPairs(tf.maximum(tf.tensor1d(rowWeightSums(b)), 1) as tf.Tensor1D, b.pairs);
    return tf.sub(tf.div(chosenRatio, nChosen), tf.div(rejectedRatio, nRejected)) as tf.Tensor1D;
  };
  const loss = tf.mean(dpoPerPair(kind, h, avgH, beta, smoothing)) as tf.Scalar;
  // Metrics only: the gradient is taken of `loss` alone.
  const rewardChosen = tf.mul(chosenRatio, beta); // [P]
  const rewardRejected = tf.mul(rejectedRatio, beta);
  const weights = tf.tensor1d(b.weights, 'float32'); // [N]
  const [logitSumChosen, logitSumRejected] = splitPairs(tf.sum(tf.reshape(tf.mul(tf.mean(logits, 1), weights), [b.batch, b.seqLen]), 1) as tf.Tensor1D, b.pairs);
  const [tokensChosen, tokensRejected] = splitPairs(tf.tensor1d(rowWeightSums(b)), b.pairs);
  const metrics: Record<string, tf.Scalar> = {
    'rewards/chosen': tf.mean(rewardChosen) as tf.Scalar,
    'rewards/rejected': tf.mean(rewardRejected) as tf.Scalar,
    'rewards/accuracies': tf.mean(tf.cast(tf.greater(rewardChosen, rewardRejected), 'float32')) as tf.Scalar,
    'rewards/margins': tf.mean(tf.sub(rewardChosen, rewardRejected)) as tf.Scalar,
    'logps/chosen': tf.mean(chosen) as tf.Scalar,
    'logps/rejected': tf.mean(rejected) as tf.Scalar,
    'logits/chosen': tf.div(tf.sum(logitSumChosen), tf.maximum(tf.sum(tokensChosen), 1)) as tf.Scalar,
    'logits/rejected': tf.div(tf.sum(logitSumRejected), tf.maximum(tf.sum(tokensRejected), 1)) as tf.Scalar,
  };
  return { loss, metrics };
}

export const objectives: Record<'sft' | 'dpo', Objective> = { sft: sftObjective, dpo: dpoObjective };
