// `unitrace validate` through the real CLI (bin/unitrace.mjs), as a user runs it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromRoot } from '../../src/util/paths.js';

const figure1 = readFileSync(new URL('../fixtures/trace/figure1.txt', import.meta.url), 'utf8');
const fixture = fromRoot('test', 'fixtures', 'trace', 'figure1.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'validate-'));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [fromRoot('bin', 'unitrace.mjs'), 'validate', ...args], { cwd: fromRoot() }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('Figure 1 as a record: strict, logicValid, and with --execute codeRuns printing "Area = 30.0"', async () => {
  const r = await cli(fixture, '--execute', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { summary: Record<string, unknown>; records: Record<string, unknown>[] };
  assert.deepEqual(out.summary, {
    n: 1, strict: 1, lenient: 1, logicValid: 1, codeCompiles: 1, codeRuns: 1,
    tags: { cot: 1, logic: 1, code: 1, answer: 1 }, malformed: 0,
  });
  assert.deepEqual(out.records[0], {
    line: 1, strict: true, lenient: true, tags: { cot: true, logic: true, code: true, answer: true },
    logicValid: true, codeCompiles: true, codeRuns: true, stdout: 'Area = 30.0\n', errors: [],
  });
});

test('messages, --field, a malformed line reported with file:line, the rest scored (exit 0)', async () => {
  const file = join(dir, 'mixed.jsonl');
  const lines = [
    JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: figure1.replace(/\n/g, '\r\n') }] }),
    '{"response": "<cot>unterminated',
    JSON.stringify({ response: '<COT>loud</COT> <answer>3</answer>' }),
    JSON.stringify({ other: 1 }),
  ];
  writeFileSync(file, lines.join('\n') + '\n');
  const r = await cli(file, '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: invalid JSON`));
  const out = JSON.parse(r.stdout) as { summary: Record<string, number | object>; records: { line: number; strict: boolean; codeRuns: unknown; errors: string[] }[] };
  assert.equal(out.summary.n, 3);
  assert.equal(out.summary.malformed, 1);
  assert.equal(out.summary.strict, 1 / 3);
  assert.equal('codeRuns' in out.summary, false, 'codeRuns only with --execute');
  assert.deepEqual(out.summary.tags, { cot: 2 / 3, logic: 1 / 3, code: 1 / 3, answer: 2 / 3 });
  assert.deepEqual(out.records.map((x) => [x.line, x.strict, x.codeRuns]), [[1, true, null], [3, false, null], [4, false, null]]);
  assert.match(out.records[2]!.errors[0]!, /:4: no "response" field/);

  const pairs = join(dir, 'pairs.jsonl');
  writeFileSync(pairs, JSON.stringify({ chosen: [{ role: 'assistant', content: figure1 }], rejected: [{ role: 'assistant', content: 'no' }] }) + '\n');
  const chosen = await cli(pairs, '--field', 'rejected');
  assert.equal(chosen.code, 0, chosen.stderr);
  assert.match(chosen.stdout, /:1 {2}strict no {2}lenient no/);
  assert.match(chosen.stdout, /1 records: strict 0\.0%/);
});

test('unusable input exits 2: a missing file, or nothing but malformed lines', async () => {
  const missing = await cli(join(dir, 'nope.jsonl'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file/);
  const junk = join(dir, 'junk.jsonl');
  writeFileSync(junk, 'not json\n{also not\n');
  const r = await cli(junk, '--json');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /junk\.jsonl:1: invalid JSON/);
  assert.match(r.stderr, /no usable record \(2 malformed/);
});
