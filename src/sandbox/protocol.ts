// Lines between the pool (parent) and a sandbox child process. The parent writes JSON lines to the child's
// stdin; the child answers on stdout with `<hmac> <json>` lines. The key reaches the child on its first
// line and then lives only in a closure of the harness, so JavaScript that a program reaches inside the
// child cannot write a reply the parent would accept.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface ChildInit {
  type: 'init';
  key: string;
  /** Largest size Pyodide's wasm memory may grow to. */
  memoryLimitBytes: number;
}

export type ChildRequest =
  | ChildInit
  | { type: 'run'; id: number; code: string; stdin: string; maxOutputBytes: number }
  | { type: 'compile'; id: number; code: string };

export type ChildReply =
  | { type: 'ready'; startMs: number }
  | { type: 'fatal'; error: string }
  | {
      type: 'done';
      id: number;
      /** What the Python runner wrote: `status\nexit code\nerror` (parsed by the parent). */
      verdict: string;
      /** Raw output bytes, base64, each cut at maxOutputBytes. */
      stdout: string;
      stderr: string;
      truncated: boolean;
      durationMs: number;
      /** Why this child must not run another program (empty: it was restored to its clean state). */
      recycle: string;
    };

function mac(key: string, body: string): string {
  return createHmac('sha256', key).update(body).digest('hex');
}

export function signLine(key: string, reply: ChildReply): string {
  const body = JSON.stringify(reply);
  return `${mac(key, body)} ${body}\n`;
}

/** The reply a line carries, or null when its signature does not match. */
export function verifyLine(key: string, line: string): ChildReply | null {
  const space = line.indexOf(' ');
  if (space !== 64) return null;
  const body = line.slice(space + 1);
  const expected = Buffer.from(mac(key, body), 'hex');
  const given = Buffer.from(line.slice(0, space), 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    return JSON.parse(body) as ChildReply;
  } catch {
    return null;
  }
}

/** Splits a byte stream into lines; calls `onLine` for each complete one. */
export function lineReader(onLine: (line: string) => void): (chunk: Buffer | string) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line) onLine(line);
    }
  };
}
