// Messages between the pool (main thread) and a sandbox worker.
import type { RunStatus } from './types.js';

export interface WorkerSettings {
  /** Largest size Pyodide's wasm memory may grow to. */
  memoryLimitBytes: number;
}

export type WorkerRequest =
  | { type: 'run'; id: number; code: string; stdin: string; maxOutputBytes: number }
  | { type: 'compile'; id: number; code: string };

export type WorkerReply =
  | { type: 'ready'; startMs: number }
  | { type: 'fatal'; error: string }
  | { type: 'compiled'; id: number; ok: boolean; error?: string }
  | {
      type: 'result';
      id: number;
      status: RunStatus;
      exitCode: number | null;
      stdout: string;
      stderr: string;
      truncated: boolean;
      error?: string;
      durationMs: number;
      /** The worker should be replaced (interpreter failure, or memory near the limit). */
      recycle: boolean;
    };
