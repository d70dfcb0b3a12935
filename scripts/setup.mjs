#!/usr/bin/env node
// Runs on `npm ci` / `npm install` (the `prepare` script):
//  1. builds dist/ (what notebooks load),
//  2. links node_modules/unitrace to this folder so notebooks `import ... from 'unitrace'`,
//  3. writes a project-local tslab kernelspec under .jupyter/kernels/tslab (no global install, no IPython).
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve('.');
const build = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const link = join(root, 'node_modules', 'unitrace');
if (existsSync(link) || lstatSync(link, { throwIfNoEntry: false })) rmSync(link, { recursive: true, force: true });
symlinkSync('..', link, 'dir');

const kernelDir = join(root, '.jupyter', 'kernels', 'tslab');
mkdirSync(kernelDir, { recursive: true });
const kernel = {
  argv: [join(root, 'node_modules', '.bin', 'tslab'), 'kernel', '--config-path', '{connection_file}'],
  display_name: 'TypeScript (unitrace, tslab)',
  language: 'typescript',
};
writeFileSync(join(kernelDir, 'kernel.json'), JSON.stringify(kernel, null, 2) + '\n');
console.log(`unitrace: kernelspec written to ${kernelDir} (set JUPYTER_PATH=${join(root, '.jupyter')})`);
