// The clean state of a sandbox child's interpreter, captured once before the first program and put back
// after each one. Pyodide's state lives in four places: wasm linear memory (all of CPython), the hiwire
// table of JavaScript references, a few wasm globals, and Emscripten's in-memory file system and open
// streams. A program that reached no JavaScript (imports.ts) can have changed only these, so restoring
// them gives the next program the interpreter the first one saw. What cannot be put back (a changed file
// outside the scratch folders, a changed stream, a grown table) is reported, and the child is replaced.
import { Buffer } from 'node:buffer';

interface FsNode {
  mode: number;
  contents?: unknown;
  usedBytes?: number;
}
interface FsStream {
  fd: number;
}
export interface EmscriptenFs {
  readdir(path: string): string[];
  lookupPath(path: string, opts: { follow: boolean }): { node: FsNode };
  readFile(path: string): Uint8Array;
  readlink(path: string): string;
  isDir(mode: number): boolean;
  isFile(mode: number): boolean;
  isLink(mode: number): boolean;
  rmdir(path: string): void;
  unlink(path: string): void;
  mkdirTree(path: string): void;
  chdir(path: string): void;
  cwd(): string;
  close(stream: FsStream): void;
  writeFile(path: string, data: string): void;
  streams: (FsStream | null | undefined)[];
}
export interface PyodideModule {
  HEAPU8: Uint8Array;
  FS: EmscriptenFs;
  __hiwire_get(i: number): unknown;
  __hiwire_set(i: number, v: unknown): number;
  __hiwire_immortal_get(i: number): unknown;
  ___stack_pointer?: { value: number };
  wasmTable?: { length: number };
}

interface FileRecord {
  node: FsNode;
  mode: number;
  bytes: Uint8Array | null;
  link: string | null;
}

/** Folders a program may write to; emptied after every program. Everything else must come back unchanged. */
export interface CleanStateOptions {
  scratch: string[];
  home: string;
}

export interface CleanState {
  /** Why the child cannot be reset ('' when it can); empties the scratch folders and closes new streams. */
  tidyFiles(): string;
  /** Puts memory, hiwire table and stack pointer back; '' when done, else why not. */
  restoreInterpreter(): string;
}

function countUntilThrow(get: (i: number) => unknown, from = 0): number {
  for (let i = from; ; i++) {
    try {
      get(i);
    } catch {
      return i;
    }
  }
}

function fileContent(fs: EmscriptenFs, path: string, node: FsNode): Uint8Array {
  if (node.contents instanceof Uint8Array) return node.contents.subarray(0, node.usedBytes ?? node.contents.length);
  return fs.readFile(path);
}

/** Every path of the file system except /proc (generated) and the scratch folders' contents. */
function walk(fs: EmscriptenFs, scratch: Set<string>): Map<string, FileRecord> {
  const out = new Map<string, FileRecord>();
  const visit = (path: string): void => {
    const { node } = fs.lookupPath(path, { follow: false });
    const link = fs.isLink(node.mode) ? fs.readlink(path) : null;
    const file = fs.isFile(node.mode);
    out.set(path, { node, mode: node.mode, bytes: file ? fileContent(fs, path, node) : null, link });
    if (!fs.isDir(node.mode) || scratch.has(path)) return;
    for (const name of fs.readdir(path)) {
      if (name === '.' || name === '..') continue;
      const child = path === '/' ? `/${name}` : `${path}/${name}`;
      if (child !== '/proc') visit(child);
    }
  };
  visit('/');
  return out;
}

function emptyFolder(fs: EmscriptenFs, path: string): void {
  for (const name of fs.readdir(path)) {
    if (name === '.' || name === '..') continue;
    const child = `${path}/${name}`;
    const { node } = fs.lookupPath(child, { follow: false });
    if (fs.isDir(node.mode)) {
      emptyFolder(fs, child);
      fs.rmdir(child);
    } else fs.unlink(child);
  }
}

function sameFiles(saved: Map<string, FileRecord>, now: Map<string, FileRecord>): string {
  if (saved.size !== now.size) return `the file system has ${now.size - saved.size > 0 ? 'new' : 'missing'} entries`;
  for (const [path, was] of saved) {
    const is = now.get(path);
    if (!is) return `${path} was removed`;
    if (is.node !== was.node || is.mode !== was.mode || is.link !== was.link) return `${path} was replaced or changed mode`;
    if (was.bytes && (!is.bytes || Buffer.compare(was.bytes, is.bytes) !== 0)) return `${path} was modified`;
  }
  return '';
}

export function captureCleanState(mod: PyodideModule, opts: CleanStateOptions): CleanState {
  const fs = mod.FS;
  const scratch = new Set(opts.scratch);
  const files = walk(fs, scratch);
  // Keep private copies: the live file contents are what a program may change.
  for (const rec of files.values()) if (rec.bytes) rec.bytes = rec.bytes.slice();
  const streams = [...fs.streams];
  const memory = mod.HEAPU8.slice();
  const hiwire: unknown[] = [];
  for (let i = 0, n = countUntilThrow((j) => mod.__hiwire_get(j)); i < n; i++) hiwire.push(mod.__hiwire_get(i));
  const immortals = countUntilThrow((j) => mod.__hiwire_immortal_get(j));
  const stackPointer = mod.___stack_pointer?.value;
  const tableLength = mod.wasmTable?.length;

  function tidyFiles(): string {
    for (let fd = 0; fd < fs.streams.length; fd++) {
      const s = fs.streams[fd];
      if (s && s !== streams[fd]) {
        if (streams[fd]) return `stream ${fd} was replaced`;
        fs.close(s);
      } else if (!s && streams[fd]) return `stream ${fd} was closed`;
    }
    if (fs.cwd() !== opts.home) fs.chdir(opts.home);
    const changed = sameFiles(files, walk(fs, scratch));
    if (changed) return changed;
    for (const dir of scratch) emptyFolder(fs, dir);
    return '';
  }

  function restoreInterpreter(): string {
    if (mod.wasmTable && mod.wasmTable.length !== tableLength) return 'the wasm function table grew';
    if (countUntilThrow((j) => mod.__hiwire_immortal_get(j), immortals) !== immortals) return 'new immortal JavaScript references';
    if (countUntilThrow((j) => mod.__hiwire_get(j), hiwire.length) !== hiwire.length) return 'the hiwire table grew';
    const heap = mod.HEAPU8;
    if (heap.length > memory.length) heap.fill(0, memory.length);
    heap.set(memory);
    for (let i = 0; i < hiwire.length; i++) if (mod.__hiwire_get(i) !== hiwire[i] && mod.__hiwire_set(i, hiwire[i]) < 0) return `hiwire slot ${i} cannot be restored`;
    if (mod.___stack_pointer && stackPointer !== undefined) mod.___stack_pointer.value = stackPointer;
    return '';
  }

  return { tidyFiles, restoreInterpreter };
}
