// A sandbox worker: loads Pyodide once, closes its doors to the host, then runs one program at a time,
// each with fresh globals and captured, size-limited stdout/stderr. The pool enforces the wall-clock limit
// by terminating this thread; the memory limit is enforced here, on the growth of Pyodide's wasm memory.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { loadPyodide, type PyodideAPI } from 'pyodide';
import { HARDEN_PY, RUNNER_PY } from './python.js';
import type { WorkerReply, WorkerRequest, WorkerSettings } from './protocol.js';
import type { RunStatus } from './types.js';
import { fromRoot } from '../util/paths.js';

const settings = workerData as WorkerSettings;
const port = parentPort!;

/** wasm memory cannot be given a maximum from outside, so growth past the limit fails like malloc would. */
function capWasmMemory(limitBytes: number): void {
  // The ES2022 lib has no WebAssembly types; this is the one member used.
  interface WasmMemory {
    buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  const proto = (globalThis as unknown as { WebAssembly: { Memory: { prototype: WasmMemory } } }).WebAssembly.Memory.prototype;
  const grow = proto.grow;
  proto.grow = function (this: WasmMemory, pages: number): number {
    if (this.buffer.byteLength + pages * 65536 > limitBytes) throw new RangeError('sandbox memory limit');
    return grow.call(this, pages);
  };
}

/**
 * Emscripten's system() (Python's os.system) spawns a host shell through node:child_process. Nothing in a
 * sandbox worker may start processes, so every entry point of that module is replaced in this thread.
 */
function disableChildProcesses(): void {
  const cp = createRequire(fromRoot('package.json'))('node:child_process') as Record<string, unknown>;
  const denied = (): never => {
    throw new Error('starting processes is disabled in the sandbox');
  };
  for (const key of Object.keys(cp)) {
    if (typeof cp[key] !== 'function' || key === 'ChildProcess') continue;
    // spawnSync answers "command not found" (exit 127) so system() fails inside Python instead of aborting wasm.
    cp[key] = key === 'spawnSync' ? () => ({ status: 127, signal: null, pid: 0, output: [], stdout: null, stderr: null }) : denied;
  }
}

/** Output of one run: bytes are kept up to the limit, the rest only counted. */
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
  text(): string {
    const all = new Uint8Array(this.kept);
    let at = 0;
    for (const c of this.chunks) {
      all.set(c, at);
      at += c.length;
    }
    // A cut in the middle of a UTF-8 sequence is dropped rather than shown as garbage.
    return new TextDecoder('utf-8', { fatal: false }).decode(all).replace(/\uFFFD$/, '');
  }
}

interface Internals {
  _api: Record<string, unknown>;
  _module: {
    HEAPU8: Uint8Array;
    SOCKFS: { createSocket: (...a: unknown[]) => unknown };
    FS: { filesystems: Record<string, unknown>; ErrnoError: new (errno: number) => Error };
  };
}

type PyDict = { get(k: string): unknown; destroy(): void };

/** Removes every way Pyodide offers to reach the host: node mounts, sockets, the js and pyodide_js modules. */
function closeHostDoors(py: PyodideAPI, ns: PyDict): void {
  const mod = (py as unknown as Internals)._module;
  const EACCES = 2; // Emscripten's errno numbering
  mod.SOCKFS.createSocket = () => {
    throw new mod.FS.ErrnoError(EACCES);
  };
  for (const fs of ['NODEFS', 'NODESOCKFS', 'NATIVEFS_ASYNC', 'PROXYFS', 'WORKERFS', 'IDBFS']) delete mod.FS.filesystems[fs];
  const api = py as unknown as Record<string, unknown>;
  for (const key of ['mountNodeFS', 'mountNativeFS', 'useNodeSockFS', 'loadPackage', 'loadPackagesFromImports']) {
    try {
      delete api[key];
    } catch {
      // A frozen property stays; the Python side still blocks the module that would reach it.
    }
  }
  // Package loading reads host files by path; nothing may be loaded after start.
  const internal = (py as unknown as Internals)._api;
  for (const key of ['loadBinaryFile', 'loadDynlib']) internal[key] = () => Promise.reject(new Error('loading files is disabled in the sandbox'));
  for (const name of ['js', 'pyodide_js']) {
    try {
      py.unregisterJsModule(name);
    } catch {
      // not registered under this name in this Pyodide version
    }
  }
  py.runPython(HARDEN_PY, { globals: ns as never });
}

/**
 * After Pyodide is loaded no JavaScript needs compiling from strings: take eval and Function away, so a
 * Python program that got hold of a JS object still cannot run JS code. Pyodide's Node start-up also leaves
 * a global `require` (fs, ws, child_process) behind; remove it.
 */
function lockDownJavaScript(): void {
  delete (globalThis as { require?: unknown }).require;
  Object.defineProperty(globalThis, 'eval', { value: undefined, writable: false, configurable: false });
  const ctors = [
    Function,
    Object.getPrototypeOf(async function () {}).constructor,
    Object.getPrototypeOf(function* () {}).constructor,
    Object.getPrototypeOf(async function* () {}).constructor,
  ] as { prototype: object }[];
  for (const C of ctors) Object.defineProperty(C.prototype, 'constructor', { value: undefined, writable: false, configurable: false });
}

type PyList = { toJs(): unknown[]; destroy(): void };

async function main(): Promise<void> {
  const t0 = performance.now();
  capWasmMemory(settings.memoryLimitBytes);
  disableChildProcesses();
  let out = new Capture(0);
  let err = new Capture(0);
  const py = await loadPyodide({
    // Pyodide cannot find its own files from inside an eval'd worker: point at the package.
    indexURL: dirname(createRequire(fromRoot('package.json')).resolve('pyodide/package.json')) + '/',
    // Only these variables, never the host's.
    env: { HOME: '/home/pyodide', LANG: 'C.UTF-8', PATH: '/' },
    // `import js` would expose this empty object instead of the worker's globals.
    jsglobals: Object.create(null) as object,
    stdin: () => null,
    args: [],
  });
  py.setStdout({ write: (b: Uint8Array) => out.write(b) });
  py.setStderr({ write: (b: Uint8Array) => err.write(b) });
  py.setStdin({ stdin: () => null });
  const ns = py.toPy({}) as unknown as PyDict;
  closeHostDoors(py, ns);
  py.runPython(RUNNER_PY, { globals: ns as never });
  const run = ns.get('run') as (code: string, stdin: string) => PyList;
  const compileCheck = ns.get('compile_check') as (code: string) => string | undefined;
  const heap = (py as unknown as Internals)._module;
  lockDownJavaScript();
  send({ type: 'ready', startMs: performance.now() - t0 });

  port.on('message', (req: WorkerRequest) => {
    const start = performance.now();
    if (req.type === 'compile') {
      const error = compileCheck(req.code);
      send({ type: 'compiled', id: req.id, ok: error == null, error: error ?? undefined });
      return;
    }
    out = new Capture(req.maxOutputBytes);
    err = new Capture(req.maxOutputBytes);
    let status: RunStatus = 'error';
    let exitCode: number | null = null;
    let error: string | null = null;
    let broken = false;
    try {
      const r = run(req.code, req.stdin);
      let healthy: boolean;
      [status, exitCode, error, healthy] = r.toJs() as [RunStatus, number | null, string | null, boolean];
      r.destroy();
      broken = !healthy;
    } catch (e) {
      // The interpreter itself failed (e.g. the wasm stack overflowed): report it and get replaced.
      broken = true;
      error = `sandbox failure: ${String((e as Error)?.message ?? e).split('\n')[0]}`;
    }
    // wasm memory never shrinks: a worker that grew close to its limit is replaced.
    const nearLimit = heap.HEAPU8.length > 0.75 * settings.memoryLimitBytes;
    send({
      type: 'result',
      id: req.id,
      status,
      exitCode,
      error: error ?? undefined,
      stdout: out.text(),
      stderr: err.text(),
      truncated: out.truncated || err.truncated,
      durationMs: performance.now() - start,
      recycle: broken || nearLimit,
    });
  });
}

function send(msg: WorkerReply): void {
  port.postMessage(msg);
}

main().catch((e: Error) => send({ type: 'fatal', error: `sandbox worker failed to start: ${e?.message ?? e}` }));
