// The native matmul (src/engine/native.ts) against the wasm backend's own BatchMatMul, alternating in one
// process: GFLOP/s of the products a `tiny` training step runs (bench/NOTES.md, "Engine").
//   npx tsx bench/native_matmul.ts            (UNITRACE_NATIVE_BLAS=0 measures the AVX2+FMA kernel instead)
// Whole training steps: `node bin/unitrace.mjs bench ...` with and without UNITRACE_NATIVE=0 (the engine
// enables the native matmul in initBackend, in every worker).
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/engine/backend.js';
import { disableNativeMatmul, enableNativeMatmul } from '../src/engine/native.js';

// [label, a shape, b shape, transposeA, transposeB]
const PRODUCTS: [string, number[], number[], boolean, boolean][] = [
  ['x[2048,128] @ w[512,128]^T (transposeB)', [2048, 128], [512, 128], false, true],
  ['x[2048,128] @ wT[128,512]', [2048, 128], [128, 512], false, false],
  ['g[2048,512] @ w[512,128]', [2048, 512], [512, 128], false, false],
  ['g[2048,512]^T @ x[2048,128] (transposeA)', [2048, 512], [2048, 128], true, false],
  ['lm_head x[2048,128] @ E[8192,128]^T', [2048, 128], [8192, 128], false, true],
  ['dlogits[2048,8192] @ E[8192,128]', [2048, 8192], [8192, 128], false, false],
  ['batched [32,256,32] @ [32,256,32]^T', [32, 256, 32], [32, 256, 32], false, true],
];

/** Median milliseconds of one product over ~0.4 s of repetitions (after one warm-up call). */
function timeProduct(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): number {
  // Kernels run eagerly on the wasm backend; reading the result back (dataSync) would add a copy of it.
  const run = (): void => tf.matMul(a, b, ta, tb).dispose();
  run();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start < 400 && times.length < 50)) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)]!;
}

async function main(): Promise<void> {
  await initBackend('wasm');
  const status = enableNativeMatmul();
  console.log(`native matmul: ${status.enabled ? 'on' : 'off'}, ${status.path}; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  if (!status.enabled) return;

  console.log('| product | wasm ms | wasm GFLOP/s | native ms | native GFLOP/s | speed-up |\n| --- | --- | --- | --- | --- | --- |');
  for (const [label, sa, sb, ta, tb] of PRODUCTS) {
    const a = tf.randomNormal(sa);
    const b = tf.randomNormal(sb);
    const rank = sa.length;
    const m = ta ? sa[rank - 1]! : sa[rank - 2]!;
    const k = ta ? sa[rank - 2]! : sa[rank - 1]!;
    const n = tb ? sb[sb.length - 2]! : sb[sb.length - 1]!;
    const flops = 2 * m * n * k * sa.slice(0, -2).reduce((x, y) => x * y, 1);
    disableNativeMatmul();
    const wasmMs = timeProduct(a, b, ta, tb);
    enableNativeMatmul();
    const nativeMs = timeProduct(a, b, ta, tb);
    const g = (ms: number): string => (flops / ms / 1e6).toFixed(1);
    console.log(`| ${label} | ${wasmMs.toFixed(1)} | ${g(wasmMs)} | ${nativeMs.toFixed(1)} | ${g(nativeMs)} | ${(wasmMs / nativeMs).toFixed(1)}x |`);
    tf.dispose([a, b]);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
