// JSON Lines in and out. A bad line is reported with its file and line number, never skipped silently.
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { makeDirs } from './files.js';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';

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

/** Parses every non-empty line; malformed lines come back as errors in place so callers decide. */
export function parseJsonl<T = unknown>(text: string, file = '<input>'): JsonlRow<T>[] {
  const rows: JsonlRow<T>[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    try {
      rows.push({ line: i + 1, value: JSON.parse(raw) as T });
    } catch (e) {
      rows.push({ line: i + 1, error: new JsonlError(file, i + 1, `invalid JSON (${(e as Error).message})`) });
    }
  }
  return rows;
}

/** Reads a JSONL file and throws on the first malformed line. */
export function readJsonl<T = unknown>(file: string): T[] {
  return parseJsonl<T>(readFileSync(file, 'utf8'), file).map((row) => {
    if (row.error) throw row.error;
    return row.value as T;
  });
}

/** Streams a large JSONL file line by line. */
export async function* streamJsonl<T = unknown>(file: string): AsyncGenerator<JsonlRow<T>> {
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n++;
    if (line.trim() === '') continue;
    try {
      yield { line: n, value: JSON.parse(line) as T };
    } catch (e) {
      yield { line: n, error: new JsonlError(file, n, `invalid JSON (${(e as Error).message})`) };
    }
  }
}

export function toJsonl(rows: readonly unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
}

export function writeJsonl(file: string, rows: readonly unknown[]): void {
  makeDirs(dirname(file));
  writeFileSync(file, toJsonl(rows));
}
