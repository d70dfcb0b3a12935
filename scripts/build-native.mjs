#!/usr/bin/env node
// Builds the optional native addon (native/matmul.cc + the decoder, native/decode.cc with its kernels
// compiled once per instruction set + the training kernels, native/train_kernels.cc ->
// native/build/unitrace_native.node) with g++ against Node's own headers. Optional by design: without a
// compiler or headers it prints one line and exits 0, and src/engine/native.ts keeps the wasm backend's own
// matmul. Run by scripts/setup.mjs (npm ci).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'matmul.cc');
const outDir = join(root, 'native', 'build');
const output = join(outDir, 'unitrace_native.node');

function off(reason) {
  console.log(`unitrace: native addon off (${reason}); training uses the wasm backend's own matmul, generation the TensorFlow.js decoder`);
  process.exit(0);
}

if (process.env.UNITRACE_NATIVE === '0') off('UNITRACE_NATIVE=0');
if (process.platform !== 'linux' && process.platform !== 'darwin') off(`no build recipe for ${process.platform}`);

// Node's headers: next to the executable (official tarballs, Debian's nodejs), npm's nodedir, node-gyp's cache.
const version = process.versions.node;
const candidates = [
  process.env.UNITRACE_NODE_INCLUDE,
  join(dirname(process.execPath), '..', 'include', 'node'),
  process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
  join(homedir(), '.cache', 'node-gyp', version, 'include', 'node'),
  '/usr/include/node',
].filter(Boolean);
const include = candidates.find((dir) => existsSync(join(dir, 'node_api.h')));
if (!include) off(`node_api.h not found in ${candidates.join(', ')}`);

const compiler = process.env.CXX || 'g++';
const probe = spawnSync(compiler, ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) off(`no C++ compiler ('${compiler}')`);

mkdirSync(outDir, { recursive: true });
const tmp = `${output}.${process.pid}.tmp`;
const common = ['-O3', '-std=c++17', '-fPIC', '-fvisibility=hidden', `-I${include}`];
const objects = [];
function compile(args, what) {
  const cc = spawnSync(compiler, args, { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) {
    for (const o of [...objects, tmp]) rmSync(o, { force: true });
    const firstError = (cc.stderr ?? '').split('\n').find((l) => l.includes('error')) ?? String(cc.error ?? `exit ${cc.status}`);
    off(`compile of ${what} failed: ${firstError.trim()}`);
  }
}
// The decoding kernels once per instruction set; native/decode.cc picks one at run time from the CPU's flags.
const kernelsSource = join(root, 'native', 'decode_kernels.cc');
const isas = process.arch === 'x64'
  ? [['generic', []], ['avx2', ['-mavx2', '-mfma']], ['avx512', ['-mavx512f', '-mavx512bw', '-mavx512vl', '-mfma']]]
  : [['generic', []]];
for (const [isa, isaFlags] of isas) {
  const obj = join(outDir, `decode_kernels_${isa}.${process.pid}.o`);
  objects.push(obj);
  compile([...common, ...isaFlags, `-DUNITRACE_ISA_${isa.toUpperCase()}`, '-c', kernelsSource, '-o', obj], `decode kernels (${isa})`);
}
// The training kernels repeat their TypeScript twins bit for bit: no fused multiply-adds (native/train_kernels.cc).
const trainObject = join(outDir, `train_kernels.${process.pid}.o`);
objects.push(trainObject);
compile([...common, '-ffp-contract=off', '-fno-trapping-math', '-c', join(root, 'native', 'train_kernels.cc'), '-o', trainObject], 'training kernels');
const link = [...common, '-shared', source, join(root, 'native', 'decode.cc'), ...objects, '-o', tmp];
if (process.platform === 'darwin') link.push('-undefined', 'dynamic_lookup');
else link.push('-ldl', '-pthread');
compile(link, 'the addon');
for (const o of objects) rmSync(o, { force: true });
renameSync(tmp, output); // atomic: a running process never sees a half-written addon

// Load it once in a child so a broken build is reported now, not at training time.
const check = spawnSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(output)}).info()))`], { encoding: 'utf8' });
if (check.status !== 0) {
  rmSync(output, { force: true });
  off(`built addon does not load: ${(check.stderr ?? '').split('\n')[0]}`);
}
const info = JSON.parse(check.stdout);
console.log(`unitrace: native matmul built (${output}), active path ${info.path}${info.core ? ` (${info.core})` : ''}`);
