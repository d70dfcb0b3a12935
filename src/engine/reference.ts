// Straightforward compositions of tfjs ops for the engine ops contract (docs/ARCHITECTURE.md): the
// reference the fast kernels are tested against, and the path used on backends with fast native kernels.
import * as tf from '@tensorflow/tfjs-core';
import './gradients.js';

export interface AttentionOptions {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** Number of cached key positions before the first query (0 without a KV cache). */
  pastLength: number;
}

/** x [N,in] @ w[out,in]^T (+ b [out]) -> [N,out]. */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const y = tf.matMul(x, w, false, true);
    return (b ? tf.add(y, b) : y) as tf.Tensor2D;
  });
}

/** x * rsqrt(mean(x^2) + eps) * w over the last axis; x [N,H], w [H]. */
export function rmsNorm(x: tf.Tensor2D, w: tf.Tensor1D, eps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const ms = tf.mean(tf.square(x), -1, true); // [N,1]
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), w);
  });
}

/** Rows of table [V,H] at ids [N] -> [N,H]. */
export function embedding(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  return tf.gather(table, ids);
}

/** Rotary tables for positions [B,T]: cos/sin [B,T,headDim], inv_freq = theta^(-2i/headDim), halves repeated. */
export function ropeCosSin(positions: tf.Tensor2D, headDim: number, theta: number): { cos: tf.Tensor3D; sin: tf.Tensor3D } {
  return tf.tidy(() => {
    const half = headDim / 2;
    const invFreq = new Float32Array(half);
    for (let i = 0; i < half; i++) invFreq[i] = 1 / Math.pow(theta, (2 * i) / headDim);
    const freqs = tf.mul(tf.expandDims(tf.cast(positions, 'float32'), -1), tf.tensor1d(invFreq)); // [B,T,half]
    const emb = tf.concat([freqs, freqs], -1) as tf.Tensor3D; // [B,T,D]
    return { cos: tf.cos(emb), sin: tf.sin(emb) };
  });
}

/** Rotate-half rotary embedding of x [B,T,H*D] with cos/sin [B,T,D]. */
export function applyRope(x: tf.Tensor3D, cos: tf.Tensor3D, sin: tf.Tensor3D, numHeads: number, headDim: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, t] = x.shape;
    const x4 = tf.reshape(x, [b, t, numHeads, headDim]);
    const half = headDim / 2;
    const x1 = tf.slice(x4, [0, 0, 0, 0], [b, t, numHeads, half]);
    const x2 = tf.slice(x4, [0, 0, 0, half], [b, t, numHeads, half]);
    const rotated = tf.concat([tf.neg(x2), x1], -1); // [B,T,H,D]
    const c = tf.expandDims(cos, 2); // [B,T,1,D]
    const s = tf.expandDims(sin, 2);
    return tf.reshape(tf.add(tf.mul(x4, c), tf.mul(rotated, s)), [b, t, numHeads * headDim]) as tf.Tensor3D;
  });
}

/** A large negative bias instead of -Infinity, so a fully masked row gives a uniform (finite) softmax. */
const MASKED = -1e9;

/** Additive causal bias [T,S]: query t (absolute pastLength + t) sees keys 0..pastLength + t. */
export function causalBias(t: number, s: number, pastLength: number): tf.Tensor2D {
  const bias = new Float32Array(t * s);
  for (let i = 0; i < t; i++) for (let j = pastLength + i + 1; j < s; j++) bias[i * s + j] = MASKED;
  return tf.tensor2d(bias, [t, s]);
}

/** Splits [B,L,H*D] into heads [B,H,L,D]. */
function heads(x: tf.Tensor3D, h: number, d: number): tf.Tensor4D {
  const [b, l] = x.shape;
  return tf.transpose(tf.reshape(x, [b, l, h, d]), [0, 2, 1, 3]);
}

/**
 * Scaled dot-product attention with grouped-query heads, a causal mask and an optional key padding mask.
 * q [B,T,Hq*D], k/v [B,S,Hkv*D] (rotary already applied), keyMask [B,S] (1 keep, 0 pad) -> [B,T,Hq*D].
 */
export function attention(
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  v: tf.Tensor3D,
  keyMask: tf.Tensor2D | undefined,
  opts: AttentionOptions,
): tf.Tensor3D {
  return tf.tidy(() => {
    const { numHeads, numKvHeads, headDim, pastLength } = opts;
    const [b, t] = q.shape;
    const s = k.shape[1];
    const group = numHeads / numKvHeads;
    const qh = heads(q, numHeads, headDim); // [B,Hq,T,D]
    // Each kv head serves `group` consecutive query heads: repeat [B,Hkv,S,D] -> [B,Hq,S,D].
    const repeat = (x: tf.Tensor3D): tf.Tensor4D => {
      const xh = heads(x, numKvHeads, headDim); // [B,Hkv,S,D]
      if (group === 1) return xh;
      const tiled = tf.tile(tf.reshape(xh, [b, numKvHeads, 1, s * headDim]), [1, 1, group, 1]);
      return tf.reshape(tiled, [b, numHeads, s, headDim]);
    };
    const kh = repeat(k);
    const vh = repeat(v);
    let scores = tf.mul(tf.matMul(qh, kh, false, true), 1 / Math.sqrt(headDim)); // [B,Hq,T,S]
    scores = tf.add(scores, causalBias(t, s, pastLength));
    if (keyMask) {
      const padBias = tf.mul(tf.sub(1, tf.cast(keyMask, 'float32')), MASKED); // [B,S]
      scores = tf.add(scores, tf.reshape(padBias, [b, 1, 1, s]));
    }
    const out = tf.matMul(tf.softmax(scores), vh); // [B,Hq,T,D]
    return tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [b, t, numHeads * headDim]) as tf.Tensor3D;
  });
}

/** silu(gate) * up; gate/up [N,I]. */
export function swiglu(gate: tf.Tensor2D, up: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.mul(gate, tf.sigmoid(gate)), up));
}

/**
 * log p(label) per row of logits [N,V] -> [N]. The gradient is dy * (onehot - softmax), built as a dense
 * softmax plus a scatter of dy at the label positions (no one-hot tensor over the vocabulary).
 */
export function tokenLogProbs(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const [n, vocab] = logits.shape;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const flatIndex = tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(vocab, 'int32')), tf.cast(labels, 'int32')); // [N]
    const lse = tf.logSumExp(x, 1); // [N]
    const picked = tf.gather(tf.reshape(x, [n * vocab]), flatIndex); // [N]
    save([x, lse, flatIndex]);
    return {
      value: tf.sub(picked, lse),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, lseS, index] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
        const probs = tf.exp(tf.sub(xs, tf.expandDims(lseS, 1)));
        const dense = tf.mul(probs, tf.neg(tf.expandDims(dy, 1)));
        const atLabels = tf.scatterND(tf.expandDims(index, 1), dy, [n * vocab]);
        return tf.add(dense, tf.reshape(atLabels, [n, vocab]));
      },
    };
  });
  return f(logits) as tf.Tensor1D;
}

/** sum(weights * -log p(label)) over rows; logits [N,V], labels/weights [N] -> scalar. */
export function maskedCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(tokenLogProbs(logits, labels), weights))) as tf.Scalar);
}
