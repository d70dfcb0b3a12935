// One process per run folder: a second CLI process on a busy folder is refused naming the holder and
// changes nothing; a lock left by a killed process is taken over.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FolderBusyError, LOCK_FILE, lockFolder } from '../../src/train/lock.js';
import { RunFolder } from '../../src/train/runfolder.js';
import { fromRoot } from '../../src/util/paths.js';
import { tinySetup } from './helpers/setup.js';

const env = { ...process.env, UNITRACE_PRESET: 'smoke' };
const cli = (args: string[]) => spawnSync(process.execPath, [fromRoot('bin', 'unitrace.mjs'), ...args], { encoding: 'utf8', env });

function runCli(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fromRoot('bin', 'unitrace.mjs'), ...args], { env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

/** A pid that surely belongs to no process: one that has just exited. */
const deadPid = (): number => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);

function startSft(args: string[]): { child: ChildProcess; output: () => string; stepped: Promise<void>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [fromRoot('bin', 'unitrace.mjs'), 'sft', ...args], { env });
  let out = '';
  let onStep: () => void = () => {};
  const stepped = new Promise<void>((r) => (onStep = r));
  const take = (d: Buffer) => {
    out += d.toString();
    if (/sft: step \d+\/\d+/.test(out)) onStep();
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  return { child, output: () => out, stepped, exited };
}

test('a second `unitrace sft` on a folder in use exits non-zero naming the holder, and the first run is untouched', async () => {
  const setup = tinySetup(4);
  const data = join(setup.dir, 'train.jsonl');
  writeFileSync(data, setup.examples.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const out = join(setup.dir, 'run');
  const common = ['--data', data, '--model', setup.modelDir, '--out', out, '--batch-size', '2', '--grad-accum', '1', '--workers', '1', '--backend', 'wasm'];
  const first = startSft([...common, '--epochs', '200']);
  await first.stepped;
  const config = readFileSync(join(out, 'config.json'), 'utf8');

  // A plain second run, a --resume and an --overwrite, all at once while the first one trains.
  const seconds = await Promise.all([[], ['--resume'], ['--overwrite']].map((extra) => runCli(['sft', ...common, '--epochs', '3', '--max-steps', '2', ...extra])));
  for (const second of seconds) {
    assert.notEqual(second.status, 0, `a second sft must be refused: ${second.stderr}`);
    assert.match(second.stderr, new RegExp(`in use by pid ${first.child.pid} on ${hostname()} since \\d{4}-\\d\\d-\\d\\dT[^ ]+ \\(.*sft .*--epochs 200`));
  }
  assert.equal(readFileSync(join(out, 'config.json'), 'utf8'), config, 'config.json of the first run kept');
  assert.ok(existsSync(join(out, 'metrics.jsonl')));

  first.child.kill('SIGINT');
  assert.equal(await first.exited, 0, first.output());
  const steps = new RunFolder(out).readMetrics().map((r) => r.step);
  assert.deepEqual(steps, steps.map((_, i) => i + 1), 'each step once, in order');
  assert.equal(existsSync(join(out, LOCK_FILE)), false, 'the lock goes with its process');
});

test('kill -9 leaves a stale lock that the next process takes over, and --resume continues exactly', async () => {
  const setup = tinySetup(4);
  const data = join(setup.dir, 'train.jsonl');
  writeFileSync(data, setup.examples.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const out = join(setup.dir, 'run');
  const common = ['--data', data, '--model', setup.modelDir, '--out', out, '--batch-size', '2', '--grad-accum', '1', '--workers', '1', '--backend', 'wasm', '--epochs', '200'];
  const first = startSft(common);
  await first.stepped;
  first.child.kill('SIGKILL');
  await first.exited;
  assert.ok(existsSync(join(out, LOCK_FILE)), 'kill -9 leaves the lock behind');
  const resumed = cli(['sft', ...common, '--resume', '--max-steps', '1']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`taking over the lock of pid ${first.child.pid} .*no longer running`));
  const steps = new RunFolder(out).readMetrics().map((r) => r.step);
  assert.deepEqual(steps, steps.map((_, i) => i + 1));
});

test('lockFolder: refuses a live holder (another process, or this one twice), takes over a dead or reused pid', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-lock-'));
  const lock = lockFolder(dir, 'test one');
  assert.throws(() => lockFolder(dir, 'test two'), (e: Error) => e instanceof FolderBusyError && e.holder.command === 'test one' && e.holder.pid === process.pid);
  lock.release();
  assert.equal(existsSync(join(dir, LOCK_FILE)), false);

  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  try {
    const live = { pid: sleeper.pid, host: hostname(), command: 'unitrace sft --out x', started: '2026-01-01T00:00:00.000Z' };
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(live));
    assert.throws(() => lockFolder(dir), /in use by pid \d+ on .* since 2026-01-01T00:00:00\.000Z \(unitrace sft --out x\)/);
    // The same pid with another start time is a new process that reused the number: stale.
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ ...live, startTicks: '1' }));
    const reused = lockFolder(dir);
    assert.equal(reused.tookOverFrom?.pid, sleeper.pid);
    reused.release();
  } finally {
    sleeper.kill();
  }
  const dead = deadPid();
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: dead, host: hostname(), command: 'killed', started: 'then' }));
  const taken = lockFolder(dir);
  assert.equal(taken.tookOverFrom?.pid, dead);
  taken.release();
  writeFileSync(join(dir, LOCK_FILE), ''); // torn by a kill between create and write, long ago
  const old = new Date(Date.now() - 60_000);
  spawnSync('touch', ['-d', old.toISOString(), join(dir, LOCK_FILE)]);
  lockFolder(dir).release();
});

test('cleanup removes the temporaries of processes that are gone, never those of a live one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-tmp-'));
  const run = new RunFolder(dir);
  const dead = deadPid();
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  try {
    for (const name of [`.tmp-${dead}-adapter`, `.tmp-${sleeper.pid}-adapter`]) mkdirSync(join(dir, name));
    for (const name of [`metrics.jsonl.tmp-${dead}`, `metrics.jsonl.tmp-${sleeper.pid}`]) writeFileSync(join(dir, name), '');
    run.removeTemporaries();
    assert.equal(existsSync(join(dir, `.tmp-${dead}-adapter`)), false);
    assert.equal(existsSync(join(dir, `metrics.jsonl.tmp-${dead}`)), false);
    assert.ok(existsSync(join(dir, `.tmp-${sleeper.pid}-adapter`)));
    assert.ok(existsSync(join(dir, `metrics.jsonl.tmp-${sleeper.pid}`)));
  } finally {
    sleeper.kill();
  }
});
