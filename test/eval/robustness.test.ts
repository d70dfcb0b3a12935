// Messy model output gets a verdict, never a crash or a hang. Scored in a child process with a time limit,
// because a catastrophic regular expression blocks the event loop and no in-process timeout could fire.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fromRoot } from '../../src/util/paths.js';

test('long lines, 1 MB outputs, CRLF, nested tags and deep parentheses are scored within seconds', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fromRoot('test/fixtures/eval/score-messy.ts')], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.signal, null, `scoring did not finish within 20 s (stdout so far: ${r.stdout})`);
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string; lenient: boolean; statedCorrect: boolean; finalCorrect: boolean; countdown: string | null });
  const by = Object.fromEntries(rows.map((row) => [row.name, row]));
  assert.equal(rows.length, 6);
  assert.equal(by['long first line']!.finalCorrect, true);
  assert.equal(by['long answer section']!.statedCorrect, true);
  assert.equal(by['1 MB']!.statedCorrect, true);
  assert.equal(by['CRLF and upper case']!.statedCorrect, true);
  assert.equal(by['nested and unclosed']!.lenient, false);
  assert.equal(by['countdown deep parentheses']!.countdown, 'syntax');
});
