// Small random models for the model tests.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend.js';
import { makeConfig, type Qwen2Config } from '../../src/model/config.js';
import { randomModel } from '../../src/model/load.js';
import type { Qwen2Model } from '../../src/model/qwen2.js';
import { Rng } from '../../src/util/rng.js';

export const tinyConfig = (over: Partial<Qwen2Config> = {}): Qwen2Config =>
  makeConfig({ vocabSize: 300, hiddenSize: 32, numAttentionHeads: 4, numKeyValueHeads: 2, numHiddenLayers: 2, intermediateSize: 48, ...over });

/** A random tiny model with large enough weights (std 0.2) that outputs differ visibly between inputs. */
export async function tinyModel(over: Partial<Qwen2Config> = {}, seed = 1): Promise<Qwen2Model> {
  await initBackend();
  return randomModel(tinyConfig(over), new Rng(seed), 0.2);
}

export function logitsOf(model: Qwen2Model, ids: number[][], opts: Parameters<Qwen2Model['forward']>[1] = {}): number[][][] {
  const input = tf.tensor2d(ids, [ids.length, ids[0]!.length], 'int32');
  const out = model.forward(input, opts);
  const arr = out.arraySync() as number[][][];
  tf.dispose([input, out]);
  return arr;
}

export function maxAbsDiff(a: number[][][], b: number[][][]): number {
  let d = 0;
  a.flat(2).forEach((v, i) => (d = Math.max(d, Math.abs(v - b.flat(2)[i]!))));
  return d;
}
