// Output folders under a parent that refuses them, inputs that are folders, JSON files that do not parse.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkInputFile, inputFileProblem, makeDirs, readJsonFile } from '../../src/util/files.js';
import { fromRoot } from '../../src/util/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'unitrace-files-'));
const cli = (args: string[]) => spawnSync(process.execPath, [fromRoot('bin', 'unitrace.mjs'), ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, UNITRACE_PRESET: 'smoke' } });

test('makeDirs creates missing parents, and fails at once where a parent refuses (/proc) or is a file', () => {
  makeDirs(join(dir, 'a', 'b', 'c'));
  assert.ok(existsSync(join(dir, 'a', 'b', 'c')));
  makeDirs(join(dir, 'a', 'b')); // already there
  writeFileSync(join(dir, 'plain'), '');
  assert.throws(() => makeDirs(join(dir, 'plain', 'x')), /cannot create .*plain\/x: .*plain is a file, not a folder/);
  if (existsSync('/proc/self')) {
    const t0 = Date.now();
    assert.throws(() => makeDirs('/proc/nope/deeper'), /cannot create \/proc\/nope\/deeper: \/proc does not accept a new folder/);
    assert.ok(Date.now() - t0 < 1000);
  }
});

test('a folder given as an input file is called a folder, a missing one missing', () => {
  assert.equal(inputFileProblem(dir), `${dir}: is a directory, not a file`);
  assert.equal(inputFileProblem(join(dir, 'none.jsonl')), `${join(dir, 'none.jsonl')}: no such file`);
  assert.throws(() => checkInputFile(dir, 'training JSONL'), /is a directory, not a file \(expected training JSONL\)/);
});

test('readJsonFile names the file of a truncated or empty JSON', () => {
  writeFileSync(join(dir, 'cut.json'), '[1, 2, 3');
  assert.throws(() => readJsonFile(join(dir, 'cut.json'), 'vocab_map'), new RegExp(`${join(dir, 'cut.json')}: not valid vocab_map \\(.*; truncated or corrupt\\?\\)`));
  writeFileSync(join(dir, 'empty.json'), '');
  assert.throws(() => readJsonFile(join(dir, 'empty.json')), /empty\.json: not valid JSON \(the file is empty/);
  assert.throws(() => readJsonFile(dir), /is a directory, not a JSON file/);
});

test('`unitrace score --out /proc/nope` (and synth, mix) and folders given as files fail fast with exit 2', { skip: !existsSync('/proc/self') && 'no /proc here' }, () => {
  const outputs = join(dir, 'outputs.jsonl');
  writeFileSync(outputs, JSON.stringify({ id: 'a', response: '<answer>1</answer>', groundTruth: 1 }) + '\n');
  const proc = cli(['score', outputs, '--no-execute', '--judge', 'offline', '--out', '/proc/nope']);
  assert.equal(proc.status, 2, proc.stderr);
  assert.match(proc.stderr, /score: --out: cannot create \/proc\/nope: \/proc does not accept a new folder/);
  // Outputs checked before the work (synth may pay for Claude requests, eval generates for minutes).
  for (const [args, message] of [
    [['synth', '--count', '2', '--no-filter', '--out', '/proc/nope/traces.jsonl'], /synth: cannot create \/proc\/nope: \/proc does not accept/],
    [['mix', '--out', '/proc/nope'], /mix: cannot create \/proc\/nope/],
  ] as const) {
    const r = cli([...args]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\d+\/\d+ done|mix \[/, 'failed before doing the work');
  }
  mkdirSync(join(dir, 'folder.jsonl'));
  const folder = join(dir, 'folder.jsonl');
  for (const args of [['score', folder], ['validate', folder], ['sft', '--data', folder], ['eval', '--model', 'embedded', '--set', folder, '--out', join(dir, 'ev')]]) {
    const r = cli(args);
    assert.equal(r.status, 2, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, /folder\.jsonl: is a directory, not a file/, args[0]);
  }
});
