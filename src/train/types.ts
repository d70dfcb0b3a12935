// Shapes shared by collation, objectives, the engine's gradient computer and the trainers.
// Every array is flat and row-major; [batch*seqLen] means row r, position t is at r*seqLen + t.

export interface Message {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A tokenized, right-padded batch. labels[t] is the token that follows inputIds[t]. */
export interface TokenBatch {
  inputIds: Int32Array; // [batch*seqLen]
  labels: Int32Array; // [batch*seqLen]; 0 at padding
  weights: Float32Array; // [batch*seqLen]; 1 on trained response tokens, 0 on prompt and padding
  /** Input tokens per row before right padding. */
  rowLengths: Int32Array; // [batch]
  batch: number;
  seqLen: number;
  /** Non-padding input tokens in the batch (prompt + response), for throughput figures. */
  tokens: number;
  /** Seed for dropout in this micro-batch, derived from (run seed, step, micro-batch), so a resumed run draws the same masks. */
  seed: number;
}

export interface SftBatch extends TokenBatch {
  kind: 'sft';
}

/**
 * Rows are interleaved pairs: row 2i is chosen i, row 2i+1 rejected i, so a split between workers at an
 * even row keeps pairs together. refChosen/refRejected are the reference model's summed log-probs of
 * the response tokens, precomputed once so the reference model need not stay in memory.
 */
export interface DpoBatch extends TokenBatch {
  kind: 'dpo';
  pairs: number;
  refChosen: Float32Array; // [pairs]
  refRejected: Float32Array; // [pairs]
}

export type MicroBatch = SftBatch | DpoBatch;

export type DpoLoss = 'sigmoid' | 'ipo' | 'hinge' | 'robust';

export interface ObjectiveOptions {
  /** DPO only. */
  beta?: number;
  loss?: DpoLoss;
  /** DPO only: label smoothing e (the chance a preference is flipped) for the sigmoid (cDPO) and robust losses. */
  labelSmoothing?: number;
}

/** What a micro-batch weighs when gradients of micro-batches (or worker shards) are averaged. */
export function batchWeight(batch: MicroBatch): number {
  if (batch.kind === 'dpo') return batch.pairs;
  let sum = 0;
  for (let i = 0; i < batch.weights.length; i++) sum += batch.weights[i]!;
  return sum;
}

/** Rows [from, to) of a micro-batch (for data-parallel shards); DPO bounds must be even. */
export function sliceRows<B extends MicroBatch>(batch: B, from: number, to: number): B {
  const { seqLen } = batch;
  const a = from * seqLen;
  const b = to * seqLen;
  const rowLengths = batch.rowLengths.slice(from, to);
  const tokens = rowLengths.reduce((s, n) => s + n, 0);
  const common = { inputIds: batch.inputIds.slice(a, b), rowLengths, labels: batch.labels.slice(a, b), weights: batch.weights.slice(a, b), batch: to - from, seqLen, tokens, seed: batch.seed };
  if (batch.kind === 'dpo') {
    if (from % 2 || to % 2) throw new Error(`sliceRows: DPO rows ${from}..${to} would split a pair`);
    return { ...common, kind: 'dpo', pairs: (to - from) / 2, refChosen: batch.refChosen.slice(from / 2, to / 2), refRejected: batch.refRejected.slice(from / 2, to / 2) } as B;
  }
  return { ...common, kind: 'sft' } as B;
}
