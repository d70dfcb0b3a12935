import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/util/rng.js';

test('same seed gives the same stream; different seeds differ', () => {
  const a = new Rng(7);
  const b = new Rng(7);
  const c = new Rng(8);
  const xs = Array.from({ length: 20 }, () => a.nextU32());
  assert.deepEqual(xs, Array.from({ length: 20 }, () => b.nextU32()));
  assert.notDeepEqual(xs, Array.from({ length: 20 }, () => c.nextU32()));
});

test('state round-trips mid-stream', () => {
  const a = new Rng(3);
  for (let i = 0; i < 5; i++) a.next();
  const b = Rng.fromState(a.state());
  assert.deepEqual([a.next(), a.next()], [b.next(), b.next()]);
});

test('next is in [0,1), int is inclusive and roughly uniform, shuffle is a permutation', () => {
  const r = new Rng(1);
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) {
    const x = r.next();
    assert.ok(x >= 0 && x < 1);
    counts[r.int(0, 2)]!++;
  }
  for (const c of counts) assert.ok(c > 850 && c < 1150, `counts ${counts}`);
  const items = [1, 2, 3, 4, 5, 6, 7, 8];
  assert.deepEqual(r.shuffle(items).sort((x, y) => x - y), items);
});
