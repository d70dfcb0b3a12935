// The wasm-to-JavaScript boundary of Pyodide inside a sandbox child. Every import of the wasm module that a
// plain Python program does not need (the JsProxy and hiwire bridge, ctypes' ffi calls, dlopen/dlsym,
// sockets, timers, Emscripten's script and browser hooks, ...) is wrapped: a call to one while a program
// runs marks the child tainted, and a tainted child is replaced after that program instead of being reset.
// What stays unwrapped touches only wasm memory and Emscripten's in-memory file system, both of which the
// harness puts back after every program (cleanstate.ts).

/** Imports a plain Python program uses: file system calls, clocks, randomness, heap growth, the call trampoline. */
const PLAIN_PYTHON = new Set([
  '_PyEM_TrampolineCall_JS',
  '_Py_CheckEmscriptenSignals_Helper',
  'fd_write', 'fd_read', 'fd_seek', 'fd_close', 'fd_fdstat_get', 'fd_sync', 'fd_pread', 'fd_pwrite',
  'clock_time_get', 'clock_res_get', 'random_get', 'environ_sizes_get', 'environ_get', 'proc_exit',
  '__syscall_openat', '__syscall_fstat64', '__syscall_stat64', '__syscall_lstat64', '__syscall_newfstatat',
  '__syscall_getcwd', '__syscall_getdents64', '__syscall_mkdirat', '__syscall_unlinkat', '__syscall_rmdir',
  '__syscall_renameat', '__syscall_readlinkat', '__syscall_faccessat', '__syscall_fcntl64', '__syscall_dup',
  '__syscall_dup3', '__syscall_ftruncate64', '__syscall_truncate64', '__syscall_chdir', '__syscall_fchdir',
  '__syscall_chmod', '__syscall_fchmod', '__syscall_fchmodat2', '__syscall_utimensat', '__syscall_symlinkat',
  '__syscall_statfs64', '__syscall_fstatfs64', '__syscall_fdatasync', '__syscall_fadvise64', '__syscall_fallocate',
  '__syscall_getuid32_js',
  'emscripten_date_now', 'emscripten_get_now', 'emscripten_get_heap_max', 'emscripten_resize_heap',
  '_tzset_js', '_localtime_js', '_gmtime_js', '_mktime_js', '_timegm_js', '_abort_js', '_emscripten_get_progname',
  // Pyodide's error-marker helpers, installed after these wrappers and called on any failed conversion.
  'Jsv_GetError_import', 'JsvError_Check',
]);

export interface ImportGuard {
  /** Starts or stops watching (only a program's own run is watched, not the harness's setup). */
  arm(on: boolean): void;
  /** Names of the non-plain imports called while armed since the last reset. */
  taint(): string[];
  reset(): void;
}

type ImportObject = Record<string, Record<string, unknown>>;

/**
 * Wraps the imports in place. Heap growth past `memoryLimitBytes` is refused, so Python sees a failed
 * malloc (MemoryError) rather than the process growing without bound.
 */
export function guardImports(imports: ImportObject, memoryLimitBytes: number): ImportGuard {
  let armed = false;
  const seen: string[] = [];
  for (const ns of Object.keys(imports)) {
    const table = imports[ns]!;
    for (const name of Object.keys(table)) {
      const original = table[name];
      if (typeof original !== 'function') continue;
      const fn = original as ((...args: unknown[]) => unknown) & { sig?: string };
      let wrapped: typeof fn | null = null;
      if (name === 'emscripten_resize_heap') wrapped = (size) => (Number(size) > memoryLimitBytes ? 0 : fn(size));
      else if (name === 'emscripten_get_heap_max') wrapped = () => memoryLimitBytes;
      else if (!PLAIN_PYTHON.has(name)) {
        wrapped = function (this: unknown, ...args: unknown[]): unknown {
          if (armed && seen.length < 16 && !seen.includes(name)) seen.push(name);
          return fn.apply(this, args);
        };
      }
      if (!wrapped) continue;
      // Emscripten puts imports into the function table by their signature when C takes their address.
      if (fn.sig) wrapped.sig = fn.sig;
      table[name] = wrapped;
    }
  }
  return {
    arm: (on) => {
      armed = on;
    },
    taint: () => [...seen],
    reset: () => {
      seen.length = 0;
    },
  };
}
