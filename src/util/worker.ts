// Starting worker threads whose code is TypeScript. From source (tsx) a tiny bootstrap registers tsx
// inside the worker first; from the notebooks' CommonJS bundle the worker was prebuilt to dist/workers/.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { fromRoot, isBundle } from './paths.js';

/** Every worker entry point, by name. scripts/build.mjs bundles each to dist/workers/<name>.cjs. */
export const WORKER_ENTRIES = {
  sandbox: 'src/sandbox/worker.ts',
  train: 'src/train/grad/worker.ts',
} as const;

export type WorkerName = keyof typeof WORKER_ENTRIES;

export function startWorker(name: WorkerName, options: WorkerOptions = {}): Worker {
  if (isBundle) return new Worker(fromRoot('dist', 'workers', `${name}.cjs`), options);
  const entry = pathToFileURL(fromRoot(WORKER_ENTRIES[name])).href;
  const tsx = pathToFileURL(join(fromRoot('node_modules'), 'tsx', 'dist', 'esm', 'api', 'index.mjs')).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { ...options, eval: true });
}
