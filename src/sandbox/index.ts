// The Python sandbox: Pyodide in child processes with time, memory and output limits. Each child runs with
// an empty environment, Node's permission model, its own network namespace and (under root) as nobody; the
// JavaScript inside it is stripped and frozen; a program that reaches JavaScript gets its child replaced, and
// every other program is followed by a restore of the interpreter's clean state. docs/sandbox.md has the
// threat model. Only the Python standard library is available: Pyodide's extra packages are not shipped.
import { createSandboxPool, type SandboxOptions, type SandboxPool } from './pool.js';

export { createSandboxPool } from './pool.js';
export type { SandboxOptions, SandboxPool, SandboxStats } from './pool.js';
export { MAX_TIMEOUT_MS, checkTimeoutMs } from './pool.js';
export type { Isolation } from './isolation.js';
export type { CodeSandbox, CompileResult, RunOptions, RunResult, RunStatus } from './types.js';

let shared: SandboxPool | null = null;

/** The process-wide pool, created on first use (options apply only then). Its idle children do not keep
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
