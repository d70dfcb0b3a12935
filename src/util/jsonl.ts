// JSON Lines in and out. A bad line is reported with its file and line number, never skipped silently.
// One rule for every reader: a line is a record only when it is a JSON object; a line that is not JSON,
// or is JSON of another kind (an array, a string, a number, null), is a malformed line, returned as a
// JsonlError in its place, and each reader says what it does with those (stop, or skip and count).
// Bytes that are not UTF-8 become U+FFFD, with a warning naming the file and line.
import { isUtf8 } from 'node:buffer';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeDirs } from './files.js';

export class JsonlError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'JsonlError';
  }
}

export interface JsonlRow<T> {
  line: number;
  value?: T;
  error?: JsonlError;
}

/** Where warnings about a file's content go (stderr unless a caller collects them). */
export type WarningSink = (message: string) => void;
const stderrWarning: WarningSink = (m) => console.error(`unitrace: warning: ${m}`);

/** One line parsed under the rule above; null for a blank line. */
function parseLine<T>(raw: string, file: string, line: number): JsonlRow<T> | null {
  const text = raw.trim();
  if (text === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { line, error: new JsonlError(file, line, `invalid JSON (${(e as Error).message})`) };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { line, error: new JsonlError(file, line, `not a JSON object (${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`})`) };
  return { line, value: value as T };
}

/** Parses every non-empty line; malformed lines come back as errors in place so callers decide. */
export function parseJsonl<T = unknown>(text: string, file = '<input>'): JsonlRow<T>[] {
  const rows: JsonlRow<T>[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const row = parseLine<T>(lines[i]!, file, i + 1);
    if (row) rows.push(row);
  }
  return rows;
}

/** Line numbers (1-based) of the lines of `bytes` that are not valid UTF-8. */
function badUtf8Lines(bytes: Buffer): number[] {
  const bad: number[] = [];
  let start = 0;
  for (let line = 1; start <= bytes.length; line++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    if (!isUtf8(bytes.subarray(start, end))) bad.push(line);
    start = end + 1;
  }
  return bad;
}

function warnBadUtf8(file: string, lines: number[], warn: WarningSink): void {
  if (lines.length === 0) return;
  const shown = lines.slice(0, 5).map((l) => `${file}:${l}`).join(', ');
  warn(`${shown}${lines.length > 5 ? ` and ${lines.length - 5} more line(s)` : ''}: invalid UTF-8, the bad bytes read as U+FFFD`);
}

/** A text file as UTF-8; lines holding bytes that are not UTF-8 are named in a warning. */
export function readTextFile(file: string, warn: WarningSink = stderrWarning): string {
  const bytes = readFileSync(file);
  if (!isUtf8(bytes)) warnBadUtf8(file, badUtf8Lines(bytes), warn);
  return bytes.toString('utf8');
}

/** Reads and parses a JSONL file (malformed lines in place, see parseJsonl). */
export function readJsonlFile<T = unknown>(file: string, warn?: WarningSink): JsonlRow<T>[] {
  return parseJsonl<T>(readTextFile(file, warn), file);
}

/** Reads a JSONL file and throws on the first malformed line. */
export function readJsonl<T = unknown>(file: string): T[] {
  return readJsonlFile<T>(file).map((row) => {
    if (row.error) throw row.error;
    return row.value as T;
  });
}

/** Streams a large JSONL file line by line (as bytes, so a line that is not UTF-8 can be named). */
export async function* streamJsonl<T = unknown>(file: string, warn: WarningSink = stderrWarning): AsyncGenerator<JsonlRow<T>> {
  let n = 0;
  let rest = Buffer.alloc(0);
  const bad: number[] = [];
  const take = (bytes: Buffer): JsonlRow<T> | null => {
    n++;
    if (!isUtf8(bytes)) bad.push(n);
    return parseLine<T>(bytes.toString('utf8'), file, n);
  };
  for await (const chunk of createReadStream(file)) {
    let buf = rest.length ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
    for (let end = buf.indexOf(0x0a); end >= 0; end = buf.indexOf(0x0a)) {
      const row = take(buf.subarray(0, end));
      buf = buf.subarray(end + 1);
      if (row) yield row;
    }
    rest = Buffer.from(buf);
  }
  if (rest.length) {
    const row = take(rest);
    if (row) yield row;
  }
  warnBadUtf8(file, bad, warn);
}

export function toJsonl(rows: readonly unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
}

export function writeJsonl(file: string, rows: readonly unknown[]): void {
  makeDirs(dirname(file));
  writeFileSync(file, toJsonl(rows));
}
