import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { readJsonl } from '../../src/util/jsonl.js';
import { fromRoot } from '../../src/util/paths.js';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'unitrace-synth-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const cli = (...args: string[]) => run(process.execPath, [fromRoot('bin/unitrace.mjs'), ...args], { env: { ...process.env, ANTHROPIC_API_KEY: '' } });

describe('unitrace synth / mix', () => {
  it('synth --teacher offline writes the same records twice, each with messages, family and groundTruth', async () => {
    const a = join(tmp, 'a.jsonl');
    const b = join(tmp, 'b.jsonl');
    const args = ['synth', '--teacher', 'offline', '--count', '30', '--seed', '1', '--no-filter', '--families', 'dates,logic,countdown'];
    const first = await cli(...args, '--out', a);
    await cli(...args, '--out', b);
    assert.equal(readFileSync(a, 'utf8'), readFileSync(b, 'utf8'));
    const rows = readJsonl<{ messages: { role: string }[]; family: string; groundTruth: unknown; source: string }>(a);
    assert.equal(rows.length, 30);
    assert.deepEqual([...new Set(rows.map((r) => r.family))].sort(), ['countdown', 'dates', 'logic']);
    assert.ok(rows.every((r) => r.messages.length === 2 && r.messages[1]!.role === 'assistant' && r.groundTruth !== undefined && r.source === 'unified'));
    assert.match(first.stdout, /wrote 30 of 30 traces/);
    assert.match(first.stderr, /synth \(offline\): 30\/30 done/);
  });

  it('rejects an unknown family and a Claude run without a key with exit code 2', async () => {
    await assert.rejects(cli('synth', '--teacher', 'offline', '--count', '3', '--families', 'nope', '--out', join(tmp, 'x.jsonl')), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr, /unknown problem family "nope"/);
      return true;
    });
    await assert.rejects(cli('synth', '--teacher', 'claude', '--count', '3', '--out', join(tmp, 'y.jsonl')), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr, /ANTHROPIC_API_KEY is not set/);
      return true;
    });
  });

  it('mix writes the run datasets and prints the counts', async () => {
    const out = join(tmp, 'data');
    const { stdout } = await cli('mix', '--preset', 'smoke', '--out', out);
    assert.match(stdout, /sft-unified: 36 original \+ 24 unified = 60 \(40% synthetic\)/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { counts: { unified: { total: number } } };
    assert.equal(manifest.counts.unified.total, 60);
  });
});
