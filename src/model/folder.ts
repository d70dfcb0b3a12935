// Where a model source lives on disk, and a cheap identity of what is there (no tfjs needed).
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { dataDir } from '../util/paths.js';

/** Folder of the embedded default model (Hugging Face layout + vocab_map.json). */
export const EMBEDDED_MODEL_DIR = join(dataDir, 'tiny-qwen2');

export function resolveModelDir(source: string): string {
  return source === 'embedded' ? EMBEDDED_MODEL_DIR : source;
}

const EDGE = 1 << 20;

/**
 * Identity of a model folder's contents: config.json, vocab_map.json and each safetensors file's size,
 * first and last MiB (a retrained model of the same shape differs there; hashing gigabytes would not pay).
 */
export function modelFingerprint(source: string): string {
  const dir = resolveModelDir(source);
  if (!existsSync(dir)) return `missing:${source}`;
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort()) {
    if (f === 'config.json' || f === 'vocab_map.json') h.update(f).update(readFileSync(join(dir, f)));
    if (!f.endsWith('.safetensors')) continue;
    const fd = openSync(join(dir, f), 'r');
    try {
      const size = fstatSync(fd).size;
      const head = Buffer.alloc(Math.min(EDGE, size));
      const tail = Buffer.alloc(Math.min(EDGE, size));
      readSync(fd, head, 0, head.length, 0);
      readSync(fd, tail, 0, tail.length, size - tail.length);
      h.update(`${f}:${size}`).update(head).update(tail);
    } finally {
      closeSync(fd);
    }
  }
  return h.digest('hex').slice(0, 16);
}
