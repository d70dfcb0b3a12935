#!/usr/bin/env node
// Are two runs' evaluation tables the same? Compares the `models` of RUN/eval/summary.json, leaving out the
// adapter paths (they name the run folder). Usage: node bench/compare_eval.mjs RUN_A RUN_B (exit 1 if not).
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';

const [a, b] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node bench/compare_eval.mjs RUN_A RUN_B  (run folders, e.g. runs/demo)');
  process.exit(2);
}
const models = (run) => {
  const file = join(run, 'eval', 'summary.json');
  let m;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')).models;
  } catch (e) {
    console.error(`${file}: ${e.code === 'ENOENT' ? 'missing (has the run reached its eval stage?)' : e.message}`);
    process.exit(2);
  }
  return Object.fromEntries(Object.entries(m).map(([name, { adapter: _, ...rest }]) => [name, rest]));
};
const [x, y] = [models(a), models(b)];
const differ = [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((n) => !isDeepStrictEqual(x[n], y[n]));
console.log(differ.length ? `models that differ: ${differ.join(', ')}` : `identical models tables (${Object.keys(x).length} models)`);
process.exit(differ.length ? 1 : 0);
