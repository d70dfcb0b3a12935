// Where the package lives on disk, whether we run from src/ (tsx) or from the dist/ bundle (notebooks).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'unitrace') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`unitrace: cannot find the package root above ${start}`);
    dir = parent;
  }
}

export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
export const dataDir = join(packageRoot, 'data');
export const fromRoot = (...parts: string[]): string => join(packageRoot, ...parts);

/** True inside the CommonJS bundle that notebooks load (set by scripts/build.mjs). */
export const isBundle: boolean = typeof (globalThis as { __UNITRACE_BUNDLE__?: boolean }).__UNITRACE_BUNDLE__ === 'boolean';
