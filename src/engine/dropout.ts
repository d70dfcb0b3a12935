// Seeded dropout with tf.dropout's exact values: the same seed gives the same mask, so runs that began
// with tf.dropout resume identically. tf.dropout draws its uniforms one by one in JavaScript (seedrandom's
// alea, as tfjs-core's randomUniform does), uploads them and runs three elementwise ops to make the
// multiplier; here one kernel writes the multiplier, natively where the addon is built.
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { addEngineKernel, registerEngineKernels, type FlatKernel } from './kernels.js';
import { nativeTrainKernels } from './native.js';

interface AleaState {
  c: number;
  s0: number;
  s1: number;
  s2: number;
}

/** floor(u + keep) / keep in float32 for u from alea(seed): 0 or 1/keep, as tf.dropout computes it. */
const dropoutMask: FlatKernel = {
  name: 'UnitraceDropoutMask',
  inputNames: [],
  outputs: (_s, attrs) => [{ shape: attrs.shape as number[], dtype: 'float32' }],
  compute(_in, [out], attrs) {
    const o = out as Float32Array;
    const keep = Math.fround(1 - (attrs.rate as number));
    const start = seedrandom.alea(String(attrs.seed), { state: true }).state() as unknown as AleaState;
    const native = nativeTrainKernels();
    if (native) return native.dropoutMask(o, start.c, start.s0, start.s1, start.s2, keep);
    const next = seedrandom.alea('', { state: start as unknown as seedrandom.State });
    for (let i = 0; i < o.length; i++) o[i] = Math.floor(Math.fround(Math.fround(next()) + keep)) / keep;
  },
};
addEngineKernel(dropoutMask);

/** x * mask with tf.dropout(x, rate, undefined, seed)'s mask; the gradient is dy * mask (tf.mul's). */
export function seededDropout<T extends tf.Tensor>(x: T, rate: number, seed: number): T {
  if (rate <= 0) return x;
  if (rate >= 1) throw new Error(`dropout rate ${rate} must be below 1`);
  registerEngineKernels();
  return tf.tidy(() => tf.mul(x, tf.engine().runKernel(dropoutMask.name, {}, { shape: x.shape, rate, seed }) as tf.Tensor)) as T;
}
