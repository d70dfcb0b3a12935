import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend.js';
import { dpoObjective, sftObjective, type LogitsModel } from '../../src/train/objectives.js';
import type { DpoBatch, SftBatch } from '../../src/train/types.js';
import { readFileSync } from 'node:fs';
import { fromRoot } from '../../src/util/paths.js';
import { compare } from '../helpers/compare.js';

before(async () => {
  await initBackend('cpu');
});

const V = 5;
/** A "model" whose logits are a fixed table [B,T,V] (inputs ignored), as a variable to differentiate. */
function fixedModel(values: number[][][]): LogitsModel<null> & { table: tf.Variable } {
  const table = tf.variable(tf.tensor3d(values));
  return { table, forward: () => table.clone() };
}
const logSoftmax = (row: number[], k: number) => row[k]! - Math.log(row.reduce((s, x) => s + Math.exp(x), 0));
const rowsOf = (b: number, t: number, seed: number) => Array.from({ length: b }, (_, i) => Array.from({ length: t }, (_, j) => Array.from({ length: V }, (_, v) => Math.sin(seed + 3 * i + 5 * j + 7 * v))));

test('sft: masked mean NLL over weighted tokens, and mean token accuracy', () => {
  const logits = rowsOf(2, 3, 1);
  const batch: SftBatch = {
    kind: 'sft',
    inputIds: new Int32Array(6),
    labels: Int32Array.of(1, 2, 0, 4, 3, 0),
    weights: Float32Array.of(0, 1, 1, 1, 0, 0),
    rowLengths: Int32Array.of(3, 2),
    batch: 2,
    seqLen: 3,
    tokens: 5,
    seed: 0,
  };
  const m = fixedModel(logits);
  const { loss, metrics } = sftObjective(m, null, batch, true);
  const picked = [[0, 1, 2], [0, 2, 0], [1, 0, 4]] as const;
  const expected = -picked.reduce((s, [r, t, k]) => s + logSoftmax(logits[r]![t]!, k), 0) / 3;
  compare(loss.dataSync(), [expected], 1e-5, 'loss');
  const argmax = (row: number[]) => row.indexOf(Math.max(...row));
  const hits = picked.filter(([r, t, k]) => argmax(logits[r]![t]!) === k).length;
  compare(metrics.mean_token_accuracy!.dataSync(), [hits / 3], 1e-6, 'accuracy');
});

function dpoBatch(): DpoBatch {
  // 2 pairs -> 4 rows (chosen, rejected, chosen, rejected) of 2 positions; response = position 1 only.
  return {
    kind: 'dpo',
    inputIds: new Int32Array(8),
    labels: Int32Array.of(0, 1, 0, 2, 0, 3, 0, 4),
    weights: Float32Array.of(0, 1, 0, 1, 1, 1, 0, 1),
    rowLengths: Int32Array.of(2, 2, 2, 2),
    batch: 4,
    seqLen: 2,
    tokens: 8,
    seed: 0,
    pairs: 2,
    refChosen: Float32Array.of(-1.5, -3),
    refRejected: Float32Array.of(-1.2, -2),
  };
}

test('dpo: sigmoid, ipo and hinge losses and TRL metrics match a hand computation', () => {
  const logits = rowsOf(4, 2, 2);
  const b = dpoBatch();
  const seq = [0, 1, 2, 3].map((r) => [0, 1].reduce((s, t) => s + b.weights[r * 2 + t]! * logSoftmax(logits[r]![t]!, b.labels[r * 2 + t]!), 0));
  const beta = 0.3;
  const h = [0, 1].map((p) => seq[2 * p]! - seq[2 * p + 1]! - (b.refChosen[p]! - b.refRejected[p]!));
  const losses = {
    sigmoid: h.map((x) => Math.log(1 + Math.exp(-beta * x))),
    // TRL divides each log-ratio by its completion length: rows hold 1, 1, 2 and 1 response tokens.
    ipo: [0, 1].map((p) => {
      const n = (r: number) => b.weights[r * 2]! + b.weights[r * 2 + 1]!;
      const avg = (seq[2 * p]! - b.refChosen[p]!) / n(2 * p) - (seq[2 * p + 1]! - b.refRejected[p]!) / n(2 * p + 1);
      return (avg - 1 / (2 * beta)) ** 2;
    }),
    hinge: h.map((x) => Math.max(0, 1 - beta * x)),
  };
  for (const kind of ['sigmoid', 'ipo', 'hinge'] as const) {
    const { loss, metrics } = dpoObjective(fixedModel(logits), null, b, true, { beta, loss: kind });
    compare(loss.dataSync(), [(losses[kind][0]! + losses[kind][1]!) / 2], 1e-5, kind);
    const rc = [0, 1].map((p) => beta * (seq[2 * p]! - b.refChosen[p]!));
    const rr = [0, 1].map((p) => beta * (seq[2 * p + 1]! - b.refRejected[p]!));
    compare(metrics['rewards/chosen']!.dataSync(), [(rc[0]! + rc[1]!) / 2], 1e-5);
    compare(metrics['rewards/rejected']!.dataSync(), [(rr[0]! + rr[1]!) / 2], 1e-5);
    compare(metrics['rewards/margins']!.dataSync(), [(rc[0]! - rr[0]! + rc[1]! - rr[1]!) / 2], 1e-5);
    compare(metrics['rewards/accuracies']!.dataSync(), [((rc[0]! > rr[0]! ? 1 : 0) + (rc[1]! > rr[1]! ? 1 : 0)) / 2], 0);
    compare(metrics['logps/chosen']!.dataSync(), [(seq[0]! + seq[2]!) / 2], 1e-5);
    compare(metrics['logps/rejected']!.dataSync(), [(seq[1]! + seq[3]!) / 2], 1e-5);
  }
});

test('dpo: the gradient raises chosen and lowers rejected log-probs', () => {
  const m = fixedModel(rowsOf(4, 2, 3));
  const b = dpoBatch();
  const { grads } = tf.variableGrads(() => dpoObjective(m, null, b, true, { beta: 0.1, loss: 'sigmoid' }).loss, [m.table]);
  const g = grads[m.table.name]!.arraySync() as number[][][];
  // Descending the loss moves the logit of each response label up for chosen rows, down for rejected.
  assert.ok(g[0]![1]![1]! < 0, 'chosen label logit should increase');
  assert.ok(g[1]![1]![2]! > 0, 'rejected label logit should decrease');
  assert.equal(g[1]![0]![0], 0, 'prompt positions get no gradient');
});

interface TrlGolden {
  pairs: number;
  seqLen: number;
  vocab: number;
  logits: number[];
  inputIds: number[];
  completionMask: number[];
  refChosen: number[];
  refRejected: number[];
  cases: { loss: 'sigmoid' | 'ipo' | 'hinge' | 'robust'; beta: number; labelSmoothing: number; expected: number; metrics: Record<string, number>; by: string }[];
}

// Goldens from TRL's DPOTrainer._compute_loss (scripts/golden_trl_dpo.py): TRL's rows are [chosen..., rejected...]
// over the full sequence; unitrace's are interleaved pairs over the shifted one (labels = next token).
test('dpo: losses, rewards/*, logps/* and logits/* equal TRL on the same logits', () => {
  const g = JSON.parse(readFileSync(fromRoot('test', 'train', 'golden', 'trl-dpo.json'), 'utf8')) as TrlGolden;
  const T = g.seqLen - 1;
  const rows = 2 * g.pairs;
  const trlRow = (r: number) => (r % 2 === 0 ? r / 2 : g.pairs + (r - 1) / 2);
  const table: number[][][] = [];
  const labels = new Int32Array(rows * T);
  const weights = new Float32Array(rows * T);
  for (let r = 0; r < rows; r++) {
    const src = trlRow(r);
    table.push(Array.from({ length: T }, (_, t) => g.logits.slice((src * g.seqLen + t) * g.vocab, (src * g.seqLen + t + 1) * g.vocab)));
    for (let t = 0; t < T; t++) {
      labels[r * T + t] = g.inputIds[src * g.seqLen + t + 1]!;
      weights[r * T + t] = g.completionMask[src * g.seqLen + t + 1]!;
    }
  }
  const batch: DpoBatch = {
    kind: 'dpo',
    inputIds: new Int32Array(rows * T),
    labels,
    weights,
    rowLengths: new Int32Array(rows).fill(T),
    batch: rows,
    seqLen: T,
    tokens: rows * T,
    seed: 0,
    pairs: g.pairs,
    refChosen: Float32Array.from(g.refChosen),
    refRejected: Float32Array.from(g.refRejected),
  };
  for (const c of g.cases) {
    const label = `${c.loss} beta ${c.beta} smoothing ${c.labelSmoothing} (${c.by})`;
    const { loss, metrics } = dpoObjective(fixedModel(table), null, batch, false, { beta: c.beta, loss: c.loss, labelSmoothing: c.labelSmoothing });
    compare(loss.dataSync(), [c.expected], 1e-4 * Math.max(1, Math.abs(c.expected)), label);
    for (const [name, want] of Object.entries(c.metrics)) compare(metrics[name]!.dataSync(), [want], 1e-4, `${label}: ${name}`);
  }
});
