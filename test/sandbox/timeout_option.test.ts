// --timeout-ms of 2^31 ms or more would be clamped by Node to 1 ms (issue #15): both CLIs refuse it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromRoot } from '../../src/util/paths.js';

test('validate and score refuse a --timeout-ms a timer cannot wait for', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-timeout-'));
  try {
    const file = join(dir, 'rows.jsonl');
    writeFileSync(file, '{"text": "<answer>1</answer>"}\n');
    for (const [cmd, value] of [['validate', '3000000000'], ['validate', '1.5'], ['score', '2147483648']] as const) {
      const args = cmd === 'validate' ? ['validate', file, '--execute', '--timeout-ms', value] : ['score', file, '--timeout-ms', value];
      const r = spawnSync(process.execPath, [fromRoot('bin', 'unitrace.mjs'), ...args], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 2, `${cmd} ${value}: ${r.stderr}`);
      assert.match(r.stderr, /--timeout-ms must be/, `${cmd} ${value}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
