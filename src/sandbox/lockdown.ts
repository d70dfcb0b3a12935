// The JavaScript side of a sandbox child once Pyodide is loaded: nothing a program may reach there leads
// anywhere. The built-in objects and their prototypes are frozen (a program cannot patch
// String.prototype.replace or define a getter on Object.prototype), and the host objects Node puts on the
// global (process, require, Buffer, fetch, ...) are removed, so even a program that obtains globalThis
// through a proxy finds only inert language built-ins. Node's --frozen-intrinsics cannot be used: Emscripten
// sets properties on Math functions while Pyodide loads, so the freeze is done here, after loading.

const INTRINSICS = [
  'Object', 'Function', 'Array', 'String', 'Number', 'Boolean', 'Symbol', 'BigInt', 'Date', 'RegExp', 'JSON',
  'Math', 'Reflect', 'Proxy', 'Promise', 'Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'FinalizationRegistry',
  'Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError', 'AggregateError',
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Atomics', 'WebAssembly', 'Int8Array', 'Uint8Array',
  'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array',
  'BigInt64Array', 'BigUint64Array', 'TextDecoder', 'TextEncoder', 'Intl', 'encodeURIComponent', 'decodeURIComponent',
  'encodeURI', 'decodeURI', 'escape', 'unescape', 'isFinite', 'isNaN', 'parseFloat', 'parseInt',
] as const;

/** Globals Pyodide's runtime still reads after loading; they stay (frozen), everything else non-standard goes. */
const KEPT = new Set<string>(['globalThis', 'undefined', 'NaN', 'Infinity', 'performance', 'setTimeout', 'clearTimeout', 'queueMicrotask', ...INTRINSICS]);

function deepFreeze(root: unknown): void {
  const seen = new Set<unknown>();
  const stack = [root];
  while (stack.length) {
    const o = stack.pop();
    if ((typeof o !== 'object' && typeof o !== 'function') || o === null || seen.has(o)) continue;
    seen.add(o);
    Object.freeze(o);
    stack.push(Object.getPrototypeOf(o));
    for (const key of Reflect.ownKeys(o as object)) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (!d) continue;
      if ('value' in d) stack.push(d.value);
      else stack.push(d.get, d.set);
    }
  }
}

/** Removes the host's globals, then freezes what remains (the global object included). */
export function lockDownJavaScript(): void {
  const g = globalThis as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(g)) {
    if (KEPT.has(key)) continue;
    try {
      delete g[key];
    } catch {
      // non-configurable: frozen below
    }
  }
  for (const key of Object.getOwnPropertyNames(g)) if (!KEPT.has(key) && key in g) g[key] = undefined;
  // The constructors of generator and async functions are reachable only through their prototypes.
  const hidden = [function* () {}, async function () {}, async function* () {}].map((f) => Object.getPrototypeOf(f));
  const iterators = [[][Symbol.iterator](), new Map()[Symbol.iterator](), ''[Symbol.iterator](), /x/[Symbol.matchAll]('')];
  deepFreeze([...INTRINSICS.map((k) => g[k]), ...hidden, ...iterators.map((i) => Object.getPrototypeOf(i))]);
  deepFreeze([g.performance, g.setTimeout, g.clearTimeout, g.queueMicrotask]);
  Object.freeze(g);
}
