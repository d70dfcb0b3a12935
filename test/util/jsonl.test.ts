import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JsonlError, parseJsonl, readJsonl } from '../../src/util/jsonl.js';

test('parseJsonl reports a malformed line with file and line number and keeps the others', () => {
  const rows = parseJsonl('{"a":1}\n\n{bad}\r\n{"a":3}\n', 'x.jsonl');
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[0], { line: 1, value: { a: 1 } });
  assert.ok(rows[1]!.error instanceof JsonlError);
  assert.match(rows[1]!.error!.message, /^x\.jsonl:3: invalid JSON/);
  assert.deepEqual(rows[2]!.value, { a: 3 });
});

test('readJsonl throws on the first bad line, naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jsonl-'));
  const file = join(dir, 'f.jsonl');
  writeFileSync(file, '{"ok":true}\n[1,\n');
  assert.throws(() => readJsonl(file), (e: Error) => e.message.startsWith(`${file}:2:`));
});
