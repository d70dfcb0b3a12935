// The native training kernels (native/train_kernels.cc) against their TypeScript twins, bit for bit, values
// and gradients through the engine ops; the seeded dropout against tf.dropout itself, native and not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend.js';
import { seededDropout } from '../../src/engine/dropout.js';
import { batchedProductsOn } from '../../src/engine/fast.js';
import { loadNativeAddon, nativeAddonProblem, nativeTrainKernels, useNativeTrainKernels, type NativeTrainKernels } from '../../src/engine/native.js';
import * as ops from '../../src/engine/ops.js';
import { randn } from '../helpers/random.js';

const skip = loadNativeAddon()?.train ? false : `native training kernels missing (${nativeAddonProblem() || 'addon predates them'})`;

/** Same float32 bits everywhere (so -0 and 0 differ, and NaN equals NaN). */
function sameBits(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== e[i]) assert.fail(`${label}[${i}]: ${actual[i]} (native) vs ${expected[i]} (TypeScript)`);
}

/** Values and gradients of a scalar function of every op with a native twin, on random inputs. */
function everyOp(): Record<string, Float32Array> {
  const [B, T, Hq, Hkv, D, H, I, V] = [2, 7, 4, 2, 6, 10, 13, 11];
  const f32 = (n: number, seed: number, scale = 1) => randn(n, seed).map((x) => x * scale);
  const x = tf.tensor2d(f32(B * T * H, 1, 3), [B * T, H]);
  const w = tf.tensor1d(f32(H, 2));
  const gate = tf.tensor2d(f32(B * T * I, 3, 12), [B * T, I]); // wide enough that sigmoid saturates
  const up = tf.tensor2d(f32(B * T * I, 4), [B * T, I]);
  const q = tf.tensor3d(f32(B * T * Hq * D, 5, 4), [B, T, Hq * D]);
  const k = tf.tensor3d(f32(B * T * Hkv * D, 6, 4), [B, T, Hkv * D]);
  const v = tf.tensor3d(f32(B * T * Hkv * D, 7), [B, T, Hkv * D]);
  const mask = tf.tensor2d(Array.from({ length: B * T }, (_, i) => (i === T + 2 ? 0 : 1)), [B, T]);
  const logits = tf.tensor2d(f32(B * T * V, 8, 30), [B * T, V]); // some probabilities far below 1e-6
  const labels = tf.tensor1d(Array.from({ length: B * T }, (_, i) => (i * 5) % V), 'int32');
  const weights = tf.tensor1d(Array.from({ length: B * T }, (_, i) => (i % 4 === 0 ? 0 : 1)));
  const positions = tf.tensor2d(Array.from({ length: B * T }, (_, i) => i % T), [B, T], 'int32');
  const { cos, sin } = ops.ropeCosSin(positions, D, 10000);
  const attn = { numHeads: Hq, numKvHeads: Hkv, headDim: D, pastLength: 0 };
  const loss = (xx: tf.Tensor, ww: tf.Tensor, g: tf.Tensor, u: tf.Tensor, qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor, lg: tf.Tensor): tf.Scalar => {
    const n = ops.rmsNorm(xx as tf.Tensor2D, ww as tf.Tensor1D, 1e-6);
    const s = ops.swiglu(g as tf.Tensor2D, u as tf.Tensor2D);
    const qr = ops.applyRope(qq as tf.Tensor3D, cos, sin, Hq, D);
    const kr = ops.applyRope(kk as tf.Tensor3D, cos, sin, Hkv, D);
    const a = ops.attention(qr, kr, vv as tf.Tensor3D, mask, attn);
    const ce = ops.maskedCrossEntropy(lg as tf.Tensor2D, labels, weights);
    return tf.addN([tf.sum(tf.mul(n, n)), tf.sum(tf.sin(s)), tf.sum(tf.mul(a, a)), ce]) as tf.Scalar;
  };
  const inputs = [x, w, gate, up, q, k, v, logits];
  const { value, grads } = tf.valueAndGrads(loss)(inputs);
  const out: Record<string, Float32Array> = { loss: value.dataSync() as Float32Array };
  const names = ['x', 'w', 'gate', 'up', 'q', 'k', 'v', 'logits'];
  grads.forEach((g, i) => (out[`d${names[i]}`] = g.dataSync() as Float32Array));
  // Without a gradient tape the ops run their kernels alone.
  tf.tidy(() => {
    out.rmsNorm = ops.rmsNorm(x, w, 1e-6).dataSync() as Float32Array;
    out.swiglu = ops.swiglu(gate, up).dataSync() as Float32Array;
    out.rope = ops.applyRope(q, cos, sin, Hq, D).dataSync() as Float32Array;
    out.attention = ops.attention(q, k, v, mask, attn).dataSync() as Float32Array;
  });
  tf.dispose([...inputs, mask, labels, weights, positions, cos, sin, value, ...grads]);
  return out;
}

test('native training kernels give the TypeScript kernels\' bits (values and gradients, wasm with batched products)', { skip }, async () => {
  await initBackend('wasm');
  assert.ok(batchedProductsOn(), 'the native matmul serves batched products, so the batched softmax kernels run');
  useNativeTrainKernels(false);
  assert.equal(nativeTrainKernels(), null);
  const before = tf.memory().numTensors;
  const want = everyOp();
  useNativeTrainKernels(true);
  assert.ok(nativeTrainKernels());
  const got = everyOp();
  for (const key of Object.keys(want)) sameBits(got[key]!, want[key]!, key);
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
});

test('native training kernels reject arrays too short for their sizes', { skip }, () => {
  const k = nativeTrainKernels() as NativeTrainKernels;
  const a = new Float32Array(8);
  assert.throws(() => k.swiglu(a, a, new Float32Array(4), a), /argument 2 has 4 elements, needs 8/);
  assert.throws(() => k.rope(a, a, a, a, 2, 8, 3, 1), /headDim must be even/);
  assert.throws(() => k.logProbGrad(a, Int32Array.of(0, 9), Float32Array.of(1, 1), a), /label 9 at row 1/);
  assert.throws(() => k.softmaxGradBatched(a, a, a, 2, 2, 4, 2, 0, 1), /needs 16/);
  assert.throws(() => k.swiglu(new Float64Array(8) as unknown as Float32Array, a, a, a), /Float32Array/);
});

for (const native of [true, false])
  test(`seeded dropout equals tf.dropout for the same seed (mask and gradient), native=${native}`, { skip: native ? skip : false }, async () => {
    await initBackend('wasm');
    useNativeTrainKernels(native);
    for (const [rate, seed, shape] of [[0.1, 42, [37, 19]], [0.5, 7919 * 3 + 2, [5, 64]], [0.9, 0, [1, 1000]]] as const) {
      const x = tf.tensor2d(randn(shape[0] * shape[1], seed + 1), [...shape]);
      const dy = tf.tensor2d(randn(shape[0] * shape[1], seed + 2), [...shape]);
      const run = (f: (t: tf.Tensor2D) => tf.Tensor2D) => {
        const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => f(t as tf.Tensor2D))(x, dy);
        const out = [value.dataSync() as Float32Array, grad.dataSync() as Float32Array];
        tf.dispose([value, grad]);
        return out;
      };
      const [wantY, wantDx] = run((t) => tf.dropout(t, rate, undefined, seed) as tf.Tensor2D);
      const [gotY, gotDx] = run((t) => seededDropout(t, rate, seed));
      sameBits(gotY!, wantY!, `dropout rate ${rate} seed ${seed}`);
      sameBits(gotDx!, wantDx!, `dropout gradient rate ${rate} seed ${seed}`);
      const kept = Array.from(gotY!).filter((y, i) => y !== 0 || x.dataSync()[i] === 0).length / gotY!.length;
      assert.ok(Math.abs(kept - (1 - rate)) < 0.12, `kept ${kept} for rate ${rate}`);
      tf.dispose([x, dy]);
    }
    useNativeTrainKernels(true);
  });
