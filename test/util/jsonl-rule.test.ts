// One rule for malformed JSONL lines (bad JSON and non-objects alike), and a warning for bytes that are
// not UTF-8, naming file and line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JsonlError, parseJsonl, readJsonlFile, streamJsonl } from '../../src/util/jsonl.js';
import { fromRoot } from '../../src/util/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'unitrace-jsonl-'));
const cli = (args: string[]) => spawnSync(process.execPath, [fromRoot('bin', 'unitrace.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, UNITRACE_PRESET: 'smoke' } });

test('a line that is JSON but not an object is malformed, like a line that is not JSON', () => {
  const rows = parseJsonl('{"a":1}\n[1,2]\n"text"\n42\nnull\n{bad\n', 'x.jsonl');
  assert.deepEqual(rows[0], { line: 1, value: { a: 1 } });
  assert.deepEqual(
    rows.slice(1).map((r) => (r.error instanceof JsonlError ? r.error.message.replace(/invalid JSON \(.*\)/, 'invalid JSON') : 'not an error')),
    ['x.jsonl:2: not a JSON object (an array)', 'x.jsonl:3: not a JSON object (a string)', 'x.jsonl:4: not a JSON object (a number)', 'x.jsonl:5: not a JSON object (null)', 'x.jsonl:6: invalid JSON'],
  );
});

test('bytes that are not UTF-8 are read as U+FFFD with a warning naming file and line, read whole or streamed', async () => {
  const file = join(dir, 'latin1.jsonl');
  writeFileSync(file, Buffer.concat([Buffer.from('{"a": "ok"}\n{"a": "caf'), Buffer.from([0xe9]), Buffer.from('"}\r\n{"a": "fine"}\n')]));
  const warnings: string[] = [];
  const rows = readJsonlFile<{ a: string }>(file, (m) => warnings.push(m));
  assert.equal(rows[1]!.value!.a, 'caf\uFFFD');
  assert.deepEqual(warnings, [`${file}:2: invalid UTF-8, the bad bytes read as U+FFFD`]);
  const streamed: string[] = [];
  const values: unknown[] = [];
  for await (const r of streamJsonl<{ a: string }>(file, (m) => streamed.push(m))) values.push(r.value?.a);
  assert.deepEqual(values, ['ok', 'caf\uFFFD', 'fine']);
  assert.deepEqual(streamed, warnings);
  readJsonlFile(join(fromRoot('test', 'fixtures', 'trace'), 'figure1.jsonl'), (m) => assert.fail(`no warning for valid UTF-8: ${m}`));
});

test('`unitrace validate`: non-object lines are skipped and counted like bad JSON; bad bytes are warned about', () => {
  const file = join(dir, 'mixed.jsonl');
  writeFileSync(file, Buffer.concat([Buffer.from('{"response": "<answer>1</answer>"}\n[1, 2]\n"just text"\n{nope\n{"response": "caf'), Buffer.from([0xff]), Buffer.from('"}\n')]));
  const r = cli(['validate', file, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { summary: { n: number; malformed: number } };
  assert.deepEqual([out.summary.n, out.summary.malformed], [2, 3]);
  assert.match(r.stderr, /mixed\.jsonl:2: not a JSON object \(an array\)/);
  assert.match(r.stderr, /mixed\.jsonl:3: not a JSON object \(a string\)/);
  assert.match(r.stderr, /mixed\.jsonl:5: invalid UTF-8/);
});

test('an empty preference file is an error that names it', () => {
  const file = join(dir, 'empty-pairs.jsonl');
  writeFileSync(file, '\n');
  const r = cli(['dpo', '--data', file, '--out', join(dir, 'dpo-run'), '--workers', '1', '--backend', 'wasm']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no preference pairs`));
});
