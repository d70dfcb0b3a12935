// Optional native matrix products for the wasm backend. The wasm backend's BatchMatMul (what tf.matMul
// runs) reaches ~30 GFLOP/s per core through XNNPACK on wasm SIMD and ~2.5 GFLOP/s with a transposed or
// batched operand (bench/NOTES.md); the addon built from native/matmul.cc (scripts/build-native.mjs, run by
// `npm ci`) runs them with OpenBLAS or an AVX2+FMA kernel on Float32Array views of the wasm heap, no copies.
// When the addon is missing, UNITRACE_NATIVE=0, or the addon has only its slow generic loop, the wasm
// backend keeps its own kernel. Kernels are per thread: each worker thread calls enableNativeMatmul itself.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm'; // registers the wasm kernels this file overrides
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fromRoot } from '../util/paths.js';

export type NativeImpl = 'openblas' | 'avx2-fma' | 'generic';

export interface NativeInfo {
  /** The implementation sgemm uses when none is named. */
  path: NativeImpl;
  /** The BLAS library dlopen found ('' when none). */
  library: string;
  /** OpenBLAS's kernel family for this CPU ('' when none). */
  core: string;
  available: NativeImpl[];
}

export interface NativeAddon {
  /** c[m,n] = op(a) @ op(b) with op(a) [m,k], op(b) [k,n]; a transposed operand is stored [k,m] / [n,k]. */
  sgemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, transA: boolean, transB: boolean, impl?: NativeImpl): void;
  info(): NativeInfo;
  // The decoder of native/decode.cc (used through src/model/decoder.ts). Handles are opaque.
  decoderCreate(dims: Int32Array, eps: number, theta: number): NativeHandle;
  /** A matrix as bfloat16 bits (Uint16Array) or Float32Array; norms and biases as Float32Array. */
  decoderSet(dec: NativeHandle, part: DecoderPart, layer: number, data: Uint16Array | Float32Array): void;
  decoderInfo(dec: NativeHandle): NativeDecoderInfo;
  decoderForward(dec: NativeHandle, cache: NativeHandle, slots: Int32Array, counts: Int32Array, tokens: Int32Array, mode: 'argmax' | 'last' | 'all', out: Int32Array | Float32Array): void;
  decoderReadSeconds(dec: NativeHandle): number;
  decoderDispose(dec: NativeHandle): void;
  cacheCreate(dec: NativeHandle, slots: number): NativeHandle;
  cacheReset(cache: NativeHandle, slot: number): void;
  cacheDispose(cache: NativeHandle): void;
  /** The training step's elementwise kernels (native/train_kernels.cc); absent from addons built before them. */
  train?: NativeTrainKernels;
}

/**
 * Bit-identical twins of the TypeScript kernels in ./fast.ts, ./attention.ts and ./dropout.ts, used through
 * nativeTrainKernels(). Sizes come from the arrays where they can; the addon checks every length.
 */
export interface NativeTrainKernels {
  swiglu(gate: Float32Array, up: Float32Array, out: Float32Array, sig: Float32Array): void;
  swigluGrad(gate: Float32Array, up: Float32Array, sig: Float32Array, dy: Float32Array, dgate: Float32Array, dup: Float32Array): void;
  rmsNorm(x: Float32Array, w: Float32Array, out: Float32Array, rinv: Float32Array, eps: number): void;
  rmsNormGrad(x: Float32Array, w: Float32Array, rinv: Float32Array, dy: Float32Array, dx: Float32Array, dw: Float32Array): void;
  rope(x: Float32Array, cos: Float32Array, sin: Float32Array, out: Float32Array, positions: number, width: number, headDim: number, sign: number): void;
  maskedSoftmaxBatched(scores: Float32Array, keyMask: Float32Array, out: Float32Array, blocks: number, rows: number, s: number, t: number, pastLength: number, scale: number, numKvHeads: number): void;
  softmaxGradBatched(probs: Float32Array, dprobs: Float32Array, out: Float32Array, blocks: number, rows: number, s: number, t: number, pastLength: number, scale: number): void;
  logProbGrad(probs: Float32Array, labels: Int32Array, dy: Float32Array, out: Float32Array): void;
  /** tf.dropout's multiplier floor(u + keep) / keep, u from seedrandom's alea stream in state (c, s0, s1, s2). */
  dropoutMask(out: Float32Array, c: number, s0: number, s1: number, s2: number, keepProb: number): void;
}

declare const nativeHandle: unique symbol;
export type NativeHandle = { readonly [nativeHandle]: true };
export type DecoderPart = 'embed' | 'lmHead' | 'norm' | 'inputNorm' | 'postNorm' | 'qkv' | 'qkvBias' | 'o' | 'gateUp' | 'down';

export interface NativeDecoderInfo {
  /** Bytes one decode step reads (layer matrices, lm_head, norms, biases). */
  weightBytes: number;
  /** Of those, bytes stored as bfloat16. */
  bf16Bytes: number;
  /** The first weight not set yet ('' when complete). */
  missing: string;
  /** Instruction set of the decoding kernels: avx512, avx2-fma or generic. */
  kernel: string;
  threads: number;
}

/** The addon when it has the decoder (an addon built before it existed has not), else null. */
export function loadNativeDecoder(): NativeAddon | null {
  const a = loadNativeAddon();
  if (a && typeof a.decoderCreate !== 'function') {
    addonProblem = `${NATIVE_ADDON_FILE} predates the native decoder (rebuild: node scripts/build-native.mjs)`;
    return null;
  }
  return a;
}

export const NATIVE_ADDON_FILE = fromRoot('native', 'build', 'unitrace_native.node');

let addon: NativeAddon | null | undefined;
let addonProblem = '';

/** The addon, or null (with nativeAddonProblem() saying why) when it is not built or does not load. */
export function loadNativeAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (!existsSync(NATIVE_ADDON_FILE)) {
    addonProblem = `not built (${NATIVE_ADDON_FILE} missing; run node scripts/build-native.mjs)`;
  } else {
    try {
      addon = createRequire(fromRoot('package.json'))(NATIVE_ADDON_FILE) as NativeAddon;
    } catch (e) {
      addonProblem = `${NATIVE_ADDON_FILE} does not load: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  return addon;
}

export const nativeAddonProblem = (): string => addonProblem;

let trainKernelsOn = process.env.UNITRACE_NATIVE !== '0' && process.env.UNITRACE_NATIVE_KERNELS !== '0';

/**
 * The native training kernels, or null: addon missing or older than them, UNITRACE_NATIVE=0 or
 * UNITRACE_NATIVE_KERNELS=0. Either way the values are the same; the TypeScript loops are slower.
 */
export function nativeTrainKernels(): NativeTrainKernels | null {
  return trainKernelsOn ? (loadNativeAddon()?.train ?? null) : null;
}

/** Switches the native training kernels on or off in this thread (tests compare the two). */
export function useNativeTrainKernels(on: boolean): void {
  trainKernelsOn = on;
}

interface WasmBackend {
  dataIdMap: { get(id: unknown): { memoryOffset: number } };
  wasm: { HEAPU8: Uint8Array };
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
}

const size = (shape: number[]): number => shape.reduce((x, y) => x * y, 1);

/**
 * BatchMatMul over the wasm heap. Handles float32 with equal batches or one operand shared by every batch
 * entry (rank >= 2 both); anything else (other dtypes, general broadcasting, empty tensors) goes to `orig`.
 */
function nativeBatchMatMul(orig: tf.KernelFunc, native: NativeAddon): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const ra = a.shape.length;
    const rb = b.shape.length;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || ra < 2 || rb < 2) return orig(args);
    const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
    const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
    const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
    const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
    if (k !== kb || m * n * k === 0) return orig(args); // the original reports the shape error / handles empties
    const outerA = a.shape.slice(0, -2);
    const outerB = b.shape.slice(0, -2);
    const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
    const batch = size(outer);
    const batchA = size(outerA);
    const batchB = size(outerB);
    // An operand whose batch size equals the output's has the output's batch shape (broadcasting only adds
    // ones), so entry i pairs with entry i; a batch of 1 is shared. Other broadcasts: the original kernel.
    if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return orig(args);
    const be = args.backend as unknown as WasmBackend;
    const out = be.makeOutput([...outer, m, n], 'float32');
    // After the allocation: growing the wasm memory detaches earlier views of it.
    const heap = be.wasm.HEAPU8.buffer as ArrayBuffer;
    const av = new Float32Array(heap, be.dataIdMap.get(a.dataId).memoryOffset, batchA * m * k); // [batchA, m, k] or [batchA, k, m]
    const bv = new Float32Array(heap, be.dataIdMap.get(b.dataId).memoryOffset, batchB * k * n); // [batchB, k, n] or [batchB, n, k]
    const cv = new Float32Array(heap, be.dataIdMap.get(out.dataId).memoryOffset, batch * m * n); // [batch, m, n]
    if (batch === 1) {
      native.sgemm(av, bv, cv, m, n, k, transposeA, transposeB);
    } else {
      for (let i = 0; i < batch; i++) {
        const ai = batchA === 1 ? av : av.subarray(i * m * k, (i + 1) * m * k);
        const bi = batchB === 1 ? bv : bv.subarray(i * k * n, (i + 1) * k * n);
        native.sgemm(ai, bi, cv.subarray(i * m * n, (i + 1) * m * n), m, n, k, transposeA, transposeB);
      }
    }
    return out;
  };
}

export interface NativeMatmulStatus {
  enabled: boolean;
  /** The implementation in use ('openblas', 'avx2-fma'), or why the wasm kernel stays. */
  path: string;
}

const BATCH_MATMUL = 'BatchMatMul';
let original: tf.KernelConfig | null = null; // the wasm backend's own kernel while ours is registered
let status: NativeMatmulStatus | null = null;

/**
 * Routes the wasm backend's BatchMatMul through the native addon when it is built and fast (OpenBLAS or
 * AVX2+FMA). Idempotent; safe before or after the wasm backend is initialised (the original kernel's
 * setup function is kept). Call it in every thread that runs a wasm backend.
 */
export function enableNativeMatmul(): NativeMatmulStatus {
  if (process.env.UNITRACE_NATIVE === '0') {
    disableNativeMatmul();
    return { enabled: false, path: 'off (UNITRACE_NATIVE=0)' };
  }
  if (status) return status;
  const native = loadNativeAddon();
  if (!native) return { enabled: false, path: `off (addon ${addonProblem})` };
  const info = native.info();
  // The generic loop (~7 GFLOP/s) is slower than XNNPACK on wasm SIMD (~30): keep the wasm kernel then.
  if (info.path === 'generic') return { enabled: false, path: 'off (no BLAS and no AVX2+FMA: the wasm kernel is faster)' };
  const wasmKernel = tf.getKernel(BATCH_MATMUL, 'wasm');
  if (!wasmKernel) return { enabled: false, path: 'off (no wasm BatchMatMul kernel registered)' };
  original = wasmKernel;
  tf.unregisterKernel(BATCH_MATMUL, 'wasm');
  tf.registerKernel({ ...wasmKernel, kernelFunc: nativeBatchMatMul(wasmKernel.kernelFunc, native) });
  status = { enabled: true, path: info.core ? `${info.path} (${info.core})` : info.path };
  return status;
}

/**
 * Puts the wasm backend's own BatchMatMul back (tests, benchmarks, and UNITRACE_NATIVE=0 after an enable).
 * The fast ops keep the product layout initBackend chose (src/engine/fast.ts, useBatchedProducts): values
 * stay right, but batched and transposed products then run wasm's slow loop.
 */
export function disableNativeMatmul(): void {
  if (!original) return;
  tf.unregisterKernel(BATCH_MATMUL, 'wasm');
  tf.registerKernel(original);
  original = null;
  status = null;
}
