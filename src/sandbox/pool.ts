// A pool of Pyodide workers. Each run gets one idle worker; the wall-clock limit is enforced here by
// terminating the worker (a tight Python loop cannot be interrupted any other way) and starting a fresh one.
import { cpus } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../util/worker.js';
import type { WorkerReply, WorkerRequest, WorkerSettings } from './protocol.js';
import type { CodeSandbox, CompileResult, RunOptions, RunResult } from './types.js';

export interface SandboxOptions {
  /** Worker threads (default: min(2, CPU count)). Each holds its own Pyodide (about 2 s to start). */
  size?: number;
  /** Default wall-clock limit per run in ms (default 5000). */
  timeoutMs?: number;
  /** Limit on Pyodide's wasm memory per worker, MiB (default 512). */
  memoryLimitMb?: number;
  /** stdout and stderr are each cut after this many bytes (default 64 KiB). */
  maxOutputBytes?: number;
  /** How long a worker may take to load Pyodide before the start counts as failed (default 60 s). */
  startTimeoutMs?: number;
}

export interface SandboxStats {
  runs: number;
  timeouts: number;
  /** Workers started, replacements included. */
  workersStarted: number;
  /** Pyodide load time of each started worker, ms (measured inside the worker). */
  startMs: number[];
}

export interface SandboxPool extends CodeSandbox {
  readonly size: number;
  /** Starts every worker now and resolves when all are ready (otherwise they start on first use). */
  warm(): Promise<void>;
  stats(): SandboxStats;
  /** Terminates the workers; pending and later calls reject. */
  close(): Promise<void>;
}

type Job =
  | { kind: 'run'; code: string; stdin: string; timeoutMs: number; resolve: (r: RunResult) => void; reject: (e: Error) => void }
  | { kind: 'compile'; code: string; timeoutMs: number; resolve: (r: CompileResult) => void; reject: (e: Error) => void };

interface Slot {
  worker: Worker;
  ready: boolean;
  job: Job | null;
  jobId: number;
  timer: NodeJS.Timeout | null;
  startedAt: number;
  stderr: string;
  /** Set when the worker is being replaced, so its exit event is not treated as a crash. */
  retired: boolean;
}

export function createSandboxPool(options: SandboxOptions = {}): SandboxPool {
  const size = Math.max(1, options.size ?? Math.min(2, cpus().length));
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxOutputBytes = options.maxOutputBytes ?? 64 * 1024;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const settings: WorkerSettings = { memoryLimitBytes: (options.memoryLimitMb ?? 512) * 1024 * 1024 };
  const slots: Slot[] = [];
  const queue: Job[] = [];
  const readyWaiters: (() => void)[] = [];
  const stats: SandboxStats = { runs: 0, timeouts: 0, workersStarted: 0, startMs: [] };
  let nextId = 1;
  let closed = false;
  let startError: Error | null = null;

  function spawn(): Slot {
    const worker = startWorker('sandbox', {
      workerData: settings,
      // The worker's process.env is this object, not the host's.
      env: {},
      stdout: true,
      stderr: true,
      // A backstop for JavaScript-side allocations; Python's memory is the wasm limit above.
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    const slot: Slot = { worker, ready: false, job: null, jobId: 0, timer: null, startedAt: Date.now(), stderr: '', retired: false };
    stats.workersStarted++;
    worker.stdout.resume();
    worker.stderr.on('data', (d: Buffer) => {
      if (slot.stderr.length < 4096) slot.stderr += d.toString();
    });
    slot.timer = setTimeout(() => fail(slot, `sandbox worker did not start within ${startTimeoutMs} ms`), startTimeoutMs);
    worker.on('message', (msg: WorkerReply) => onMessage(slot, msg));
    worker.on('error', (e: Error & { code?: string }) => onCrash(slot, e));
    worker.on('exit', (code) => {
      if (!slot.retired) onCrash(slot, new Error(`sandbox worker exited with code ${code}${slot.stderr ? `: ${slot.stderr.trim()}` : ''}`));
    });
    slots.push(slot);
    return slot;
  }

  function onMessage(slot: Slot, msg: WorkerReply): void {
    if (msg.type === 'ready') {
      clearTimer(slot);
      slot.ready = true;
      stats.startMs.push(msg.startMs);
      readyWaiters.splice(0).forEach((w) => w());
      pump();
      idle(slot);
      return;
    }
    if (msg.type === 'fatal') {
      fail(slot, msg.error);
      return;
    }
    const job = slot.job;
    if (!job || msg.id !== slot.jobId) return;
    clearTimer(slot);
    slot.job = null;
    if (msg.type === 'compiled' && job.kind === 'compile') job.resolve({ ok: msg.ok, error: msg.error });
    else if (msg.type === 'result' && job.kind === 'run') {
      const { type: _t, id: _i, recycle, ...result } = msg;
      job.resolve(result);
      if (recycle) {
        replace(slot);
        return;
      }
    }
    idle(slot);
    pump();
  }

  /** A worker that died on its own (out of JS memory, crash): the job gets a verdict, the slot a new worker. */
  function onCrash(slot: Slot, e: Error & { code?: string }): void {
    if (slot.retired) return;
    const job = slot.job;
    if (!slot.ready && !job) {
      fail(slot, e.message);
      return;
    }
    slot.job = null;
    clearTimer(slot);
    if (job) {
      const memory = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
      const error = memory ? 'sandbox worker ran out of memory' : `sandbox worker crashed: ${e.message}`;
      if (job.kind === 'run') job.resolve(verdict(memory ? 'memory' : 'error', error, Date.now() - slot.startedAt));
      else job.resolve({ ok: false, error });
    }
    replace(slot);
  }

  /** A worker that cannot start: reject what waits (retrying would loop on a broken install). */
  function fail(slot: Slot, message: string): void {
    retire(slot);
    const err = new Error(message);
    startError = err;
    if (slot.job) slot.job.reject(err);
    if (slots.length === 0) queue.splice(0).forEach((j) => j.reject(err));
    readyWaiters.splice(0).forEach((w) => w());
  }

  function retire(slot: Slot): void {
    slot.retired = true;
    clearTimer(slot);
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
    void slot.worker.terminate();
  }

  function replace(slot: Slot): void {
    retire(slot);
    if (!closed) pump(true);
  }

  function clearTimer(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
  }

  function idle(slot: Slot): void {
    // Idle workers do not keep the process alive, so a CLI that forgets close() still exits.
    if (!slot.job) slot.worker.unref();
  }

  /** Hands queued jobs to ready idle workers; starts workers (up to size) while jobs wait. */
  function pump(refill = false): void {
    if (closed) return;
    for (const slot of slots) {
      if (!slot.ready || slot.job || queue.length === 0) continue;
      dispatch(slot, queue.shift()!);
    }
    const starting = slots.filter((s) => !s.ready).length;
    const wanted = refill ? size : Math.min(size, slots.length + Math.max(0, queue.length - starting));
    while (slots.length < wanted) spawn();
  }

  function dispatch(slot: Slot, job: Job): void {
    const id = nextId++;
    slot.job = job;
    slot.jobId = id;
    slot.startedAt = Date.now();
    slot.worker.ref();
    const req: WorkerRequest =
      job.kind === 'run'
        ? { type: 'run', id, code: job.code, stdin: job.stdin, maxOutputBytes }
        : { type: 'compile', id, code: job.code };
    slot.worker.postMessage(req);
    slot.timer = setTimeout(() => {
      slot.job = null;
      const error = `wall-clock limit of ${job.timeoutMs} ms reached; worker terminated`;
      if (job.kind === 'run') {
        stats.timeouts++;
        job.resolve(verdict('timeout', error, Date.now() - slot.startedAt));
      } else job.resolve({ ok: false, error: `compile: ${error}` });
      replace(slot);
    }, job.timeoutMs);
  }

  function submit<J extends Job>(job: J): void {
    if (closed) {
      job.reject(new Error('sandbox pool is closed'));
      return;
    }
    queue.push(job);
    pump();
  }

  return {
    size,
    run(code: string, opts: RunOptions = {}): Promise<RunResult> {
      stats.runs++;
      return new Promise((resolve, reject) =>
        submit({ kind: 'run', code, stdin: opts.stdin ?? '', timeoutMs: opts.timeoutMs ?? timeoutMs, resolve, reject }),
      );
    },
    compile(code: string): Promise<CompileResult> {
      // Compiling is fast, but a pathological program must still not hang the caller.
      return new Promise((resolve, reject) => submit({ kind: 'compile', code, timeoutMs: Math.max(timeoutMs, 10_000), resolve, reject }));
    },
    async warm(): Promise<void> {
      if (closed) throw new Error('sandbox pool is closed');
      while (slots.length < size) spawn();
      while (slots.some((s) => !s.ready)) await new Promise<void>((r) => readyWaiters.push(r));
      if (slots.length === 0) throw startError ?? new Error('sandbox workers failed to start');
      for (const s of slots) idle(s);
    },
    stats: () => ({ ...stats, startMs: [...stats.startMs] }),
    async close(): Promise<void> {
      closed = true;
      const err = new Error('sandbox pool is closed');
      queue.splice(0).forEach((j) => j.reject(err));
      const all = slots.splice(0);
      for (const s of all) {
        s.retired = true;
        clearTimer(s);
        s.job?.reject(err);
      }
      await Promise.all(all.map((s) => s.worker.terminate()));
    },
  };
}

function verdict(status: 'timeout' | 'memory' | 'error', error: string, durationMs: number): RunResult {
  return { status, exitCode: null, stdout: '', stderr: '', error, durationMs, truncated: false };
}
