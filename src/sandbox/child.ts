// A sandbox child process: loads Pyodide once, closes its doors, captures the interpreter's clean state,
// then runs one program at a time and puts everything back after each. Started by pool.ts through
// isolation.ts (own process, empty environment, Node's permission model, no network, an unprivileged
// user where possible). It must run as plain JavaScript (dist/workers/sandbox.cjs, or a bundle made at
// pool start from source): the permission model lets it read only this file and Pyodide's folder.
import { Buffer } from 'node:buffer';
import { constants as fsConstants, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { PyodideAPI } from 'pyodide';
import { captureCleanState, type CleanState, type PyodideModule } from './cleanstate.js';
import { guardImports, type ImportGuard } from './imports.js';
import { lockDownJavaScript } from './lockdown.js';
import { lineReader, signLine, type ChildInit, type ChildReply, type ChildRequest } from './protocol.js';
import { HARDEN_PY, JOB_DIR, RUNNER_PY } from './python.js';

const HOME = '/home/pyodide';
const SCRATCH = ['/tmp', HOME, JOB_DIR];
// Bound now: after lockdown the global `process` is gone.
const exitNow = process.exit.bind(process);
const stdin = process.stdin;
let key = '';

function send(reply: ChildReply): void {
  writeSync(1, signLine(key, reply));
}

/** Output of one run: bytes kept up to the limit, the rest only counted. Decoding is the parent's job. */
class Capture {
  private chunks: Uint8Array[] = [];
  private kept = 0;
  truncated = false;
  constructor(private readonly limit: number) {}
  write = (buf: Uint8Array): number => {
    const room = this.limit - this.kept;
    if (room > 0) {
      const part = buf.length <= room ? buf : buf.subarray(0, room);
      this.chunks.push(part.slice());
      this.kept += part.length;
    }
    if (buf.length > room) this.truncated = true;
    return buf.length;
  };
  base64(): string {
    return Buffer.concat(this.chunks).toString('base64');
  }
}

interface Internals {
  _api: Record<string, unknown>;
  _module: PyodideModule & {
    SOCKFS: { createSocket: (...a: unknown[]) => unknown };
    FS: { filesystems: Record<string, unknown>; ErrnoError: new (errno: number) => Error };
    _malloc(n: number): number;
    stringToUTF8(s: string, ptr: number, max: number): void;
    _PyRun_SimpleString(ptr: number): number;
  };
}

type PyodideFactory = (settings: { instantiateWasm: (imports: Record<string, Record<string, unknown>>, done: unknown) => unknown }) => unknown;

/** Loads Pyodide with its wasm imports guarded. NODEFS reads fs constants through process.binding, which the
 *  permission model refuses: that one lookup is answered here. */
async function loadGuarded(dir: string, memoryLimitBytes: number): Promise<{ py: PyodideAPI; guard: ImportGuard }> {
  const proc = process as unknown as { binding: (name: string) => unknown };
  const binding = proc.binding;
  proc.binding = (name: string) => (name === 'constants' ? { fs: fsConstants } : binding(name));
  const { loadPyodide } = (await import(pathToFileURL(`${dir}/pyodide.mjs`).href)) as typeof import('pyodide');
  const factory = ((await import(pathToFileURL(`${dir}/pyodide.asm.mjs`).href)) as { default: PyodideFactory }).default;
  let guard: ImportGuard | null = null;
  const createPyodideModule: PyodideFactory = (settings) => {
    const instantiate = settings.instantiateWasm;
    settings.instantiateWasm = (imports, done) => {
      guard = guardImports(imports, memoryLimitBytes);
      return instantiate(imports, done);
    };
    return factory(settings);
  };
  const py = await loadPyodide({
    indexURL: `${dir}/`,
    env: { HOME, LANG: 'C.UTF-8', PATH: '/' },
    // `import js` would expose this empty object instead of the child's globals.
    jsglobals: Object.create(null) as object,
    stdin: () => null,
    args: [],
    createPyodideModule,
  } as Parameters<typeof loadPyodide>[0]);
  proc.binding = binding;
  if (!guard) throw new Error('Pyodide did not instantiate its wasm through the guarded hook');
  return { py, guard };
}

/** Removes every way Pyodide offers to reach the host: node mounts, sockets, package loading, the js modules. */
function closeHostDoors(py: PyodideAPI): void {
  const { _module: mod, _api: internal } = py as unknown as Internals;
  const EACCES = 2; // Emscripten's errno numbering
  mod.SOCKFS.createSocket = () => {
    throw new mod.FS.ErrnoError(EACCES);
  };
  for (const fs of ['NODEFS', 'NODESOCKFS', 'NATIVEFS_ASYNC', 'PROXYFS', 'WORKERFS', 'IDBFS']) delete mod.FS.filesystems[fs];
  const api = py as unknown as Record<string, unknown>;
  for (const k of ['mountNodeFS', 'mountNativeFS', 'useNodeSockFS', 'loadPackage', 'loadPackagesFromImports']) {
    try {
      delete api[k];
    } catch {
      // frozen: the Python side still blocks the module that would reach it
    }
  }
  for (const k of ['loadBinaryFile', 'loadDynlib']) internal[k] = () => Promise.reject(new Error('loading files is disabled in the sandbox'));
  for (const name of ['js', 'pyodide_js']) {
    try {
      py.unregisterJsModule(name);
    } catch {
      // not registered under this name in this Pyodide version
    }
  }
  py.runPython(HARDEN_PY);
}

interface Harness {
  mod: Internals['_module'];
  guard: ImportGuard;
  clean: CleanState;
  command: number;
  out: Capture;
  err: Capture;
}

async function start(init: ChildInit, dir: string): Promise<Harness> {
  const t0 = performance.now();
  const { py, guard } = await loadGuarded(dir, init.memoryLimitBytes);
  const harness = { guard, out: new Capture(0), err: new Capture(0) } as Harness;
  py.setStdout({ write: (b: Uint8Array) => harness.out.write(b) });
  py.setStderr({ write: (b: Uint8Array) => harness.err.write(b) });
  py.setStdin({ stdin: () => null });
  closeHostDoors(py);
  py.runPython(RUNNER_PY);
  const mod = (py as unknown as Internals)._module;
  mod.FS.mkdirTree(JOB_DIR);
  const cmd = '_unitrace_job()';
  harness.command = mod._malloc(cmd.length + 1);
  mod.stringToUTF8(cmd, harness.command, cmd.length + 1);
  harness.mod = mod;
  // One warm-up job, so lazily created interpreter state exists in the snapshot rather than in each run.
  runJob(harness, 'run', 'pass', '', 0);
  lockDownJavaScript();
  harness.clean = captureCleanState(mod, { scratch: SCRATCH, home: HOME });
  guard.reset();
  send({ type: 'ready', startMs: performance.now() - t0 });
  return harness;
}

/** Runs one job; returns the runner's verdict, or throws when the interpreter itself failed. */
function runJob(h: Harness, mode: 'run' | 'compile', code: string, input: string, maxOutputBytes: number): string {
  const fs = h.mod.FS;
  fs.writeFile(`${JOB_DIR}/mode`, mode);
  fs.writeFile(`${JOB_DIR}/code`, code);
  fs.writeFile(`${JOB_DIR}/stdin`, input);
  h.out = new Capture(maxOutputBytes);
  h.err = new Capture(maxOutputBytes);
  h.guard.arm(true);
  let rc: number;
  try {
    rc = h.mod._PyRun_SimpleString(h.command);
  } finally {
    h.guard.arm(false);
  }
  if (rc !== 0) throw new Error('the runner raised');
  return new TextDecoder().decode(fs.readFile(`${JOB_DIR}/verdict`));
}

/** A reset step that throws (a file-system error, say) means the child cannot be reset. */
function attempt(step: () => string): string {
  try {
    return step();
  } catch (e) {
    return `reset failed: ${String((e as Error)?.message ?? e).split('\n')[0] || 'error'}`;
  }
}

function handle(h: Harness, req: ChildRequest, memoryLimitBytes: number): void {
  if (req.type === 'init') return;
  const startedAt = performance.now();
  let verdict = '';
  let recycle = '';
  try {
    verdict = req.type === 'run' ? runJob(h, 'run', req.code, req.stdin, req.maxOutputBytes) : runJob(h, 'compile', req.code, '', 0);
  } catch (e) {
    // The interpreter failed (wasm stack overflow, abort): report it, never reuse this child.
    recycle = `sandbox failure: ${String((e as Error)?.message ?? e).split('\n')[0]}`;
  }
  const taint = h.guard.taint();
  if (!recycle && taint.length) recycle = `the program reached JavaScript (${taint.join(', ')})`;
  if (!recycle) recycle = attempt(() => h.clean.tidyFiles());
  // wasm memory never shrinks: a child that grew close to its limit is replaced.
  if (!recycle && h.mod.HEAPU8.length > 0.75 * memoryLimitBytes) recycle = 'memory near its limit';
  if (!recycle) recycle = attempt(() => h.clean.restoreInterpreter());
  const { out, err } = h;
  send({ type: 'done', id: req.id, verdict, stdout: out.base64(), stderr: err.base64(), truncated: out.truncated || err.truncated, durationMs: performance.now() - startedAt, recycle });
  // Exit before returning to the event loop, so nothing a tainted program scheduled ever runs.
  if (recycle) exitNow(0);
  h.guard.reset();
}

function main(): void {
  const dir = process.argv[2];
  // Node cannot print an uncaught error once the host globals are gone; report it on the protocol pipe.
  process.on('uncaughtException', (e: Error) => {
    send({ type: 'fatal', error: `sandbox child failed: ${e?.stack ?? e}` });
    exitNow(1);
  });
  if (!dir) throw new Error('usage: child <pyodide folder>');
  let harness: Promise<Harness> | null = null;
  let limit = 0;
  stdin.on(
    'data',
    lineReader((line) => {
      const req = JSON.parse(line) as ChildRequest;
      if (req.type === 'init') {
        key = req.key;
        limit = req.memoryLimitBytes;
        harness = start(req, dir);
        harness.catch((e: Error) => {
          send({ type: 'fatal', error: `sandbox child failed to start: ${e?.message ?? e}` });
          exitNow(1);
        });
        return;
      }
      void harness?.then((h) => {
        try {
          handle(h, req, limit);
        } catch (e) {
          // A harness failure: say what it was (Node could not print it once the globals are gone).
          send({ type: 'fatal', error: `sandbox child failed: ${(e as Error)?.stack ?? e}` });
          exitNow(1);
        }
      });
    }),
  );
  stdin.on('end', () => exitNow(0));
}

main();
