// A pool of sandbox child processes (child.ts), each holding one Pyodide. Each run gets one idle child;
// the verdict is built here from what the child reports (signed lines, protocol.ts), and the wall-clock
// limit is enforced here: a child that overruns is killed (SIGKILL) and a fresh one started. A child that
// reports it cannot be reset (it reached JavaScript, damaged its files, or the interpreter failed) is
// killed after its answer and replaced; the others are reset by the child itself after every program.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { childCommand, probeIsolation, type Isolation } from './isolation.js';
import { lineReader, verifyLine, type ChildReply, type ChildRequest } from './protocol.js';
import { childScript, pyodideDir } from './script.js';
import type { CodeSandbox, CompileResult, RunOptions, RunResult, RunStatus } from './types.js';

export interface SandboxOptions {
  /** Child processes (default: min(2, CPU count)). Each holds its own Pyodide (about 2 s to start). */
  size?: number;
  /** Default wall-clock limit per run in ms (default 5000; at most MAX_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Limit on Pyodide's wasm memory per child, MiB (default 512). */
  memoryLimitMb?: number;
  /** stdout and stderr are each cut after this many bytes (default 64 KiB). */
  maxOutputBytes?: number;
  /** How long a child may take to load Pyodide before the start counts as failed (default 60 s). */
  startTimeoutMs?: number;
}

export interface SandboxStats {
  runs: number;
  timeouts: number;
  /** Child processes started, replacements included. */
  workersStarted: number;
  /** Children replaced after a program because they could not be reset (reason -> count). */
  recycled: Record<string, number>;
  /** Pyodide load time of each started child, ms (measured inside the child). */
  startMs: number[];
}

export interface SandboxPool extends CodeSandbox {
  readonly size: number;
  /** The operating-system layers in force on this machine. */
  readonly isolation: Isolation;
  /** Starts every child now and resolves when all are ready (otherwise they start on first use). */
  warm(): Promise<void>;
  stats(): SandboxStats;
  /** Kills the children; pending and later calls reject. */
  close(): Promise<void>;
}

/** Node clamps timers of 2^31 ms or more to 1 ms; a limit must stay below that. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Throws unless `ms` is a whole number of milliseconds a timer can wait for; `what` names the setting. */
export function checkTimeoutMs(ms: number, what = 'timeoutMs'): number {
  if (!Number.isInteger(ms) || ms < 1 || ms > MAX_TIMEOUT_MS) throw new RangeError(`${what} must be a whole number of ms from 1 to ${MAX_TIMEOUT_MS}, got ${ms}`);
  return ms;
}

type Job =
  | { kind: 'run'; code: string; stdin: string; timeoutMs: number; resolve: (r: RunResult) => void; reject: (e: Error) => void }
  | { kind: 'compile'; code: string; timeoutMs: number; resolve: (r: CompileResult) => void; reject: (e: Error) => void };

interface Slot {
  child: ChildProcess;
  key: string;
  ready: boolean;
  job: Job | null;
  jobId: number;
  timer: NodeJS.Timeout | null;
  startedAt: number;
  stderr: string;
  /** Set once the child is being replaced, so its exit is not treated as a crash. */
  retired: boolean;
}

interface Settings {
  size: number;
  timeoutMs: number;
  maxOutputBytes: number;
  startTimeoutMs: number;
  memoryLimitBytes: number;
  jsHeapMb: number;
}

function resolveSettings(options: SandboxOptions): Settings {
  const timeoutMs = checkTimeoutMs(options.timeoutMs ?? 5000);
  return {
    size: Math.max(1, options.size ?? Math.min(2, cpus().length)),
    timeoutMs,
    maxOutputBytes: options.maxOutputBytes ?? 64 * 1024,
    startTimeoutMs: checkTimeoutMs(options.startTimeoutMs ?? 60_000, 'startTimeoutMs'),
    memoryLimitBytes: (options.memoryLimitMb ?? 512) * 1024 * 1024,
    // A backstop for JavaScript-side allocations; Python's memory is the wasm limit above.
    jsHeapMb: 256,
  };
}

const STATUSES: readonly RunStatus[] = ['ok', 'error', 'exit', 'memory'];

/** The runner writes `status\nexit code\nerror`; anything else is the child misbehaving. */
function parseVerdict(text: string): Pick<RunResult, 'status' | 'exitCode' | 'error'> | null {
  const [status, code, ...rest] = text.split('\n');
  if (!STATUSES.includes(status as RunStatus) || code === undefined || !/^(-?\d{1,10})?$/.test(code)) return null;
  const error = rest.join('\n').slice(0, 500);
  return { status: status as RunStatus, exitCode: code === '' ? null : Number(code), error: error || undefined };
}

function decode(base64: string): string {
  // A cut in the middle of a UTF-8 sequence is dropped rather than shown as garbage.
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.from(base64, 'base64')).replace(/\uFFFD$/, '');
}

function stopped(status: 'timeout' | 'memory' | 'error', error: string, durationMs: number): RunResult {
  return { status, exitCode: null, stdout: '', stderr: '', error, durationMs, truncated: false };
}

class Pool implements SandboxPool {
  readonly size: number;
  readonly isolation: Isolation;
  private readonly settings: Settings;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly readyWaiters: (() => void)[] = [];
  private readonly counters: SandboxStats = { runs: 0, timeouts: 0, workersStarted: 0, recycled: {}, startMs: [] };
  private nextId = 1;
  private closed = false;
  private startError: Error | null = null;
  private readonly script: Promise<string>;
  private scriptPath = '';

  constructor(options: SandboxOptions) {
    this.settings = resolveSettings(options);
    this.size = this.settings.size;
    this.script = childScript();
    // The probe needs the script's path for the permission flags; a bundle path is known at once.
    this.isolation = probeIsolation([pyodideDir()]);
  }

  run(code: string, opts: RunOptions = {}): Promise<RunResult> {
    this.counters.runs++;
    const timeoutMs = opts.timeoutMs === undefined ? this.settings.timeoutMs : checkTimeoutMs(opts.timeoutMs);
    return new Promise((resolve, reject) => this.submit({ kind: 'run', code, stdin: opts.stdin ?? '', timeoutMs, resolve, reject }));
  }

  compile(code: string): Promise<CompileResult> {
    // Compiling is fast, but a pathological program must still not hang the caller.
    const timeoutMs = Math.max(this.settings.timeoutMs, 10_000);
    return new Promise((resolve, reject) => this.submit({ kind: 'compile', code, timeoutMs, resolve, reject }));
  }

  async warm(): Promise<void> {
    if (this.closed) throw new Error('sandbox pool is closed');
    await this.pump(true);
    while (this.slots.some((s) => !s.ready)) await new Promise<void>((r) => this.readyWaiters.push(r));
    if (this.slots.length === 0) throw this.startError ?? new Error('sandbox children failed to start');
    for (const s of this.slots) this.idle(s);
  }

  stats(): SandboxStats {
    return { ...this.counters, recycled: { ...this.counters.recycled }, startMs: [...this.counters.startMs] };
  }

  async close(): Promise<void> {
    this.closed = true;
    const err = new Error('sandbox pool is closed');
    this.queue.splice(0).forEach((j) => j.reject(err));
    const all = this.slots.splice(0);
    for (const s of all) {
      s.job?.reject(err);
      // Held until its exit is seen, so that awaiting close() keeps the process alive until then.
      this.busy(s);
      this.retire(s);
    }
    await Promise.all(all.map((s) => (s.child.exitCode === null && s.child.signalCode === null ? new Promise((r) => s.child.once('exit', r)) : null)));
  }

  private submit(job: Job): void {
    if (this.closed) return job.reject(new Error('sandbox pool is closed'));
    this.queue.push(job);
    void this.pump();
  }

  /** Starts one child: spawn with the isolation layers, send it its key, wire its pipes. */
  private spawnSlot(): Slot {
    const { file, args } = childCommand(this.isolation, this.scriptPath, pyodideDir(), this.settings.jsHeapMb);
    const child = spawn(file, args, { env: {}, stdio: ['pipe', 'pipe', 'pipe'], detached: false });
    const slot: Slot = { child, key: randomBytes(32).toString('hex'), ready: false, job: null, jobId: 0, timer: null, startedAt: Date.now(), stderr: '', retired: false };
    this.counters.workersStarted++;
    this.slots.push(slot);
    child.stdout!.on('data', lineReader((line) => this.onLine(slot, line)));
    child.stderr!.on('data', (d: Buffer) => {
      // The end matters (Node prints the failing source line first, the error last).
      slot.stderr = (slot.stderr + d.toString()).slice(-2048);
    });
    child.stdin!.on('error', () => {}); // a dead child's pipe: its exit event reports it
    child.on('error', (e) => this.onExit(slot, `could not start: ${e.message}`));
    child.on('exit', (code, signal) => this.onExit(slot, signal ? `killed by ${signal}` : `exited with code ${code}`));
    this.write(slot, { type: 'init', key: slot.key, memoryLimitBytes: this.settings.memoryLimitBytes });
    slot.timer = setTimeout(() => this.failStart(slot, `sandbox child did not start within ${this.settings.startTimeoutMs} ms`), this.settings.startTimeoutMs);
    return slot;
  }

  private write(slot: Slot, req: ChildRequest): void {
    slot.child.stdin!.write(`${JSON.stringify(req)}\n`);
  }

  /** A line from a child: only a correctly signed reply to the job it holds counts; anything else kills it. */
  private onLine(slot: Slot, line: string): void {
    if (slot.retired) return;
    const reply = verifyLine(slot.key, line);
    if (!reply) return this.onViolation(slot, 'an unsigned or malformed line on the protocol pipe');
    if (reply.type === 'ready') return this.onReady(slot, reply.startMs);
    if (reply.type === 'fatal') return slot.ready ? this.onExit(slot, `failed: ${reply.error}`) : this.failStart(slot, reply.error);
    if (!slot.job || reply.id !== slot.jobId) return this.onViolation(slot, `a reply for job ${reply.id}, which it does not hold`);
    this.onDone(slot, reply);
  }

  private onReady(slot: Slot, startMs: number): void {
    this.clearTimer(slot);
    slot.ready = true;
    this.counters.startMs.push(startMs);
    this.readyWaiters.splice(0).forEach((w) => w());
    void this.pump();
    this.idle(slot);
  }

  private onDone(slot: Slot, reply: Extract<ChildReply, { type: 'done' }>): void {
    const job = slot.job!;
    this.clearTimer(slot);
    slot.job = null;
    const verdict = parseVerdict(reply.verdict);
    if (job.kind === 'compile') job.resolve(verdict?.status === 'ok' ? { ok: true, error: undefined } : { ok: false, error: verdict?.error ?? reply.recycle });
    else if (!verdict) job.resolve({ ...stopped('error', reply.recycle || 'sandbox failure: no verdict', reply.durationMs), stdout: decode(reply.stdout), stderr: decode(reply.stderr), truncated: reply.truncated });
    else job.resolve({ ...verdict, stdout: decode(reply.stdout), stderr: decode(reply.stderr), durationMs: reply.durationMs, truncated: reply.truncated });
    if (reply.recycle) {
      const reason = reply.recycle.replace(/ \(.*$/, '');
      this.counters.recycled[reason] = (this.counters.recycled[reason] ?? 0) + 1;
      return this.replace(slot);
    }
    this.idle(slot);
    void this.pump();
  }

  /** The child broke the protocol: whatever it holds gets an error verdict, and it is killed. */
  private onViolation(slot: Slot, what: string): void {
    const job = slot.job;
    slot.job = null;
    if (job?.kind === 'run') job.resolve(stopped('error', `sandbox protocol violation: ${what}`, Date.now() - slot.startedAt));
    else job?.resolve({ ok: false, error: `sandbox protocol violation: ${what}` });
    this.counters.recycled['protocol violation'] = (this.counters.recycled['protocol violation'] ?? 0) + 1;
    this.replace(slot);
  }

  /** A child that died on its own (JS heap exhausted, crash): its job gets a verdict, the slot a new child. */
  private onExit(slot: Slot, how: string): void {
    if (slot.retired) return;
    const job = slot.job;
    if (!slot.ready && !job) return this.failStart(slot, `sandbox child ${how}${slot.stderr ? `: ${slot.stderr.trim()}` : ''}`);
    slot.job = null;
    if (job) {
      const memory = /heap out of memory|Allocation failed/.test(slot.stderr);
      const error = memory ? 'sandbox child ran out of memory' : `sandbox child ${how}${slot.stderr ? `: ${slot.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
      if (job.kind === 'run') job.resolve(stopped(memory ? 'memory' : 'error', error, Date.now() - slot.startedAt));
      else job.resolve({ ok: false, error });
    }
    this.replace(slot);
  }

  /** A child that cannot start: reject what waits (retrying would loop on a broken install). */
  private failStart(slot: Slot, message: string): void {
    this.retire(slot);
    const err = new Error(message);
    this.startError = err;
    slot.job?.reject(err);
    if (this.slots.length === 0) this.queue.splice(0).forEach((j) => j.reject(err));
    this.readyWaiters.splice(0).forEach((w) => w());
  }

  private retire(slot: Slot): void {
    slot.retired = true;
    this.clearTimer(slot);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    slot.child.kill('SIGKILL');
  }

  private replace(slot: Slot): void {
    this.retire(slot);
    if (!this.closed) void this.pump(true);
  }

  private clearTimer(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
  }

  /** Idle children do not keep the process alive, so a CLI that forgets close() still exits. */
  private idle(slot: Slot): void {
    if (slot.job) return;
    slot.child.unref();
    for (const s of [slot.child.stdin, slot.child.stdout, slot.child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
  }

  private busy(slot: Slot): void {
    slot.child.ref();
    for (const s of [slot.child.stdin, slot.child.stdout, slot.child.stderr]) (s as unknown as { ref?: () => void } | null)?.ref?.();
  }

  /** Hands queued jobs to ready idle children; starts children (up to size) while jobs wait. */
  private async pump(refill = false): Promise<void> {
    if (!this.scriptPath) {
      try {
        this.scriptPath = await this.script;
      } catch (e) {
        this.startError = new Error(`sandbox child script could not be built: ${(e as Error).message}`);
        this.queue.splice(0).forEach((j) => j.reject(this.startError!));
        return;
      }
    }
    if (this.closed) return;
    for (const slot of this.slots) {
      if (!slot.ready || slot.job || this.queue.length === 0) continue;
      this.dispatch(slot, this.queue.shift()!);
    }
    const starting = this.slots.filter((s) => !s.ready).length;
    const wanted = refill ? this.size : Math.min(this.size, this.slots.length + Math.max(0, this.queue.length - starting));
    while (this.slots.length < wanted) this.spawnSlot();
  }

  private dispatch(slot: Slot, job: Job): void {
    const id = this.nextId++;
    slot.job = job;
    slot.jobId = id;
    slot.startedAt = Date.now();
    this.busy(slot);
    if (job.kind === 'run') this.write(slot, { type: 'run', id, code: job.code, stdin: job.stdin, maxOutputBytes: this.settings.maxOutputBytes });
    else this.write(slot, { type: 'compile', id, code: job.code });
    slot.timer = setTimeout(() => this.onTimeout(slot, job), job.timeoutMs);
  }

  private onTimeout(slot: Slot, job: Job): void {
    slot.job = null;
    const error = `wall-clock limit of ${job.timeoutMs} ms reached; sandbox child killed`;
    if (job.kind === 'run') {
      this.counters.timeouts++;
      job.resolve(stopped('timeout', error, Date.now() - slot.startedAt));
    } else job.resolve({ ok: false, error: `compile: ${error}` });
    this.replace(slot);
  }
}

export function createSandboxPool(options: SandboxOptions = {}): SandboxPool {
  return new Pool(options);
}
