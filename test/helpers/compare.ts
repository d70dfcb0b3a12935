// Numeric comparison in the transformers.js style: max absolute difference within a tolerance.
import assert from 'node:assert/strict';

type Numeric = number | ArrayLike<number> | Numeric[];

function flatten(x: Numeric, out: number[] = []): number[] {
  if (typeof x === 'number') out.push(x);
  else for (let i = 0; i < x.length; i++) flatten((x as ArrayLike<Numeric>)[i] as Numeric, out);
  return out;
}

/** Asserts |actual - expected| <= tol elementwise; returns the max absolute difference. */
export function compare(actual: Numeric, expected: Numeric, tol: number, label = 'values'): number {
  const a = flatten(actual);
  const e = flatten(expected);
  assert.equal(a.length, e.length, `${label}: length ${a.length} != ${e.length}`);
  let maxDiff = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - e[i]!);
    if (!(d <= maxDiff)) {
      maxDiff = d;
      at = i;
    }
  }
  assert.ok(maxDiff <= tol, `${label}: max abs diff ${maxDiff} at index ${at} exceeds ${tol} (actual ${a[at]}, expected ${e[at]})`);
  return maxDiff;
}
