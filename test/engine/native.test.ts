// The optional native matmul (native/matmul.cc through src/engine/native.ts): every implementation the
// addon has against a float64 loop, the wasm backend's BatchMatMul with the native override against the
// wasm backend's own kernel and the cpu backend (values and gradients), and the fallbacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend.js';
import { disableNativeMatmul, enableNativeMatmul, loadNativeAddon, nativeAddonProblem, type NativeAddon } from '../../src/engine/native.js';
import { compare } from '../helpers/compare.js';
import { randn } from '../helpers/random.js';

const addon = loadNativeAddon();
const skip = addon ? false : `native addon ${nativeAddonProblem()}`;

/** Relative comparison: max |actual - expected| <= tol * max |expected|. */
function compareRel(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string): void {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  compare(actual, expected, tol * Math.max(scale, 1e-30), label);
}

/** op(a) @ op(b) in float64 over row-major arrays; op(a) [m,k], op(b) [k,n]. */
function reference(a: Float32Array, b: Float32Array, m: number, n: number, k: number, ta: boolean, tb: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      const aip = ta ? a[p * m + i]! : a[i * k + p]!;
      for (let j = 0; j < n; j++) c[i * n + j]! += aip * (tb ? b[j * k + p]! : b[p * n + j]!);
    }
  return c;
}

// Shapes around the AVX2 kernel's tile (6x16) and block (k 256, m 120) edges.
const SHAPES: [number, number, number][] = [[1, 1, 1], [7, 5, 3], [6, 16, 256], [13, 37, 300], [121, 33, 257], [2, 200, 40]];

test('every native sgemm implementation matches a float64 loop (transposes included)', { skip }, () => {
  const native = addon as NativeAddon;
  const { available } = native.info();
  assert.ok(available.includes('generic'), `available: ${available.join(', ')}`);
  for (const [m, n, k] of SHAPES)
    for (const ta of [false, true])
      for (const tb of [false, true]) {
        const a = randn(m * k, m + 31 * k);
        const b = randn(k * n, n + 17 * k);
        const want = reference(a, b, m, n, k, ta, tb);
        for (const impl of available) {
          const c = new Float32Array(m * n).fill(Number.NaN);
          native.sgemm(a, b, c, m, n, k, ta, tb, impl);
          compareRel(c, want, 1e-4, `${impl} m=${m} n=${n} k=${k} transA=${ta} transB=${tb}`);
        }
      }
});

test('native sgemm rejects wrong arguments instead of reading out of bounds', { skip }, () => {
  const native = addon as NativeAddon;
  const a = new Float32Array(6);
  assert.throws(() => native.sgemm(a, new Float32Array(6), new Float32Array(3), 2, 2, 3, false, false), /too short/);
  assert.throws(() => native.sgemm(new Float64Array(6) as unknown as Float32Array, a, new Float32Array(4), 2, 2, 3, false, false), /Float32Array/);
  assert.throws(() => native.sgemm(a, a, new Float32Array(4), 2, 2, 3, false, false, 'nope' as 'generic'), /unknown implementation/);
});

/** Counts the addon's sgemm calls, to tell the native path from a silent fallback. */
function countCalls(native: NativeAddon): { count: number; restore(): void } {
  const orig = native.sgemm;
  const counter = {
    count: 0,
    restore: () => {
      native.sgemm = orig;
    },
  };
  native.sgemm = (...args) => {
    counter.count++;
    orig(...args);
  };
  return counter;
}

async function onBackend(name: 'wasm' | 'cpu', f: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(name);
  const t = tf.tidy(f);
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

// [a shape, b shape, transposeA, transposeB, runs natively]
const CASES: [number[], number[], boolean, boolean, boolean][] = [
  [[64, 48], [48, 40], false, false, true],
  [[48, 64], [48, 40], true, false, true],
  [[64, 48], [40, 48], false, true, true],
  [[48, 64], [40, 48], true, true, true],
  [[3, 20, 24], [3, 24, 18], false, false, true], // batch 3
  [[3, 24, 20], [3, 18, 24], true, true, true],
  [[2, 2, 9, 7], [2, 2, 7, 5], false, false, true], // rank 4
  [[4, 20, 24], [24, 18], false, false, true], // b shared by every batch entry
  [[20, 24], [4, 18, 24], false, true, true],
  [[2, 1, 9, 7], [1, 3, 7, 5], false, false, false], // general broadcasting: the wasm kernel
];

test('wasm matMul with the native override equals the wasm kernel and the cpu backend', { skip }, async () => {
  await initBackend('wasm');
  const native = addon as NativeAddon;
  for (const [sa, sb, ta, tb, nativePath] of CASES) {
    const a = randn(sa.reduce((x, y) => x * y, 1), sa.length * 101 + sa[0]!);
    const b = randn(sb.reduce((x, y) => x * y, 1), sb.length * 103 + sb[0]!);
    const f = (): tf.Tensor => tf.matMul(tf.tensor(a, sa), tf.tensor(b, sb), ta, tb);
    const label = `${JSON.stringify(sa)} x ${JSON.stringify(sb)} transposeA=${ta} transposeB=${tb}`;
    disableNativeMatmul();
    const wasmOwn = await onBackend('wasm', f);
    const cpu = await onBackend('cpu', f);
    assert.equal(enableNativeMatmul().enabled, true);
    const calls = countCalls(native);
    try {
      const withNative = await onBackend('wasm', f);
      assert.equal(calls.count > 0, nativePath, `${label}: native calls ${calls.count}`);
      compareRel(withNative, cpu, 1e-4, `${label} native vs cpu`);
      compareRel(withNative, wasmOwn, 1e-4, `${label} native vs wasm`);
    } finally {
      calls.restore();
    }
  }
  await tf.setBackend('wasm');
});

test('gradients of a linear layer are the same with and without the native matmul', { skip }, async () => {
  await initBackend('wasm');
  const [n, din, dout] = [12, 20, 9];
  const x = randn(n * din, 5);
  const w = randn(dout * din, 6);
  const b = randn(dout, 7);
  const grads = (): Float32Array[] => {
    const g = tf.grads((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) => tf.sum(tf.square(tf.add(tf.matMul(xs, ws, false, true), bs))));
    const out = g([tf.tensor2d(x, [n, din]), tf.tensor2d(w, [dout, din]), tf.tensor1d(b)]);
    const data = out.map((t) => t.dataSync() as Float32Array);
    tf.dispose(out);
    return data;
  };
  disableNativeMatmul();
  const own = tf.tidy(grads);
  assert.equal(enableNativeMatmul().enabled, true);
  const calls = countCalls(addon as NativeAddon);
  try {
    const nat = tf.tidy(grads);
    assert.ok(calls.count >= 3, `forward, dx and dw run natively (${calls.count} calls)`);
    ['dx', 'dw', 'db'].forEach((name, i) => compareRel(nat[i]!, own[i]!, 1e-4, `linear ${name}`));
  } finally {
    calls.restore();
  }
});

test('without the addon the wasm kernel stays', { skip: addon ? 'the addon is built' : false }, async () => {
  await initBackend('wasm');
  const status = enableNativeMatmul();
  assert.equal(status.enabled, false);
  assert.match(status.path, /^off \(addon /);
  const y = tf.tidy(() => tf.matMul(tf.ones([4, 3]), tf.ones([3, 2])));
  compare(await y.data(), [3, 3, 3, 3, 3, 3, 3, 3], 0, 'ones product');
  y.dispose();
});

test('UNITRACE_NATIVE=0 keeps the wasm kernel', { skip }, async () => {
  await initBackend('wasm');
  const calls = countCalls(addon as NativeAddon);
  const saved = process.env.UNITRACE_NATIVE;
  process.env.UNITRACE_NATIVE = '0';
  try {
    const status = enableNativeMatmul();
    assert.deepEqual(status, { enabled: false, path: 'off (UNITRACE_NATIVE=0)' });
    const y = tf.tidy(() => tf.matMul(tf.ones([4, 3]), tf.ones([3, 2])));
    compare(await y.data(), [3, 3, 3, 3, 3, 3, 3, 3], 0, 'ones product');
    y.dispose();
    assert.equal(calls.count, 0, 'the addon was called although disabled');
  } finally {
    if (saved === undefined) delete process.env.UNITRACE_NATIVE;
    else process.env.UNITRACE_NATIVE = saved;
    calls.restore();
  }
  assert.equal(enableNativeMatmul().enabled, true);
  disableNativeMatmul();
});
