// On-disk response cache keyed by (model, prompt, parameters): a rerun is free and reproducible, and an
// interrupted run resumes without paying twice. Files hold the request and the response, never the key.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeDirs } from '../util/files.js';
import { sha256, stableStringify } from '../util/hash.js';

export interface CachedResponse {
  text: string;
  stopReason: string | null;
  usage?: { input_tokens?: number; output_tokens?: number };
}

export class ResponseCache {
  constructor(readonly dir: string) {}

  keyOf(request: unknown): string {
    return sha256(stableStringify(request));
  }

  private path(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  get(key: string): CachedResponse | null {
    const p = this.path(key);
    if (!existsSync(p)) return null;
    try {
      return (JSON.parse(readFileSync(p, 'utf8')) as { response: CachedResponse }).response;
    } catch {
      // A torn file from a killed run counts as a miss and is rewritten.
      return null;
    }
  }

  set(key: string, request: unknown, response: CachedResponse): void {
    const p = this.path(key);
    makeDirs(dirname(p));
    const tmp = `${p}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ key, request, response }) + '\n');
    renameSync(tmp, p);
  }
}
