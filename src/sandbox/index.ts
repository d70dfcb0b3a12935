// The Python sandbox: Pyodide in worker threads, with time, memory and output limits and no host access.
// Layers, each tested in test/sandbox/: the worker gets an empty process.env and Pyodide a fixed one; no host
// folder is mounted and the node filesystems are removed; sockets and process starts (os.system, libc
// system() via ctypes) are refused below Python; the js/pyodide_js bridges are unregistered and blocked
// from import; eval and the Function constructors are gone once Pyodide is loaded, so even a JS object
// reached from Python (or Emscripten's script hook via ctypes) cannot run JavaScript. Only the Python
// standard library is available: Pyodide's extra packages (numpy, sympy) are not shipped in its npm package.
import { createSandboxPool, type SandboxOptions, type SandboxPool } from './pool.js';

export { createSandboxPool } from './pool.js';
export type { SandboxOptions, SandboxPool, SandboxStats } from './pool.js';
export type { CodeSandbox, CompileResult, RunOptions, RunResult, RunStatus } from './types.js';

let shared: SandboxPool | null = null;

/** The process-wide pool, created on first use (options apply only then). Its idle workers do not keep
 *  the process alive; call closeDefaultSandbox() to stop them at once. */
export function defaultSandbox(options: SandboxOptions = {}): SandboxPool {
  shared ??= createSandboxPool(options);
  return shared;
}

export async function closeDefaultSandbox(): Promise<void> {
  const pool = shared;
  shared = null;
  await pool?.close();
}
