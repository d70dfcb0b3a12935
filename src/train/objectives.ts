// Training objectives as pure functions of (model, adapter, micro-batch). The engine's gradient computer
// differentiates `loss` with respect to the trainable parameters, in-process or in worker threads.
import * as tf from '@tensorflow/tfjs-core';
import { maskedCrossEntropy, tokenLogProbs } from '../engine/ops.js';
import type { DpoBatch, MicroBatch, ObjectiveOptions, SftBatch } from './types.js';

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

/**
 * Summed log-probs of the weighted (response) tokens per row: [rows]. No tidy here: intermediates must
 * live until the caller's gradient pass; callers outside one wrap it in tf.tidy.
 */
export function sequenceLogProbs<A>(model: LogitsModel<A>, adapter: A | null, batch: MicroBatch, training: boolean): tf.Tensor1D {
  const logits = flatLogits(model, adapter, batch, training);
  const lp = tokenLogProbs(logits, tf.tensor1d(batch.labels, 'int32')); // [N]
  const masked = tf.mul(lp, tf.tensor1d(batch.weights, 'float32'));
  return tf.sum(tf.reshape(masked, [batch.batch, batch.seqLen]), 1) as tf.Tensor1D;
}

/**
 * DPO (Rafailov et al.): with h = (log pi(y+) - log pi(y-)) - (log ref(y+) - log ref(y-)),
 * sigmoid: -log sigmoid(beta h); ipo: (h - 1/(2 beta))^2; hinge: max(0, 1 - beta h). Mean over pairs.
 */
export function dpoObjective<A>(model: LogitsModel<A>, adapter: A | null, batch: MicroBatch, training: boolean, options: ObjectiveOptions = {}): ObjectiveResult {
  if (batch.kind !== 'dpo') throw new Error(`dpo objective got a ${batch.kind} batch`);
  const b = batch as DpoBatch;
  const beta = options.beta ?? 0.1;
  const kind = options.loss ?? 'sigmoid';
  const seq = tf.reshape(sequenceLogProbs(model, adapter, b, training), [b.pairs, 2]); // [P,2]: chosen, rejected
  const [chosen, rejected] = tf.split(seq, 2, 1).map((t) => tf.reshape(t, [b.pairs])) as [tf.Tensor1D, tf.Tensor1D];
  const refChosen = tf.tensor1d(b.refChosen);
  const refRejected = tf.tensor1d(b.refRejected);
  const h = tf.sub(tf.sub(chosen, rejected), tf.sub(refChosen, refRejected)); // [P]
  let perPair: tf.Tensor;
  // -log sigmoid(z) = softplus(-z); tf.logSigmoid's custom gradient reads a disposed input.
  if (kind === 'sigmoid') perPair = tf.softplus(tf.neg(tf.mul(h, beta)));
  else if (kind === 'ipo') perPair = tf.square(tf.sub(h, 1 / (2 * beta)));
  else perPair = tf.relu(tf.sub(1, tf.mul(h, beta)));
  const loss = tf.mean(perPair) as tf.Scalar;
  // Metrics only: the gradient is taken of `loss` alone.
  const rewardChosen = tf.mul(tf.sub(chosen, refChosen), beta); // [P]
  const rewardRejected = tf.mul(tf.sub(rejected, refRejected), beta);
  const metrics: Record<string, tf.Scalar> = {
    'rewards/chosen': tf.mean(rewardChosen) as tf.Scalar,
    'rewards/rejected': tf.mean(rewardRejected) as tf.Scalar,
    'rewards/accuracies': tf.mean(tf.cast(tf.greater(rewardChosen, rewardRejected), 'float32')) as tf.Scalar,
    'rewards/margins': tf.mean(tf.sub(rewardChosen, rewardRejected)) as tf.Scalar,
    'logps/chosen': tf.mean(chosen) as tf.Scalar,
    'logps/rejected': tf.mean(rejected) as tf.Scalar,
  };
  return { loss, metrics };
}

export const objectives: Record<'sft' | 'dpo', Objective> = { sft: sftObjective, dpo: dpoObjective };
