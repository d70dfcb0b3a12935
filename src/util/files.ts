// File-system checks that fail fast with the path and the reason: an input that is a folder, an output
// folder under a parent that cannot hold one, a JSON file that does not parse.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Why `file` cannot be read as an input file, or null when it can. */
export function inputFileProblem(file: string): string | null {
  if (!existsSync(file)) return `${file}: no such file`;
  if (statSync(file).isDirectory()) return `${file}: is a directory, not a file`;
  return null;
}

/** Throws unless `file` exists and is not a folder; `what` says what the file was meant to hold. */
export function checkInputFile(file: string, what?: string): void {
  const problem = inputFileProblem(file);
  if (problem) throw new Error(what ? `${problem} (expected ${what})` : problem);
}

/**
 * Creates a folder and its missing parents one level at a time. Node's recursive mkdir loops forever
 * under a parent that answers ENOENT for a name it refuses (/proc, /sys); this stops at the first refusal
 * and names the folder and the parent at fault.
 */
export function makeDirs(dir: string): void {
  const target = resolve(dir);
  const missing: string[] = [];
  let at = target;
  while (!existsSync(at)) {
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  if (existsSync(at) && !statSync(at).isDirectory()) throw new Error(`cannot create ${dir}: ${at} is a file, not a folder`);
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EEXIST' && statSync(d).isDirectory()) continue; // made by someone else meanwhile
      throw new Error(`cannot create ${dir}: ${dirname(d)} does not accept a new folder (${err.code ?? err.message})`);
    }
  }
}

/** Parses a JSON file; a read or syntax error names the file (and `what` it should be). */
export function readJsonFile<T = unknown>(file: string, what = 'JSON'): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(err.code === 'EISDIR' ? `${file}: is a directory, not a ${what} file` : `${file}: cannot read ${what} (${err.code ?? err.message})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    const why = text.trim() === '' ? 'the file is empty' : (e as Error).message;
    throw new Error(`${file}: not valid ${what} (${why}; truncated or corrupt?)`);
  }
}

/** True while a process with this id exists on this machine (EPERM: it exists but is not ours). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
