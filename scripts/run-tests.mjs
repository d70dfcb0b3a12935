#!/usr/bin/env node
// `npm test`: every test/**/*.test.ts through node's built-in runner with tsx.
// Pass paths or substrings to run a subset: `npm test -- trace sandbox`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return find(p);
    return name.endsWith('.test.ts') ? [p] : [];
  });
}

// The longest files start first, so the other files fill the second lane while they run (files start
// in the order given). Measured one file at a time: `/usr/bin/time node --import tsx --test FILE`.
const LONGEST_FIRST = ['test/notebooks/notebooks.test.ts', 'test/sandbox/sandbox.test.ts', 'test/claude/claude.test.ts', 'test/train/sft.test.ts'];
const rank = (f) => (LONGEST_FIRST.includes(f) ? LONGEST_FIRST.indexOf(f) : LONGEST_FIRST.length);

const filters = process.argv.slice(2);
const files = find('test')
  .map((f) => relative('.', f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
if (files.length === 0) {
  console.error(`no test file matches ${filters.join(' ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
  env: { ...process.env, UNITRACE_TEST: '1' },
});
process.exit(result.status ?? 1);
