// The engine ops contract (docs/ARCHITECTURE.md): what the model is built from. On the wasm and cpu
// backends the fast paths of ./fast.ts run; elsewhere (tfjs-node, whose native kernels handle transposed
// and batched products well) the straightforward compositions of ./reference.ts.
import * as tf from '@tensorflow/tfjs-core';
import * as attn from './attention.js';
import { seededDropout } from './dropout.js';
import * as fast from './fast.js';
import * as reference from './reference.js';

export type { AttentionOptions } from './reference.js';

// $UNITRACE_FAST_OPS=0 or 1 forces the choice for a whole run (ablations in bench/NOTES.md).
const fromEnv = process.env.UNITRACE_FAST_OPS;
let fastSetting: boolean | null = fromEnv === '0' ? false : fromEnv === '1' ? true : null;

/** Forces the fast paths on or off (null: automatic, on for wasm and cpu). For tests and ablations. */
export function setFastOps(enabled: boolean | null): void {
  fastSetting = enabled;
}

export function fastOpsActive(): boolean {
  if (fastSetting !== null) return fastSetting;
  const b = tf.getBackend();
  return b === 'wasm' || b === 'cpu';
}

export const linear: typeof reference.linear = (x, w, b) => (fastOpsActive() ? fast.linear(x, w, b) : reference.linear(x, w, b));
export const rmsNorm: typeof reference.rmsNorm = (x, w, eps) => (fastOpsActive() ? fast.rmsNorm(x, w, eps) : reference.rmsNorm(x, w, eps));
/** tf.dropout(x, rate, undefined, seed); a seeded call on wasm or cpu makes its mask in one kernel (same values). */
export const dropout = <T extends tf.Tensor>(x: T, rate: number, seed?: number): T =>
  seed !== undefined && fastOpsActive() ? seededDropout(x, rate, seed) : (tf.dropout(x, rate, undefined, seed) as T);
export const embedding: typeof reference.embedding = (table, ids) => reference.embedding(table, ids);
export const ropeCosSin: typeof reference.ropeCosSin = (positions, headDim, theta) => reference.ropeCosSin(positions, headDim, theta);
export const applyRope: typeof reference.applyRope = (x, cos, sin, numHeads, headDim) =>
  fastOpsActive() ? fast.applyRope(x, cos, sin, numHeads, headDim) : reference.applyRope(x, cos, sin, numHeads, headDim);
export const attention: typeof reference.attention = (q, k, v, keyMask, opts) =>
  fastOpsActive() ? attn.attention(q, k, v, keyMask, opts) : reference.attention(q, k, v, keyMask, opts);
export const swiglu: typeof reference.swiglu = (gate, up) => (fastOpsActive() ? fast.swiglu(gate, up) : reference.swiglu(gate, up));
export const tokenLogProbs: typeof reference.tokenLogProbs = (logits, labels) =>
  fastOpsActive() ? fast.tokenLogProbs(logits, labels) : reference.tokenLogProbs(logits, labels);
export const maskedCrossEntropy: typeof reference.maskedCrossEntropy = (logits, labels, weights) =>
  fastOpsActive() ? fast.maskedCrossEntropy(logits, labels, weights) : reference.maskedCrossEntropy(logits, labels, weights);
