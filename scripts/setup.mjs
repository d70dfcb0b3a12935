#!/usr/bin/env node
// Runs on `npm ci` / `npm install` (the `prepare` script):
//  1. builds dist/ (what notebooks load),
//  2. links notebooks/node_modules/unitrace (and node_modules/unitrace) to this folder so notebooks
//     `import ... from 'unitrace'`; the notebooks/ link survives a later `npm install X`, which prunes
//     node_modules/unitrace as extraneous,
//  3. writes a project-local tslab kernelspec under .jupyter/kernels/tslab (no global install, no IPython).
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve('.');
const build = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

// Optional native matmul addon (src/engine/native.ts): never fails the install; says in one line when it is off.
spawnSync(process.execPath, ['scripts/build-native.mjs'], { stdio: 'inherit' });

for (const [dir, target] of [[join(root, 'node_modules'), '..'], [join(root, 'notebooks', 'node_modules'), join('..', '..')]]) {
  const link = join(dir, 'unitrace');
  mkdirSync(dir, { recursive: true });
  if (lstatSync(link, { throwIfNoEntry: false })) rmSync(link, { recursive: true, force: true });
  symlinkSync(target, link, 'dir');
}

const kernelDir = join(root, '.jupyter', 'kernels', 'tslab');
mkdirSync(kernelDir, { recursive: true });
// {resource_dir} is this kernelspec's folder (Jupyter substitutes it): the project can move without a rewrite
const kernel = {
  argv: ['{resource_dir}/../../../node_modules/.bin/tslab', 'kernel', '--config-path', '{connection_file}'],
  display_name: 'TypeScript (unitrace, tslab)',
  language: 'typescript',
};
writeFileSync(join(kernelDir, 'kernel.json'), JSON.stringify(kernel, null, 2) + '\n');
console.log(`unitrace: kernelspec written to ${kernelDir} (set JUPYTER_PATH=${join(root, '.jupyter')})`);
