// The straightforward engine ops against plain loops, and the wasm backend against the cpu backend
// (values and gradients).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend.js';
import { useBatchedProducts } from '../../src/engine/fast.js';
import * as ops from '../../src/engine/ops.js';
import { compare } from '../helpers/compare.js';
import { randn } from '../helpers/random.js';

/** Naive attention over plain arrays: q [B,T,Hq*D], k/v [B,S,Hkv*D]. */
function naiveAttention(q: Float32Array, k: Float32Array, v: Float32Array, mask: number[] | null, B: number, T: number, S: number, Hq: number, Hkv: number, D: number, past: number): number[] {
  const out = new Array(B * T * Hq * D).fill(0);
  const g = Hq / Hkv;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++)
      for (let t = 0; t < T; t++) {
        const kvh = Math.floor(h / g);
        const scores: number[] = [];
        for (let s = 0; s < S; s++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[((b * T + t) * Hq + h) * D + d]! * k[((b * S + s) * Hkv + kvh) * D + d]!;
          const allowed = s <= past + t && (!mask || mask[b * S + s] === 1);
          scores.push(allowed ? dot / Math.sqrt(D) : -Infinity);
        }
        const m = Math.max(...scores);
        const e = scores.map((x) => (x === -Infinity ? 0 : Math.exp(x - m)));
        const z = e.reduce((a, c) => a + c, 0);
        for (let s = 0; s < S; s++)
          for (let d = 0; d < D; d++) out[((b * T + t) * Hq + h) * D + d] += (e[s]! / z) * v[((b * S + s) * Hkv + kvh) * D + d]!;
      }
  return out;
}

// Shapes cover the decode kernel (T <= 4, no gradient tape) and the block path (T > 4) of the fast ops.
for (const [fastOps, batched] of [[false, false], [true, false], [true, true]] as const)
  for (const [T, S, past] of [[3, 5, 2], [1, 7, 6], [6, 6, 0]] as const)
    test(`attention matches a naive loop (GQA, causal, pastLength, key mask), fast=${fastOps} batched=${batched} T=${T} S=${S}`, async () => {
      await initBackend('wasm');
      ops.setFastOps(fastOps);
      useBatchedProducts(batched);
      const [B, Hq, Hkv, D] = [2, 4, 2, 4];
      const q = randn(B * T * Hq * D, 1);
      const k = randn(B * S * Hkv * D, 2);
      const v = randn(B * S * Hkv * D, 3);
      const mask = Array.from({ length: B * S }, (_, i) => (i === S + 1 ? 0 : 1)); // batch 1 pads its second key
      const got = tf.tidy(() =>
        ops.attention(tf.tensor3d(q, [B, T, Hq * D]), tf.tensor3d(k, [B, S, Hkv * D]), tf.tensor3d(v, [B, S, Hkv * D]), tf.tensor2d(mask, [B, S]), { numHeads: Hq, numKvHeads: Hkv, headDim: D, pastLength: past }).dataSync(),
      );
      compare(got, naiveAttention(q, k, v, mask, B, T, S, Hq, Hkv, D, past), 1e-5, 'attention');
      ops.setFastOps(null);
      useBatchedProducts(false);
    });

test('rope matches the rotate-half formula', async () => {
  await initBackend('cpu');
  const [B, T, H, D, theta] = [1, 3, 2, 4, 10000];
  const pos = [5, 6, 9];
  const x = randn(B * T * H * D, 4);
  const got = tf.tidy(() => {
    const { cos, sin } = ops.ropeCosSin(tf.tensor2d(pos, [B, T], 'int32'), D, theta);
    return ops.applyRope(tf.tensor3d(x, [B, T, H * D]), cos, sin, H, D).dataSync();
  });
  const want: number[] = [];
  for (let t = 0; t < T; t++)
    for (let h = 0; h < H; h++)
      for (let d = 0; d < D; d++) {
        const i = d % (D / 2);
        const ang = pos[t]! / Math.pow(theta, (2 * i) / D);
        const base = (t * H + h) * D;
        const rot = d < D / 2 ? -x[base + d + D / 2]! : x[base + d - D / 2]!;
        want.push(x[base + d]! * Math.cos(ang) + rot * Math.sin(ang));
      }
  compare(got, want, 1e-5, 'rope');
});

for (const fastOps of [false, true])
test(`tokenLogProbs and maskedCrossEntropy match log-softmax, gradient included, fast=${fastOps}`, async () => {
  await initBackend('cpu');
  ops.setFastOps(fastOps);
  const [N, V] = [5, 7];
  const logits = tf.tensor2d(randn(N * V, 5), [N, V]);
  const labels = tf.tensor1d([0, 6, 3, 3, 1], 'int32');
  const weights = tf.tensor1d([1, 0, 2, 1, 0.5]);
  const got = tf.tidy(() => ops.tokenLogProbs(logits, labels).dataSync());
  const oneHot = tf.oneHot(labels, V);
  const want = tf.tidy(() => tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), 1).dataSync());
  compare(got, want, 1e-5, 'logp');
  const g1 = tf.grad((x: tf.Tensor) => ops.maskedCrossEntropy(x as tf.Tensor2D, labels, weights))(logits);
  const g2 = tf.grad((x: tf.Tensor) => tf.neg(tf.sum(tf.mul(tf.sum(tf.mul(tf.logSoftmax(x), oneHot), 1), weights))))(logits);
  compare(g1.dataSync(), g2.dataSync(), 1e-5, 'grad');
  tf.dispose([logits, labels, weights, oneHot, g1, g2]);
  ops.setFastOps(null);
});

/**
 * Runs every op and its gradient on the named backend, fast paths on or off, products as 2-D blocks or
 * batched (the layout for the native matmul); returns flat results.
 */
async function allOps(backend: 'wasm' | 'cpu', fastOps: boolean, batched = false): Promise<Record<string, Float32Array>> {
  await initBackend(backend);
  ops.setFastOps(fastOps);
  useBatchedProducts(batched);
  const [B, T, Hq, Hkv, D, V, I] = [2, 4, 4, 2, 8, 11, 40];
  const H = Hq * D;
  const N = B * T;
  const res: Record<string, Float32Array> = {};
  tf.tidy(() => {
    const x = tf.tensor2d(randn(N * H, 7), [N, H]);
    const w = tf.tensor2d(randn(H * H, 8), [H, H]);
    const bias = tf.tensor1d(randn(H, 9));
    const nw = tf.tensor1d(randn(H, 10));
    const table = tf.tensor2d(randn(V * H, 11), [V, H]);
    const ids = tf.tensor1d([1, 3, 3, 0, 10, 2, 1, 1], 'int32');
    const gate = tf.tensor2d(randn(N * I, 12), [N, I]);
    const kw = tf.variable(tf.tensor2d(randn(Hkv * D * H, 14), [Hkv * D, H]), false); // frozen: no gradient wanted
    const kb = tf.variable(tf.tensor1d(randn(Hkv * D, 15)), false);
    // Row 1 pads key 2 (no query is left without a visible key: the fast path zeroes such rows).
    const mask = tf.tensor2d([1, 1, 1, 1, 1, 1, 0, 1], [B, T]);
    const labels = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 0], 'int32');
    const pos = tf.tensor2d([0, 1, 2, 3, 0, 0, 1, 2], [B, T], 'int32');
    const loss = (xx: tf.Tensor2D, ww: tf.Tensor2D, tt: tf.Tensor2D, gg: tf.Tensor2D): tf.Scalar => {
      const e = tf.add(ops.embedding(tt, ids), xx) as tf.Tensor2D;
      const h = ops.rmsNorm(e, nw, 1e-6);
      const q = ops.linear(h, ww, bias);
      const k = ops.linear(h, kw, kb);
      const { cos, sin } = ops.ropeCosSin(pos, D, 10000);
      const qr = ops.applyRope(tf.reshape(q, [B, T, H]), cos, sin, Hq, D);
      const kr = ops.applyRope(tf.reshape(k, [B, T, Hkv * D]), cos, sin, Hkv, D);
      const a = ops.attention(qr, kr, tf.reshape(k, [B, T, Hkv * D]), mask, { numHeads: Hq, numKvHeads: Hkv, headDim: D, pastLength: 0 });
      const m = ops.swiglu(gg, tf.sin(gg) as tf.Tensor2D);
      const hid = tf.add(tf.reshape(a, [N, H]), tf.slice(m, [0, 0], [N, H])) as tf.Tensor2D;
      const logits = ops.linear(hid, tt); // tied head [N,V]
      return ops.maskedCrossEntropy(logits, labels, tf.tensor1d([1, 1, 0, 1, 1, 1, 1, 0.5]));
    };
    res.loss = loss(x, w, table, gate).dataSync() as Float32Array;
    const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor, tt: tf.Tensor, gg: tf.Tensor) => loss(xx as tf.Tensor2D, ww as tf.Tensor2D, tt as tf.Tensor2D, gg as tf.Tensor2D))([x, w, table, gate]);
    ['dx', 'dw', 'dtable', 'dgate'].forEach((n, i) => (res[n] = g[i]!.dataSync() as Float32Array));
    kw.dispose();
    kb.dispose();
  });
  ops.setFastOps(null);
  return res;
}

test('fast paths on wasm and cpu give the straightforward ops\' values and gradients (embedding gradient included)', async () => {
  const want = await allOps('cpu', false);
  assert.ok(Number.isFinite(want.loss![0]!));
  for (const [backend, fastOps, batched] of [['cpu', true, false], ['wasm', false, false], ['wasm', true, false], ['wasm', true, true], ['cpu', true, true]] as const) {
    const got = await allOps(backend, fastOps, batched);
    for (const key of Object.keys(want)) compare(got[key]!, want[key]!, 1e-4, `${backend} fast=${fastOps} batched=${batched} ${key}`);
  }
  useBatchedProducts(false);
});

test('wasm kernel replacements (Slice, Unpack, ArgMax, Identity) agree with the cpu backend', async () => {
  const run = async (backend: 'cpu' | 'wasm') => {
    await initBackend(backend);
    return tf.tidy(() => {
      const x = tf.tensor4d(randn(2 * 3 * 4 * 5, 21), [2, 3, 4, 5]);
      const parts = [
        tf.slice(x, [1, 0, 1, 2], [1, 3, 2, 3]), // strided box
        tf.slice(x, [0, 1, 0, 0], [2, 2, 4, 5]), // merged inner run
        tf.slice(tf.reshape(x, [6, 20]), [2, 0], [3, 20]), // contiguous rows
        ...tf.unstack(x, 1),
        ...tf.unstack(tf.reshape(x, [6, 20]), 0),
        tf.cast(tf.argMax(tf.reshape(x, [24, 5]), 1), 'float32'),
        tf.cast(tf.argMax(x, 2), 'float32'), // not the last axis: the original kernel
        tf.clone(x),
      ];
      return parts.map((p) => Array.from(p.dataSync()));
    });
  };
  const want = await run('cpu');
  const got = await run('wasm');
  assert.equal(got.length, want.length);
  want.forEach((w, i) => compare(got[i]!, w, 0, `part ${i}`));
});
