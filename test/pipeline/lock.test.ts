// The pipeline takes its run folder's lock: a second pipeline on a folder in use is refused naming the
// first, a dead one's lock is taken over; and its report lands in the run folder unless told otherwise.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config/index.js';
import { reportDir, runPipeline, type Stage } from '../../src/pipeline/index.js';
import { FolderBusyError, LOCK_FILE } from '../../src/train/lock.js';

const config = resolveConfig({ preset: 'smoke' });
const quiet = (): void => {};

test('a pipeline on a run folder held by a live process is refused, naming it; a dead holder is replaced', async () => {
  const runDir = mkdtempSync(join(tmpdir(), 'unitrace-pipelock-'));
  const ran: string[] = [];
  const stages: Stage[] = [{ name: 'only', describe: 'records that it ran', run: async () => void ran.push('only') }];
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  try {
    writeFileSync(join(runDir, LOCK_FILE), JSON.stringify({ pid: sleeper.pid, host: hostname(), command: 'unitrace pipeline', started: '2026-12-04T01:00:00.000Z' }));
    await assert.rejects(runPipeline({ config, runDir, stages, log: quiet }), (e: Error) => e instanceof FolderBusyError && e.holder.pid === sleeper.pid && /in use by pid/.test(e.message));
    assert.deepEqual(ran, [], 'nothing ran');
  } finally {
    sleeper.kill();
  }
  const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
  writeFileSync(join(runDir, LOCK_FILE), JSON.stringify({ pid: dead, host: hostname(), command: 'unitrace pipeline', started: 'earlier' }));
  const lines: string[] = [];
  await runPipeline({ config, runDir, stages, log: (l) => lines.push(l) });
  assert.deepEqual(ran, ['only']);
  assert.ok(lines.some((l) => l.includes(`taking over the lock of pid ${dead}`)), lines.join('\n'));
  assert.equal(existsSync(join(runDir, LOCK_FILE)), false, 'released when done');
});

test('the report goes to <run>/report by default, to report.out when it is absolute', () => {
  assert.equal(reportDir(config, '/runs/demo'), '/runs/demo/report');
  assert.equal(reportDir(resolveConfig({ preset: 'smoke', overrides: ['report.out=/tmp/elsewhere'] }), '/runs/demo'), '/tmp/elsewhere');
});
