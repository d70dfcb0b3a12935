// Numeric options through the one shared parser: a user's typo ends the CLI with exit 2 naming the flag.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { CliError, COUNT, parseNumber } from '../../src/cli/options.js';
import { fromRoot } from '../../src/util/paths.js';

const cli = (args: string[]) => spawnSync(process.execPath, [fromRoot('bin', 'unitrace.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, UNITRACE_PRESET: 'smoke' } });

test('parseNumber: the rule, the flag and the value given are in the message', () => {
  assert.equal(parseNumber(undefined, '--x'), undefined);
  assert.equal(parseNumber('5', '--max-steps', COUNT), 5);
  assert.equal(parseNumber('0.5', '--top-p', { min: 0, exclusiveMin: true, max: 1 }), 0.5);
  for (const [value, rule, message] of [
    ['-3', COUNT, '--max-steps must be an integer >= 1, got "-3"'],
    ['2.5', COUNT, '--max-steps must be an integer >= 1, got "2.5"'],
    ['', {}, '--max-steps must be a number, got ""'],
    ['1e', {}, '--max-steps must be a number, got "1e"'],
    ['0', { min: 0, exclusiveMin: true }, '--max-steps must be a number > 0, got "0"'],
  ] as const) {
    assert.throws(() => parseNumber(value, '--max-steps', rule), (e: Error) => e instanceof CliError && e.exitCode === 2 && e.message === message);
  }
});

test('`unitrace sft --max-steps -3` and other bad numbers exit 2 before any work', () => {
  for (const [args, message] of [
    [['sft', '--data', fromRoot('package.json'), '--max-steps', '-3'], /--max-steps must be an integer >= 1, got "-3"/],
    [['dpo', '--data', fromRoot('package.json'), '--max-steps', 'ten'], /--max-steps must be an integer >= 1, got "ten"/],
    [['score', fromRoot('package.json'), '--seed', 'x1'], /--seed must be an integer >= 0, got "x1"/],
    [['synth', '--out', '/tmp/never.jsonl', '--count', '-1'], /--count must be an integer >= 0, got "-1"/],
  ] as const) {
    const r = cli([...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
