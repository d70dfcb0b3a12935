import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdamW, clipGradNorm, globalNorm, GradAccumulator, linearSchedule, warmupSteps, type ParamMap } from '../../src/train/optimizer.js';
import { compare } from '../helpers/compare.js';

const map = (o: Record<string, number[]>): ParamMap => new Map(Object.entries(o).map(([k, v]) => [k, Float32Array.from(v)]));

test('AdamW: the first step moves each parameter by lr against the gradient sign', () => {
  const p = map({ a: [1, -2, 3], b: [0.5] });
  const opt = new AdamW(p, { beta1: 0.9, beta2: 0.999, eps: 1e-12, weightDecay: 0 });
  opt.apply(p, map({ a: [0.3, -7, 1e-3], b: [-2] }), 0.1);
  compare(p.get('a')!, [0.9, -1.9, 2.9], 1e-6, 'a');
  compare(p.get('b')!, [0.6], 1e-6, 'b');
});

test('AdamW: the second step follows the bias-corrected moments', () => {
  const p = map({ w: [0] });
  const opt = new AdamW(p, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
  opt.apply(p, map({ w: [1] }), 0.01);
  opt.apply(p, map({ w: [3] }), 0.01);
  const m = (0.9 * 0.1 + 0.1 * 3) / (1 - 0.81);
  const v = (0.999 * 0.001 + 0.001 * 9) / (1 - 0.999 ** 2);
  compare(p.get('w')!, [-0.01 - (0.01 * m) / (Math.sqrt(v) + 1e-8)], 1e-6, 'w');
  assert.equal(opt.step, 2);
});

test('AdamW: decoupled weight decay only where asked', () => {
  const p = map({ 'x.weight': [2], 'x.bias': [2] });
  const opt = new AdamW(p, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.5 }, (n) => n.endsWith('.weight'));
  opt.apply(p, map({ 'x.weight': [0], 'x.bias': [0] }), 0.1);
  compare(p.get('x.weight')!, [2 * (1 - 0.05)], 1e-6);
  compare(p.get('x.bias')!, [2], 0);
});

test('AdamW minimises a quadratic and its state restores exactly', () => {
  const target = [3, -1, 0.5];
  const run = (steps: number, opt: AdamW, p: ParamMap) => {
    for (let s = 0; s < steps; s++) opt.apply(p, map({ w: Array.from(p.get('w')!, (x, i) => 2 * (x - target[i]!)) }), 0.05);
  };
  const p = map({ w: [0, 0, 0] });
  const opt = new AdamW(p);
  run(400, opt, p);
  compare(p.get('w')!, target, 1e-2, 'converged');
  const q = map({ w: [0, 0, 0] });
  const o1 = new AdamW(q);
  run(10, o1, q);
  const copy = map({ w: Array.from(q.get('w')!) });
  const o2 = new AdamW(copy);
  o2.load({ step: o1.step, m: new Map([...o1.m].map(([k, v]) => [k, v.slice()])), v: new Map([...o1.v].map(([k, v]) => [k, v.slice()])) });
  run(5, o1, q);
  run(5, o2, copy);
  assert.deepEqual(Array.from(copy.get('w')!), Array.from(q.get('w')!));
});

test('gradient clipping scales to the max norm and reports the norm before', () => {
  const g = map({ a: [3], b: [4] });
  assert.equal(clipGradNorm(g, 1), 5);
  compare(globalNorm(g), [1], 1e-5);
  const small = map({ a: [0.3] });
  clipGradNorm(small, 1);
  compare(small.get('a')!, [0.3], 1e-7);
  assert.throws(() => clipGradNorm(map({ a: [NaN] }), 1), /gradient norm is NaN/);
});

test('accumulation is the weighted mean of micro-batch gradients', () => {
  const acc = new GradAccumulator();
  acc.add(map({ a: [1, 2] }), 3);
  acc.add(map({ a: [5, -2] }), 1);
  compare(acc.mean().get('a')!, [2, 1], 1e-6);
  assert.throws(() => acc.mean(), /no micro-batch/);
  acc.add(map({ a: [4, 4] }), 2);
  compare(acc.mean().get('a')!, [4, 4], 1e-6, 'the next step starts from zero');
});

test('schedule: linear warmup to lr, then linear decay, never zero during training', () => {
  const total = 100;
  const warm = warmupSteps(total, 0.05);
  assert.equal(warm, 5);
  const lr = linearSchedule(1e-3, total, warm);
  compare([lr(0), lr(4), lr(5), lr(52.5), lr(99)], [2e-4, 1e-3, 1e-3, 5e-4, 1e-3 / 95], 1e-12);
  for (let s = 1; s < total; s++) if (s > warm) assert.ok(lr(s) < lr(s - 1));
  const flat = linearSchedule(1, 10, 0);
  assert.equal(flat(0), 1);
});
