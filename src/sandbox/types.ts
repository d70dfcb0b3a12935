// The sandbox's result shapes, shared by the pool, the worker and callers (trace, eval, synth).

/** ok: ran to the end or sys.exit(0); error: uncaught exception; exit: sys.exit(n != 0);
 *  timeout: wall-clock limit hit (worker replaced); memory: MemoryError or memory limit hit. */
export type RunStatus = 'ok' | 'error' | 'timeout' | 'memory' | 'exit';

export interface RunResult {
  status: RunStatus;
  /** 0 for ok, the sys.exit code for exit, 1 for an uncaught exception, null for timeout/memory kills. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** One line: the exception (`ZeroDivisionError: division by zero`) or why the run was stopped. */
  error?: string;
  durationMs: number;
  /** True when stdout or stderr was cut at the output limit. */
  truncated: boolean;
}

export interface CompileResult {
  ok: boolean;
  /** `SyntaxError: ... (line N)` when it does not compile. */
  error?: string;
}

export interface RunOptions {
  /** Wall-clock limit for this run (default: the pool's). */
  timeoutMs?: number;
  /** Text Python reads from stdin (default: empty). */
  stdin?: string;
}

/** What the trace validator needs from a sandbox; the pool implements it. */
export interface CodeSandbox {
  run(code: string, opts?: RunOptions): Promise<RunResult>;
  compile(code: string): Promise<CompileResult>;
}
