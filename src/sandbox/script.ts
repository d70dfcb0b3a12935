// Where the sandbox child's JavaScript is. The child runs under Node's permission model, which lets it read
// only its own script and Pyodide's folder, so it cannot load TypeScript through tsx: from the notebooks'
// bundle it is dist/workers/sandbox.cjs (scripts/build.mjs), from source it is bundled here once per process.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fromRoot, isBundle } from '../util/paths.js';
import { WORKER_ENTRIES } from '../util/worker.js';

let built: string | null = null;

export function pyodideDir(): string {
  return dirname(createRequire(fromRoot('package.json')).resolve('pyodide/package.json'));
}

/** The child script's path (bundled on first call when running from source). */
export async function childScript(): Promise<string> {
  if (isBundle) return fromRoot('dist', 'workers', 'sandbox.cjs');
  if (built) return built;
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-sandbox-'));
  // Readable by the unprivileged user the children run as.
  chmodSync(dir, 0o755);
  const out = join(dir, 'sandbox-child.cjs');
  await build({
    entryPoints: [fromRoot(WORKER_ENTRIES.sandbox)],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['pyodide'],
    logLevel: 'warning',
  });
  chmodSync(out, 0o644);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  built = out;
  return out;
}
