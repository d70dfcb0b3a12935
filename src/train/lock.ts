// One process at a time per run folder: a lock file created exclusively (O_EXCL) that names its holder.
// A lock whose process is gone (kill -9, a crash, a reboot) is stale and taken over, so a killed run
// resumes as before; a live holder makes every other process refuse, naming it.
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from '../util/files.js';

export const LOCK_FILE = '.unitrace-lock.json';

export interface LockHolder {
  pid: number;
  host: string;
  /** The command line that took the lock. */
  command: string;
  /** ISO time the lock was taken. */
  started: string;
  /** The holder's start time in clock ticks since boot (Linux), so a reused pid is not taken for the holder. */
  startTicks?: string;
}

export class FolderBusyError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `${dir} is in use by pid ${holder.pid} on ${holder.host} since ${holder.started} (${holder.command}); ` +
        `wait for it to finish or stop it (if that process is gone, delete ${join(dir, LOCK_FILE)})`,
    );
    this.name = 'FolderBusyError';
  }
}

export interface FolderLock {
  file: string;
  holder: LockHolder;
  /** The dead process whose lock this one replaced, if any. */
  tookOverFrom: LockHolder | null;
  release(): void;
}

/** Field 22 of /proc/PID/stat: when the process started; null where there is no /proc. */
function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** True when the holder is a process that still runs on this machine. Another host's lock counts as live. */
export function holderAlive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  if (!pidAlive(h.pid)) return false;
  const now = startTicks(h.pid);
  return h.startTicks === undefined || now === undefined || now === h.startTicks;
}

function readHolder(file: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? h : null;
  } catch {
    return null; // gone, or torn by a kill between create and write: treated as stale
  }
}

function justCreated(file: string): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs < 1000;
  } catch {
    return false;
  }
}

const held = new Set<string>();
// A process that ends through process.exit (a second Ctrl-C) still leaves its folders free.
process.on('exit', () => {
  for (const file of held) removeIfOurs(file);
});

function removeIfOurs(file: string): void {
  if (readHolder(file)?.pid === process.pid) unlinkSync(file);
  held.delete(file);
}

/** Takes the folder's lock, replacing a stale one; throws FolderBusyError while a live process holds it. */
export function lockFolder(dir: string, command = process.argv.slice(1).join(' ')): FolderLock {
  const file = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), command, started: new Date().toISOString(), startTicks: startTicks(process.pid) };
  let tookOverFrom: LockHolder | null = null;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        writeSync(fd, JSON.stringify(me) + '\n');
      } finally {
        closeSync(fd);
      }
      held.add(file);
      return { file, holder: me, tookOverFrom, release: () => removeIfOurs(file) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot lock ${dir}: ${(e as Error).message}`);
    }
    const holder = readHolder(file);
    if (!holder && justCreated(file)) {
      // Created a moment ago and not yet written: its maker is alive; look again shortly.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      continue;
    }
    if (holder && holder.pid === process.pid && holder.host === me.host) throw new FolderBusyError(dir, holder);
    if (holder && holderAlive(holder)) throw new FolderBusyError(dir, holder);
    // Stale: move it aside (atomic, so of two processes taking over only one moves this file), then check
    // that what was moved is the stale lock and not a fresh one another process made meanwhile.
    const aside = `${file}.stale-${process.pid}`;
    try {
      renameSync(file, aside);
    } catch {
      continue; // someone else moved it first: try again
    }
    const moved = readHolder(aside);
    if (moved && holderAlive(moved)) {
      try {
        linkSync(aside, file); // put the live lock back
      } catch {
        /* a third process locked meanwhile; its lock stands */
      }
      unlinkSync(aside);
      throw new FolderBusyError(dir, moved);
    }
    unlinkSync(aside);
    tookOverFrom = moved ?? holder ?? { pid: 0, host: me.host, command: '(unreadable lock file)', started: '?' };
  }
  throw new Error(`cannot lock ${dir}: the lock file kept changing (several processes starting at once?)`);
}

/**
 * The process that owns a temporary name: `.tmp-PID-...` (folders) or `NAME.tmp-PID` (files); null
 * for other names. Only temporaries whose owner is gone are leftovers.
 */
export function temporaryOwner(name: string): number | null {
  const m = /^\.tmp-(\d+)-/.exec(name) ?? /\.tmp-(\d+)$/.exec(name);
  return m ? Number(m[1]) : name.startsWith('.tmp-') ? 0 : null;
}

/** True for a temporary left by a process that no longer runs (ours are in use, not left over). */
export const isLeftoverTemporary = (name: string): boolean => {
  const owner = temporaryOwner(name);
  return owner !== null && owner !== process.pid && !pidAlive(owner);
};
