// Executing the notebooks headless through Debian's Jupyter (nbconvert + nbclient) with the project's
// tslab kernelspec (.jupyter/kernels/tslab, written by `npm ci`). Parameters travel as environment variables.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { makeDirs } from '../util/files.js';
import { fromRoot } from '../util/paths.js';

export interface JupyterCheck {
  ok: boolean;
  /** Why notebooks cannot run, in words a user can act on. */
  reason?: string;
}

export const kernelspecDir = (): string => fromRoot('.jupyter');

/** Is `jupyter nbconvert` installed, and is the project kernelspec in place and pointing at tslab? */
export function checkJupyter(): JupyterCheck {
  const probe = spawnSync('jupyter', ['nbconvert', '--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return { ok: false, reason: 'jupyter nbconvert is not installed (apt-get install jupyter-nbconvert python3-nbclient)' };
  const spec = join(kernelspecDir(), 'kernels', 'tslab', 'kernel.json');
  if (!existsSync(spec)) return { ok: false, reason: `no kernelspec at ${spec} (run npm ci or node scripts/setup.mjs)` };
  const raw = (JSON.parse(readFileSync(spec, 'utf8')) as { argv?: string[] }).argv?.[0];
  // Jupyter replaces {resource_dir} with the kernelspec's folder (relocatable spec written by setup.mjs)
  const argv0 = raw ? resolve(raw.replace('{resource_dir}', dirname(spec))) : undefined;
  if (!argv0 || !existsSync(argv0)) return { ok: false, reason: `${spec} points at ${argv0 ?? 'nothing'}, which does not exist (rerun node scripts/setup.mjs)` };
  ensureNotebookLink();
  return { ok: true };
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Notebooks load dist/unitrace.cjs, not src/: rebuild it when any source file is newer, so an executed
 * notebook never runs stale library code.
 */
export function ensureFreshBundle(log: (line: string) => void = console.log): void {
  const bundle = fromRoot('dist', 'unitrace.cjs');
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= newestMtime(fromRoot('src'))) return;
  log('pipeline: src/ is newer than dist/unitrace.cjs; rebuilding the bundle the notebooks load (npm run build)');
  const r = spawnSync(process.execPath, [fromRoot('scripts', 'build.mjs')], { cwd: fromRoot(), stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status}); the notebooks would run stale code`);
}

/**
 * notebooks/node_modules/unitrace -> the package root, so `import ... from 'unitrace'` resolves for a kernel
 * started in notebooks/ (scripts/setup.mjs makes it too; recreated here in case it was removed).
 */
export function ensureNotebookLink(): void {
  const link = fromRoot('notebooks', 'node_modules', 'unitrace');
  if (lstatSync(link, { throwIfNoEntry: false })) return;
  makeDirs(dirname(link));
  symlinkSync(join('..', '..'), link, 'dir');
}

export interface ExecuteOptions {
  /** Where the executed copy goes (file name kept). */
  outDir: string;
  env: Record<string, string>;
  /** Per-cell time limit in seconds; default none (training cells run long). */
  cellTimeoutSeconds?: number;
  onOutput?(line: string): void;
}

export class NotebookError extends Error {
  constructor(
    readonly notebook: string,
    readonly output: string,
  ) {
    super(`${basename(notebook)} failed:\n${output}`);
    this.name = 'NotebookError';
  }
}

/** The lines of nbconvert's stderr that say what went wrong (the cell error), without the Python traceback of nbconvert itself. */
export function cellErrorSummary(stderr: string): string {
  const at = stderr.indexOf('An error occurred while executing the following cell');
  const text = at >= 0 ? stderr.slice(at) : stderr;
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(-40).join('\n');
}

/**
 * Runs `jupyter nbconvert --to notebook --execute` with the kernel started in the notebook's folder
 * (where `import ... from 'unitrace'` resolves), and writes the executed notebook to outDir.
 */
export async function executeNotebook(notebook: string, options: ExecuteOptions): Promise<string> {
  makeDirs(options.outDir);
  const timeout = options.cellTimeoutSeconds ?? -1;
  const args = [
    'nbconvert', '--to', 'notebook', '--execute',
    `--ExecutePreprocessor.timeout=${timeout}`,
    '--ExecutePreprocessor.kernel_name=tslab',
    '--output-dir', options.outDir,
    '--output', basename(notebook),
    basename(notebook),
  ];
  const jupyterPath = [kernelspecDir(), process.env.JUPYTER_PATH].filter(Boolean).join(delimiter);
  const child = spawn('jupyter', args, {
    cwd: dirname(notebook),
    env: { ...process.env, ...options.env, JUPYTER_PATH: jupyterPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => options.onOutput?.(d.trimEnd()));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  if (code !== 0) throw new NotebookError(notebook, cellErrorSummary(stderr));
  const out = join(options.outDir, basename(notebook));
  numberExecutedCells(out);
  return out;
}

/**
 * tslab leaves `execution_count` empty in its replies, so an executed notebook would show `[ ]:` on every
 * cell; number the code cells in execution order (nbconvert runs them top to bottom) as Jupyter would.
 */
export function numberExecutedCells(file: string): void {
  const nb = JSON.parse(readFileSync(file, 'utf8')) as { cells: { cell_type: string; execution_count?: number | null; outputs?: { output_type: string; execution_count?: number | null }[] }[] };
  let n = 0;
  for (const cell of nb.cells) {
    if (cell.cell_type !== 'code') continue;
    cell.execution_count ??= ++n;
    n = cell.execution_count;
    for (const o of cell.outputs ?? []) if (o.output_type === 'execute_result') o.execution_count ??= n;
  }
  writeFileSync(file, JSON.stringify(nb, null, 1) + '\n');
}
