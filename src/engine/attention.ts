// Attention for the engine ops on the wasm (and cpu) backends: per-(batch row, kv head) 2-D products
// with fused masked-softmax kernels for training, batched products when the native matmul serves
// BatchMatMul (their softmax kernels then run natively too, native/train_kernels.cc, same bits), and a
// direct kernel for decoding against a KV cache. See ./fast.ts for the why.
import * as tf from '@tensorflow/tfjs-core';
import { batchedProductsOn, fexp, gradFn, taping } from './fast.js';
import { addEngineKernel, registerEngineKernels, type FlatKernel } from './kernels.js';
import { nativeTrainKernels } from './native.js';
import type { AttentionOptions } from './reference.js';

/**
 * One row of the causal, key-masked, scaled softmax: o[row .. row+s) from the first `visible` scores of
 * x's row, key j kept when mask[maskOffset + j] is non-zero. A row that sees no key comes out all zero.
 */
function softmaxRow(x: Float32Array, o: Float32Array, mask: Float32Array, maskOffset: number, row: number, visible: number, s: number, scale: number): void {
  let m = -Infinity;
  for (let j = 0; j < visible; j++) if (mask[maskOffset + j] !== 0 && x[row + j]! > m) m = x[row + j]!;
  if (m === -Infinity) {
    o.fill(0, row, row + s);
    return;
  }
  let sum = 0;
  for (let j = 0; j < visible; j++) {
    const e = mask[maskOffset + j] !== 0 ? fexp((x[row + j]! - m) * scale) : 0;
    o[row + j] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let j = 0; j < visible; j++) o[row + j]! *= inv;
  o.fill(0, row + visible, row + s);
}

/** One row of the softmax backward with the scale folded in; keys past the causal limit have P = 0, so dS = 0. */
function softmaxGradRow(ps: Float32Array, ds: Float32Array, o: Float32Array, row: number, visible: number, s: number, scale: number): void {
  let dot = 0;
  for (let j = row; j < row + visible; j++) dot += ps[j]! * ds[j]!;
  for (let j = row; j < row + visible; j++) o[j] = scale * ps[j]! * (ds[j]! - dot);
  o.fill(0, row + visible, row + s);
}

/**
 * The outer loop both plain kernels share: `row(offset, visible)` fills row r of o [rows, S] (query
 * r % t, which sees the first past + r % t + 1 keys), then the visible part is copied into ot [S, rows].
 */
function causalRowsWithTranspose(o: Float32Array, ot: Float32Array, rows: number, s: number, t: number, past: number, row: (offset: number, visible: number) => void): void {
  ot.fill(0);
  for (let r = 0; r < rows; r++) {
    const offset = r * s;
    const visible = Math.min(s, past + (r % t) + 1);
    row(offset, visible);
    for (let j = 0; j < visible; j++) ot[j * rows + r] = o[offset + j]!;
  }
}

/**
 * Causal, key-masked, scaled softmax of one (batch row, kv head) block of scores [G*T, S]; row r is query
 * t = r % T at absolute position pastLength + t. Masked keys get probability 0; a query that sees no key
 * at all (a padding position) gets an all-zero row instead of a uniform one.
 */
const maskedSoftmax: FlatKernel = {
  name: 'UnitraceMaskedSoftmax',
  inputNames: ['scores', 'keyMask'],
  // P [G*T, S] and its transpose [S, G*T] (for dV = P^T dO without a separate transpose op).
  outputs: ([s]) => [
    { shape: s!, dtype: 'float32' },
    { shape: [s![1]!, s![0]!], dtype: 'float32' },
  ],
  compute([scores, keyMask], [out, outT], attrs, [shape]) {
    const [rows, s] = shape as [number, number];
    const t = attrs.t as number;
    const past = attrs.pastLength as number;
    const scale = attrs.scale as number;
    const x = scores as Float32Array;
    const o = out as Float32Array;
    const mask = keyMask as Float32Array;
    causalRowsWithTranspose(o, outT as Float32Array, rows, s, t, past, (row, visible) => softmaxRow(x, o, mask, 0, row, visible, s, scale));
  },
};

/** Softmax backward with the score scale folded in: dS = scale * P * (dP - rowsum(P * dP)). */
const softmaxGrad: FlatKernel = {
  name: 'UnitraceSoftmaxGrad',
  inputNames: ['probs', 'dprobs'],
  // dS [G*T, S] and its transpose [S, G*T] (for dK = dS^T Q without a separate transpose op).
  outputs: ([p]) => [
    { shape: p!, dtype: 'float32' },
    { shape: [p![1]!, p![0]!], dtype: 'float32' },
  ],
  compute([p, dp], [out, outT], attrs, [shape]) {
    const [rows, s] = shape as [number, number];
    const scale = attrs.scale as number;
    const t = attrs.t as number;
    const past = attrs.pastLength as number;
    const ps = p as Float32Array;
    const ds = dp as Float32Array;
    const o = out as Float32Array;
    causalRowsWithTranspose(o, outT as Float32Array, rows, s, t, past, (row, visible) => softmaxGradRow(ps, ds, o, row, visible, s, scale));
  },
};

/**
 * The masked softmax over every (batch row, kv head) block at once: scores [blocks, G*T, S], block i uses
 * key-mask row floor(i / numKvHeads). Same rules as UnitraceMaskedSoftmax; no transposed output.
 */
const maskedSoftmaxBatched: FlatKernel = {
  name: 'UnitraceMaskedSoftmaxBatched',
  inputNames: ['scores', 'keyMask'],
  outputs: ([s]) => [{ shape: s!, dtype: 'float32' }],
  compute([scores, keyMask], [out], attrs, [shape]) {
    const [blocks, rows, s] = shape as [number, number, number];
    const t = attrs.t as number;
    const past = attrs.pastLength as number;
    const scale = attrs.scale as number;
    const hkv = attrs.numKvHeads as number;
    const x = scores as Float32Array;
    const o = out as Float32Array;
    const mask = keyMask as Float32Array;
    const native = nativeTrainKernels();
    if (native) return native.maskedSoftmaxBatched(x, mask, o, blocks, rows, s, t, past, scale, hkv);
    for (let bl = 0; bl < blocks; bl++) {
      const mo = Math.floor(bl / hkv) * s;
      for (let r = 0; r < rows; r++) {
        const row = (bl * rows + r) * s;
        softmaxRow(x, o, mask, mo, row, Math.min(s, past + (r % t) + 1), s, scale);
      }
    }
  },
};

/** UnitraceSoftmaxGrad over [blocks, G*T, S] at once, without the transposed output. */
const softmaxGradBatched: FlatKernel = {
  name: 'UnitraceSoftmaxGradBatched',
  inputNames: ['probs', 'dprobs'],
  outputs: ([p]) => [{ shape: p!, dtype: 'float32' }],
  compute([p, dp], [out], attrs, [shape]) {
    const [blocks, rows, s] = shape as [number, number, number];
    const scale = attrs.scale as number;
    const t = attrs.t as number;
    const past = attrs.pastLength as number;
    const ps = p as Float32Array;
    const ds = dp as Float32Array;
    const o = out as Float32Array;
    const native = nativeTrainKernels();
    if (native) return native.softmaxGradBatched(ps, ds, o, blocks, rows, s, t, past, scale);
    for (let br = 0; br < blocks * rows; br++) {
      const row = br * s;
      softmaxGradRow(ps, ds, o, row, Math.min(s, past + ((br % rows) % t) + 1), s, scale);
    }
  },
};

addEngineKernel(maskedSoftmaxBatched);
addEngineKernel(softmaxGradBatched);
addEngineKernel(maskedSoftmax);
addEngineKernel(softmaxGrad);

/**
 * Attention for a few new queries against a KV cache (generation), straight over the arrays: per query a
 * dot product with each visible key, a softmax and a weighted sum of values. No gradient (used only when
 * no gradient tape is recording); at T = 1 this replaces ~40 small products and slices per layer.
 */
const decodeAttention: FlatKernel = {
  name: 'UnitraceDecodeAttention',
  inputNames: ['q', 'k', 'v', 'keyMask'],
  outputs: ([q]) => [{ shape: q!, dtype: 'float32' }],
  compute([q, k, v, keyMask], [out], attrs, [qShape, kShape]) {
    const [b, t] = qShape as [number, number, number];
    const s = kShape![1]!;
    const hq = attrs.numHeads as number;
    const hkv = attrs.numKvHeads as number;
    const d = attrs.headDim as number;
    const past = attrs.pastLength as number;
    const scale = attrs.scale as number;
    const g = hq / hkv;
    const qs = q as Float32Array;
    const ks = k as Float32Array;
    const vs = v as Float32Array;
    const mask = keyMask as Float32Array;
    const o = out as Float32Array;
    const p = new Float32Array(s);
    o.fill(0);
    for (let bi = 0; bi < b; bi++)
      for (let ti = 0; ti < t; ti++) {
        const visible = Math.min(s, past + ti + 1);
        for (let h = 0; h < hq; h++) {
          const kh = Math.floor(h / g);
          const qo = ((bi * t + ti) * hq + h) * d;
          let m = -Infinity;
          for (let j = 0; j < visible; j++) {
            if (mask[bi * s + j] === 0) {
              p[j] = -Infinity;
              continue;
            }
            const ko = ((bi * s + j) * hkv + kh) * d;
            let dot = 0;
            for (let e = 0; e < d; e++) dot += qs[qo + e]! * ks[ko + e]!;
            p[j] = dot * scale;
            if (p[j]! > m) m = p[j]!;
          }
          if (m === -Infinity) continue; // no visible key: zero output, as in the training path
          let sum = 0;
          for (let j = 0; j < visible; j++) {
            const e = p[j] === -Infinity ? 0 : fexp(p[j]! - m);
            p[j] = e;
            sum += e;
          }
          const inv = 1 / sum;
          for (let j = 0; j < visible; j++) {
            const w = p[j]! * inv;
            if (w === 0) continue;
            const vo = ((bi * s + j) * hkv + kh) * d;
            for (let e = 0; e < d; e++) o[qo + e]! += w * vs[vo + e]!;
          }
        }
      }
  },
};

addEngineKernel(decodeAttention);

/**
 * Attention as plain 2-D products per (batch row, kv head): the G query heads that share a kv head are
 * stacked into one [G*T, D] matrix, so there are B*Hkv products of each kind and no repeated keys.
 */
export function attention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, keyMask: tf.Tensor2D | undefined, opts: AttentionOptions): tf.Tensor3D {
  registerEngineKernels();
  const { numHeads, numKvHeads, headDim: d, pastLength } = opts;
  const [b, t] = q.shape;
  const s = k.shape[1];
  const g = numHeads / numKvHeads;
  const blocks = b * numKvHeads;
  const scale = 1 / Math.sqrt(d);
  const attrs = { t, pastLength, scale };
  if (t <= 4 && !taping()) {
    return tf.tidy(() => {
      const mask = keyMask ? tf.cast(keyMask, 'float32') : tf.ones([b, s]);
      return tf.engine().runKernel(decodeAttention.name, { q, k, v, keyMask: mask }, { numHeads, numKvHeads, headDim: d, pastLength, scale }) as tf.Tensor3D;
    });
  }
  if (batchedProductsOn()) return batchedAttention(q, k, v, keyMask, opts);
  const masks = tf.tidy(() => tf.unstack(keyMask ? tf.cast(keyMask, 'float32') : tf.ones([b, s]))) as tf.Tensor1D[]; // B x [S]
  const f = gradFn((...args) => {
    const [qq, kk, vv] = args as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
    const save = args[3] as tf.GradSaveFunc;
    const q3 = tf.reshape(tf.transpose(tf.reshape(qq, [b, t, numHeads, d]), [0, 2, 1, 3]), [blocks, g * t, d]); // [B*Hkv, G*T, D]
    const k3 = tf.reshape(tf.transpose(tf.reshape(kk, [b, s, numKvHeads, d]), [0, 2, 1, 3]), [blocks, s, d]); // [B*Hkv, S, D]
    const v3 = tf.reshape(tf.transpose(tf.reshape(vv, [b, s, numKvHeads, d]), [0, 2, 1, 3]), [blocks, s, d]); // [B*Hkv, S, D]
    const qs = tf.unstack(q3) as tf.Tensor2D[];
    const kts = tf.unstack(tf.transpose(k3, [0, 2, 1])) as tf.Tensor2D[]; // [D,S] each
    const vs = tf.unstack(v3) as tf.Tensor2D[];
    const probs: tf.Tensor2D[] = [];
    const probsT: tf.Tensor2D[] = [];
    const outs: tf.Tensor2D[] = [];
    for (let i = 0; i < blocks; i++) {
      const scores = tf.matMul(qs[i]!, kts[i]!); // [G*T, S]
      const [p, pt] = tf.engine().runKernel(maskedSoftmax.name, { scores, keyMask: masks[Math.floor(i / numKvHeads)]! }, attrs) as unknown as [tf.Tensor2D, tf.Tensor2D];
      probs.push(p);
      probsT.push(pt);
      outs.push(tf.matMul(p, vs[i]!)); // [G*T, D]
    }
    const out = tf.reshape(tf.transpose(tf.reshape(tf.stack(outs), [b, numHeads, t, d]), [0, 2, 1, 3]), [b, t, numHeads * d]);
    save([q3, k3, v3, ...probs, ...probsT]);
    return {
      value: out,
      gradFunc: (dy, saved) => {
        const [sq, sk, sv, ...spAll] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, ...tf.Tensor2D[]];
        const sp = spAll.slice(0, blocks); // P [G*T, S]
        const spt = spAll.slice(blocks); // P^T [S, G*T]
        const dO = tf.unstack(tf.reshape(tf.transpose(tf.reshape(dy, [b, t, numHeads, d]), [0, 2, 1, 3]), [blocks, g * t, d])) as tf.Tensor2D[];
        const qb = tf.unstack(sq) as tf.Tensor2D[];
        const kb = tf.unstack(sk) as tf.Tensor2D[];
        const vtb = tf.unstack(tf.transpose(sv, [0, 2, 1])) as tf.Tensor2D[]; // [D,S] each
        const dq: tf.Tensor2D[] = [];
        const dk: tf.Tensor2D[] = [];
        const dv: tf.Tensor2D[] = [];
        for (let i = 0; i < blocks; i++) {
          const p = sp[i]!;
          const dp = tf.matMul(dO[i]!, vtb[i]!); // [G*T, S]
          const [ds, dst] = tf.engine().runKernel(softmaxGrad.name, { probs: p, dprobs: dp }, attrs) as unknown as [tf.Tensor2D, tf.Tensor2D]; // [G*T, S], [S, G*T]
          dq.push(tf.matMul(ds, kb[i]!)); // [G*T, D]
          dk.push(tf.matMul(dst, qb[i]!)); // [S, D]
          dv.push(tf.matMul(spt[i]!, dO[i]!)); // [S, D]
        }
        const back = (parts: tf.Tensor2D[], heads: number, len: number) =>
          tf.reshape(tf.transpose(tf.reshape(tf.stack(parts), [b, heads, len, d]), [0, 2, 1, 3]), [b, len, heads * d]);
        return [back(dq, numHeads, t), back(dk, numKvHeads, s), back(dv, numKvHeads, s)];
      },
    };
  });
  const out = f(q, k, v) as tf.Tensor3D;
  tf.dispose(masks);
  return out;
}

/** The block attention as batched products over [B*Hkv, ...] (for a backend whose batched matMul is fast). */
function batchedAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, keyMask: tf.Tensor2D | undefined, opts: AttentionOptions): tf.Tensor3D {
  const { numHeads, numKvHeads, headDim: d, pastLength } = opts;
  const [b, t] = q.shape;
  const s = k.shape[1];
  const g = numHeads / numKvHeads;
  const blocks = b * numKvHeads;
  const attrs = { t, pastLength, scale: 1 / Math.sqrt(d), numKvHeads };
  const mask = keyMask ? tf.cast(keyMask, 'float32') : tf.ones([b, s]); // [B,S]
  const heads = (x: tf.Tensor3D, h: number, len: number, rows: number) => tf.reshape(tf.transpose(tf.reshape(x, [b, len, h, d]), [0, 2, 1, 3]), [blocks, rows, d]);
  const back = (x: tf.Tensor, h: number, len: number) => tf.reshape(tf.transpose(tf.reshape(x, [b, h, len, d]), [0, 2, 1, 3]), [b, len, h * d]);
  const f = gradFn((...args) => {
    const [qq, kk, vv] = args as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
    const save = args[3] as tf.GradSaveFunc;
    const q3 = heads(qq, numHeads, t, g * t); // [B*Hkv, G*T, D]
    const k3 = heads(kk, numKvHeads, s, s); // [B*Hkv, S, D]
    const v3 = heads(vv, numKvHeads, s, s); // [B*Hkv, S, D]
    const scores = tf.matMul(q3, k3, false, true); // [B*Hkv, G*T, S]
    const p = tf.engine().runKernel(maskedSoftmaxBatched.name, { scores, keyMask: mask }, attrs) as tf.Tensor3D;
    save([q3, k3, v3, p]);
    return {
      value: back(tf.matMul(p, v3), numHeads, t), // [B,T,Hq*D]
      gradFunc: (dy, [sq, sk, sv, sp]) => {
        const dO = heads(dy as tf.Tensor3D, numHeads, t, g * t); // [B*Hkv, G*T, D]
        const dp = tf.matMul(dO, sv!, false, true); // [B*Hkv, G*T, S]
        const ds = tf.engine().runKernel(softmaxGradBatched.name, { probs: sp!, dprobs: dp }, attrs) as tf.Tensor3D;
        return [
          back(tf.matMul(ds, sk!), numHeads, t), // dQ
          back(tf.matMul(ds, sq!, true, false), numKvHeads, s), // dK [B*Hkv, S, D]
          back(tf.matMul(sp!, dO, true, false), numKvHeads, s), // dV
        ];
      },
    };
  });
  const out = f(q, k, v) as tf.Tensor3D;
  mask.dispose();
  return out;
}
