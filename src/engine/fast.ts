// Fast paths of the engine ops for the wasm (and cpu) backends. What they avoid, measured on wasm
// (bench/NOTES.md, "Engine"): matMul with a transposed operand or a batch dimension runs a naive loop
// (~2.5 GFLOP/s) while plain 2-D matMul goes through XNNPACK (~30 GFLOP/s); a dense one-hot over the
// vocabulary. So every product here is a plain 2-D matMul (unless the native matmul addon serves
// BatchMatMul), transposes are explicit copies (cached for frozen weights), and cross-entropy, RMSNorm,
// rotary and SwiGLU are fused kernels with their own gradients, in TypeScript and, bit-identical and faster,
// in the native addon (native/train_kernels.cc) where it is built. Attention: ./attention.ts.
import * as tf from '@tensorflow/tfjs-core';
import './gradients.js';
import { addEngineKernel, registerEngineKernels, type FlatKernel } from './kernels.js';
import { nativeTrainKernels } from './native.js';

// exp(v) as 2^k * e^f: k = round(v / ln 2) (float64 magic-number rounding), f = v - k ln 2 (|f| <= 0.35),
// e^f by its degree-6 Taylor polynomial: relative error ~2e-7 (float32 precision), about 2x faster than
// Math.exp in V8 here. Clamped to 2^+-250, far outside float32's range, so it never yields NaN.
const POW2 = Float64Array.from({ length: 512 }, (_, i) => Math.pow(2, i - 256));
const ROUND = 6755399441055744.0;
export function fexp(v: number): number {
  let t = v * 1.4426950408889634;
  t = t < -250 ? -250 : t > 250 ? 250 : t;
  const k = t + ROUND - ROUND;
  const f = (t - k) * 0.6931471805599453;
  const p = 1 + f * (1 + f * (0.5 + f * (0.16666666666666666 + f * (0.041666666666666664 + f * (0.008333333333333333 + f * 0.001388888888888889)))));
  return p * POW2[(k + 256) | 0]!;
}

export const gradFn = tf.customGrad as unknown as (f: (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] }) => (...args: tf.Tensor[]) => tf.Tensor;

/**
 * True while a gradient tape records (inside tf.grad / variableGrads). Without one (generation, scoring)
 * the ops skip the custom-gradient wrappers and what they save: the kernels alone run.
 */
export function taping(): boolean {
  return ((tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth ?? 1) > 0;
}

// True when the backend's BatchMatMul is fast with transposed and batched operands (the native matmul
// addon, src/engine/native.ts): then products take their operands as they are, without the explicit
// transposes and per-block 2-D products that wasm's own kernel needs. Set by initBackend; either
// setting gives the same values.
let batchedProducts = false;
export function useBatchedProducts(on: boolean): void {
  batchedProducts = on;
}
export const batchedProductsOn = (): boolean => batchedProducts;

/** A frozen parameter: a non-trainable variable (its gradient is never needed, its transpose can be cached). */
function isFrozen(t: tf.Tensor): boolean {
  return t instanceof tf.Variable && !t.trainable;
}

// Transposed copies of frozen weights, keyed by tensor; refreshed when the variable is assigned new data.
// Bounded (they double the memory of the weights, and wasm's heap is at most 4 GiB): beyond the budget a
// weight is transposed per call instead ($UNITRACE_TRANSPOSE_CACHE_MB, default 512).
const transposes = new Map<tf.Tensor, { dataId: object; t: tf.Tensor2D }>();
const cacheBudget = Number(process.env.UNITRACE_TRANSPOSE_CACHE_MB ?? 512) * 2 ** 20;
let cachedBytes = 0;

function dropEntry(src: tf.Tensor): void {
  const e = transposes.get(src);
  if (!e) return;
  cachedBytes -= e.t.size * 4;
  e.t.dispose();
  transposes.delete(src);
}

/** w^T [in,out] for a frozen w [out,in]: cached, or null when it does not fit the cache budget. */
function cachedTranspose(w: tf.Tensor2D): tf.Tensor2D | null {
  const hit = transposes.get(w);
  if (hit && hit.dataId === w.dataId) return hit.t;
  dropEntry(w);
  for (const src of [...transposes.keys()]) if (src.isDisposed) dropEntry(src);
  if (cachedBytes + w.size * 4 > cacheBudget) return null;
  const t = tf.keep(tf.transpose(w));
  transposes.set(w, { dataId: w.dataId, t });
  cachedBytes += w.size * 4;
  return t;
}

/** Frees the cached transposes of frozen weights (also done lazily once their variables are disposed). */
export function clearTransposeCache(): void {
  for (const src of [...transposes.keys()]) dropEntry(src);
}

/**
 * x [N,in] @ w[out,in]^T + b as x @ (w^T), with the gradients dx = dy @ w and dw = dy^T @ x, all plain 2-D
 * products. Frozen w/b are closed over instead of being inputs, so their gradients are never computed.
 */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  if (!taping()) {
    return tf.tidy(() => {
      const y = tf.matMul(x, (isFrozen(w) ? cachedTranspose(w) : null) ?? tf.transpose(w)); // [N,out]
      return (b ? tf.add(y, b) : y) as tf.Tensor2D;
    });
  }
  const wFrozen = isFrozen(w);
  const bTrain = b !== undefined && !isFrozen(b);
  const inputs: tf.Tensor[] = [x];
  if (!wFrozen) inputs.push(w);
  if (bTrain) inputs.push(b);
  const f = gradFn((...args) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xx = args[0] as tf.Tensor2D;
    const ww = wFrozen ? w : (args[1] as tf.Tensor2D);
    const bb = b === undefined ? undefined : bTrain ? (args[inputs.length - 1] as tf.Tensor1D) : b;
    const wt = (wFrozen ? cachedTranspose(w) : null) ?? tf.transpose(ww); // [in,out]
    const y = tf.matMul(xx, wt); // [N,out]
    save([xx, ww]);
    return {
      value: bb ? tf.add(y, bb) : y,
      gradFunc: (dy, saved) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        const grads: tf.Tensor[] = [tf.matMul(dy as tf.Tensor2D, ws)]; // dx [N,in]
        if (!wFrozen) {
          // dw [out,in] = dy^T x; on wasm's own kernel, transposing x and the result instead of dy when that
          // moves less data (wide outputs: the tied lm_head, LoRA B).
          const [n, inDim] = xs.shape;
          const outDim = dy.shape[1]!;
          if (batchedProducts) grads.push(tf.matMul(dy as tf.Tensor2D, xs, true, false));
          else if (n * inDim + outDim * inDim < n * outDim) grads.push(tf.transpose(tf.matMul(tf.transpose(xs), dy as tf.Tensor2D)));
          else grads.push(tf.matMul(tf.transpose(dy as tf.Tensor2D), xs));
        }
        if (bTrain) grads.push(tf.sum(dy, 0)); // db [out]
        return grads;
      },
    };
  });
  return f(...inputs) as tf.Tensor2D;
}

// ---- rotary embedding, RMSNorm ----------------------------------------------------------------

/**
 * Rotate-half rotary embedding of x [B,T,H*D] with cos/sin [B,T,D] in one pass; attrs.sign -1 applies the
 * inverse rotation, which is also the gradient (cos/sin repeat their halves, so sin[j] = sin[j + D/2]).
 */
const rope: FlatKernel = {
  name: 'UnitraceRope',
  inputNames: ['x', 'cos', 'sin'],
  outputs: ([x]) => [{ shape: x!, dtype: 'float32' }],
  compute([x, cos, sin], [out], attrs, [shape]) {
    const [b, t, width] = shape as [number, number, number];
    const d = attrs.headDim as number;
    const sign = attrs.sign as number;
    const native = nativeTrainKernels();
    if (native) return native.rope(x as Float32Array, cos as Float32Array, sin as Float32Array, out as Float32Array, b * t, width, d, sign);
    const half = d / 2;
    const xs = x as Float32Array;
    const o = out as Float32Array;
    const c = cos as Float32Array;
    const sn = sin as Float32Array;
    for (let bt = 0; bt < b * t; bt++) {
      const cs = bt * d;
      for (let h = 0; h < width; h += d) {
        const base = bt * width + h;
        for (let j = 0; j < half; j++) {
          const x1 = xs[base + j]!;
          const x2 = xs[base + j + half]!;
          const s1 = sign * sn[cs + j]!;
          const s2 = sign * sn[cs + j + half]!;
          o[base + j] = x1 * c[cs + j]! - x2 * s1;
          o[base + j + half] = x2 * c[cs + j + half]! + x1 * s2;
        }
      }
    }
  },
};

export function applyRope(x: tf.Tensor3D, cos: tf.Tensor3D, sin: tf.Tensor3D, numHeads: number, headDim: number): tf.Tensor3D {
  registerEngineKernels();
  if (x.shape[2] !== numHeads * headDim) throw new Error(`applyRope: x has width ${x.shape[2]}, expected ${numHeads} heads x ${headDim}`);
  if (!taping()) return tf.engine().runKernel(rope.name, { x, cos, sin }, { headDim, sign: 1 }) as tf.Tensor3D;
  // Tensors a gradient needs must be saved, not closed over: tfjs may dispose them before backprop.
  const f = gradFn((...args) => {
    (args[1] as tf.GradSaveFunc)([cos, sin]);
    return {
      value: tf.engine().runKernel(rope.name, { x: args[0] as tf.Tensor, cos, sin }, { headDim, sign: 1 }) as tf.Tensor,
      gradFunc: (dy, [c, s]) => tf.engine().runKernel(rope.name, { x: dy, cos: c!, sin: s! }, { headDim, sign: -1 }) as tf.Tensor,
    };
  });
  return f(x) as tf.Tensor3D;
}

/** y = x * r * w, r = 1/sqrt(mean(x^2) + eps) per row; also outputs r [N] for the gradient. */
const rmsNormKernel: FlatKernel = {
  name: 'UnitraceRmsNorm',
  inputNames: ['x', 'w'],
  outputs: ([x]) => [
    { shape: x!, dtype: 'float32' },
    { shape: [x![0]!], dtype: 'float32' },
  ],
  compute([x, w], [out, rinv], attrs, [shape]) {
    const [n, h] = shape as [number, number];
    const eps = attrs.eps as number;
    const native = nativeTrainKernels();
    if (native) return native.rmsNorm(x as Float32Array, w as Float32Array, out as Float32Array, rinv as Float32Array, eps);
    const xs = x as Float32Array;
    const ws = w as Float32Array;
    const o = out as Float32Array;
    for (let i = 0; i < n; i++) {
      const row = i * h;
      let ss = 0;
      for (let j = row; j < row + h; j++) ss += xs[j]! * xs[j]!;
      const r = 1 / Math.sqrt(ss / h + eps);
      rinv![i] = r;
      for (let j = 0; j < h; j++) o[row + j] = xs[row + j]! * r * ws[j]!;
    }
  },
};

/** dx = r * g - x * r^3 * mean(g * x) with g = dy * w; dw = sum over rows of dy * x * r. */
const rmsNormGrad: FlatKernel = {
  name: 'UnitraceRmsNormGrad',
  inputNames: ['x', 'w', 'rinv', 'dy'],
  outputs: ([x, w]) => [
    { shape: x!, dtype: 'float32' },
    { shape: w!, dtype: 'float32' },
  ],
  compute([x, w, rinv, dy], [dx, dw], _a, [shape]) {
    const native = nativeTrainKernels();
    if (native) return native.rmsNormGrad(x as Float32Array, w as Float32Array, rinv as Float32Array, dy as Float32Array, dx as Float32Array, dw as Float32Array);
    const [n, h] = shape as [number, number];
    const xs = x as Float32Array;
    const ws = w as Float32Array;
    const g = dy as Float32Array;
    const o = dx as Float32Array;
    const dws = dw as Float32Array;
    dws.fill(0);
    for (let i = 0; i < n; i++) {
      const row = i * h;
      const r = rinv![i]!;
      let dot = 0;
      for (let j = 0; j < h; j++) {
        dot += g[row + j]! * ws[j]! * xs[row + j]!;
        dws[j]! += g[row + j]! * xs[row + j]! * r;
      }
      const k = (r * r * r * dot) / h;
      for (let j = 0; j < h; j++) o[row + j] = r * g[row + j]! * ws[j]! - xs[row + j]! * k;
    }
  },
};

export function rmsNorm(x: tf.Tensor2D, w: tf.Tensor1D, eps: number): tf.Tensor2D {
  registerEngineKernels();
  if (!taping()) {
    const [y, r] = tf.engine().runKernel(rmsNormKernel.name, { x, w }, { eps }) as unknown as [tf.Tensor2D, tf.Tensor1D];
    r.dispose();
    return y;
  }
  const wFrozen = isFrozen(w);
  const f = gradFn((...args) => {
    const xx = args[0] as tf.Tensor2D;
    const ww = wFrozen ? w : (args[1] as tf.Tensor1D);
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [y, r] = tf.engine().runKernel(rmsNormKernel.name, { x: xx, w: ww }, { eps }) as unknown as [tf.Tensor2D, tf.Tensor1D];
    save([xx, ww, r]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [sx, sw, sr] = saved;
        const [dx, dw] = tf.engine().runKernel(rmsNormGrad.name, { x: sx!, w: sw!, rinv: sr!, dy }) as unknown as [tf.Tensor, tf.Tensor];
        if (wFrozen) {
          dw.dispose();
          return [dx];
        }
        return [dx, dw];
      },
    };
  });
  return (wFrozen ? f(x) : f(x, w)) as tf.Tensor2D;
}

// ---- cross-entropy ----------------------------------------------------------------------------

/**
 * log p(label) from logits x and probs = softmax(x) without a second exp pass: log(p[label]) when that
 * probability is not tiny; otherwise log-sum-exp = x[argmax] - log(p[argmax]) (p[argmax] >= 1/V, so this
 * log is well conditioned) and log p(label) = x[label] - log-sum-exp.
 */
const pickLogProb: FlatKernel = {
  name: 'UnitracePickLogProb',
  inputNames: ['x', 'probs', 'labels'],
  outputs: ([x]) => [{ shape: [x![0]!], dtype: 'float32' }],
  compute([x, p, labels], [out], _a, [shape]) {
    const [n, v] = shape as [number, number];
    const xs = x as Float32Array;
    const ps = p as Float32Array;
    for (let i = 0; i < n; i++) {
      const row = i * v;
      const label = labels![i]!;
      if (label < 0 || label >= v) throw new Error(`tokenLogProbs: label ${label} at row ${i} is outside the vocabulary (${v})`);
      const pl = ps[row + label]!;
      if (pl > 1e-6) {
        out![i] = Math.log(pl);
        continue;
      }
      let best = row;
      let m = xs[row]!;
      for (let j = row + 1; j < row + v; j++) {
        const xj = xs[j]!;
        if (xj > m) {
          m = xj;
          best = j;
        }
      }
      out![i] = xs[row + label]! - (m - Math.log(ps[best]!));
    }
  },
};

/** d log p(label) / dx, times dy: dx = dy * (onehot(label) - p); one pass, no one-hot tensor. */
const logProbGrad: FlatKernel = {
  name: 'UnitraceLogProbGrad',
  inputNames: ['probs', 'labels', 'dy'],
  outputs: ([p]) => [{ shape: p!, dtype: 'float32' }],
  compute([p, labels, dy], [out], _a, [shape]) {
    const native = nativeTrainKernels();
    if (native && labels instanceof Int32Array) return native.logProbGrad(p as Float32Array, labels, dy as Float32Array, out as Float32Array);
    const [n, v] = shape as [number, number];
    const ps = p as Float32Array;
    const o = out as Float32Array;
    for (let i = 0; i < n; i++) {
      const g = dy![i]!;
      const row = i * v;
      if (g === 0) {
        o.fill(0, row, row + v);
        continue;
      }
      const ng = -g;
      for (let j = row; j < row + v; j++) o[j] = ng * ps[j]!;
      o[row + labels![i]!]! += g;
    }
  },
};

/** log p(label) per row of logits [N,V] -> [N], through the backend's softmax and fused kernels. */
export function tokenLogProbs(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  registerEngineKernels();
  const ids = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
  if (!taping()) {
    const out = tf.tidy(() => tf.engine().runKernel(pickLogProb.name, { x: logits, probs: tf.softmax(logits), labels: ids }) as tf.Tensor1D);
    if (ids !== labels) ids.dispose();
    return out;
  }
  const f = gradFn((...args) => {
    const x = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const probs = tf.softmax(x); // [N,V]
    const value = tf.engine().runKernel(pickLogProb.name, { x, probs, labels: ids }) as tf.Tensor1D;
    save([probs, ids]);
    return {
      value,
      gradFunc: (dy, saved) => tf.engine().runKernel(logProbGrad.name, { probs: saved[0]!, labels: saved[1]!, dy }) as tf.Tensor,
    };
  });
  const out = f(logits) as tf.Tensor1D;
  if (ids !== labels) ids.dispose();
  return out;
}

export function maskedCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(tokenLogProbs(logits, labels), weights))) as tf.Scalar);
}

// ---- SwiGLU ------------------------------------------------------------------------------------

/** silu(gate) * up in one pass; also outputs sigmoid(gate) for the gradient. */
const swigluKernel: FlatKernel = {
  name: 'UnitraceSwiglu',
  inputNames: ['gate', 'up'],
  outputs: ([g]) => [
    { shape: g!, dtype: 'float32' },
    { shape: g!, dtype: 'float32' },
  ],
  compute([gate, up], [out, sig]) {
    const native = nativeTrainKernels();
    if (native) return native.swiglu(gate as Float32Array, up as Float32Array, out as Float32Array, sig as Float32Array);
    const g = gate as Float32Array;
    const u = up as Float32Array;
    const o = out as Float32Array;
    const sg = sig as Float32Array;
    for (let i = 0; i < g.length; i++) {
      const x = g[i]!;
      const s = 1 / (1 + fexp(-x));
      sg[i] = s;
      o[i] = x * s * u[i]!;
    }
  },
};

/** d gate = dy * up * s * (1 + x * (1 - s)) with s = sigmoid(x); d up = dy * x * s. */
const swigluGrad: FlatKernel = {
  name: 'UnitraceSwigluGrad',
  inputNames: ['gate', 'up', 'sig', 'dy'],
  outputs: ([g]) => [
    { shape: g!, dtype: 'float32' },
    { shape: g!, dtype: 'float32' },
  ],
  compute([gate, up, sig, dy], [dgate, dup]) {
    const native = nativeTrainKernels();
    if (native) return native.swigluGrad(gate as Float32Array, up as Float32Array, sig as Float32Array, dy as Float32Array, dgate as Float32Array, dup as Float32Array);
    const g = gate as Float32Array;
    const u = up as Float32Array;
    const sgs = sig as Float32Array;
    const d = dy as Float32Array;
    const dg = dgate as Float32Array;
    const du = dup as Float32Array;
    for (let i = 0; i < g.length; i++) {
      const x = g[i]!;
      const sg = sgs[i]!;
      dg[i] = d[i]! * u[i]! * sg * (1 + x * (1 - sg));
      du[i] = d[i]! * x * sg;
    }
  },
};

export function swiglu(gate: tf.Tensor2D, up: tf.Tensor2D): tf.Tensor2D {
  registerEngineKernels();
  if (!taping()) {
    const [y, sig] = tf.engine().runKernel(swigluKernel.name, { gate, up }) as unknown as [tf.Tensor2D, tf.Tensor2D];
    sig.dispose();
    return y;
  }
  const f = gradFn((...args) => {
    const [g, u] = args as [tf.Tensor2D, tf.Tensor2D];
    const [y, sig] = tf.engine().runKernel(swigluKernel.name, { gate: g, up: u }) as unknown as [tf.Tensor2D, tf.Tensor2D];
    (args[2] as tf.GradSaveFunc)([g, u, sig]);
    return {
      value: y,
      gradFunc: (dy, [sg, su, ss]) => tf.engine().runKernel(swigluGrad.name, { gate: sg!, up: su!, sig: ss!, dy }) as unknown as tf.Tensor[],
    };
  });
  return f(gate, up) as tf.Tensor2D;
}

addEngineKernel(pickLogProb);
addEngineKernel(rope);
addEngineKernel(rmsNormKernel);
addEngineKernel(rmsNormGrad);
addEngineKernel(logProbGrad);
addEngineKernel(swigluKernel);
addEngineKernel(swigluGrad);
