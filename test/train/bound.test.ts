// One huge row must not kill training: texts are cut before tokenizing, and the tokens kept are exactly
// those of the whole text.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveModelDir } from '../../src/model/load.js';
import { loadTokenizer } from '../../src/model/tokenizer.js';
import { boundPairRow, boundSftRow, boundText } from '../../src/train/bound.js';
import { tokenizePairRow, tokenizeSftRow } from '../../src/train/collate.js';
import { fromRoot } from '../../src/util/paths.js';

const tok = loadTokenizer(resolveModelDir('embedded'));
const repeat = (unit: string, length: number): string => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
const texts: Record<string, string> = {
  prose: repeat('The quick brown fox jumps over the lazy dog; 12345 = (a+b)*c.\n', 100_000),
  'one long word': repeat('abcdefghij', 40_000),
  whitespace: repeat(' \t ', 40_000) + 'end',
  unicode: repeat('数学 🦊 déjà vu — ∑x² ', 50_000),
};

test('the tokenizer knows its longest token (the Qwen vocabulary has 128-byte runs of spaces)', () => {
  assert.equal(tok.maxTokenBytes, 128);
});

test('boundText keeps exactly the first (or last) tokens of the whole text, and cuts long texts', () => {
  for (const [name, text] of Object.entries(texts)) {
    const all = Array.from(tok.encode(text));
    for (const keep of [16, 160]) {
      const head = boundText(tok, text, keep, 'start');
      assert.deepEqual(Array.from(tok.encode(head)).slice(0, keep), all.slice(0, keep), `${name}, first ${keep}`);
      const tail = boundText(tok, text, keep, 'end');
      assert.deepEqual(Array.from(tok.encode(tail)).slice(-keep), all.slice(-keep), `${name}, last ${keep}`);
      assert.ok(head.length < text.length && tail.length < text.length, `${name}: cut`);
      if (name === 'prose') assert.ok(head.length <= (keep + 2) * tok.maxTokenBytes, `${name}: cut near the bound`);
    }
  }
  assert.equal(boundText(tok, 'short', 4, 'start'), 'short');
});

test('a bounded row tokenizes exactly like the whole row (ids, prompt length, truncation flags)', () => {
  const limits = { maxPromptTokens: 64, maxResponseTokens: 160 };
  const rows = [
    { messages: [{ role: 'system' as const, content: texts.unicode! }, { role: 'user' as const, content: texts.prose! }, { role: 'assistant' as const, content: texts.prose! }] },
    { prompt: [{ role: 'user' as const, content: 'short question' }], completion: [{ role: 'assistant' as const, content: texts['one long word']! }] },
    { text: texts.prose! },
  ];
  for (const row of rows) assert.deepEqual(tokenizeSftRow(tok, boundSftRow(tok, row, limits), limits, 'r'), tokenizeSftRow(tok, row, limits, 'r'));
  const pair = { prompt: [{ role: 'user' as const, content: texts.prose! }], chosen: [{ role: 'assistant' as const, content: texts.unicode! }], rejected: [{ role: 'assistant' as const, content: 'no' }] };
  assert.deepEqual(tokenizePairRow(tok, boundPairRow(tok, pair, limits), limits, 'p'), tokenizePairRow(tok, pair, limits, 'p'));
});

test('`unitrace sft` with a 50 MB response trains within a 384 MB heap, reporting the truncation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-bigrow-'));
  const data = join(dir, 'big.jsonl');
  const small = (i: number) => JSON.stringify({ messages: [{ role: 'user', content: `What is ${i} + ${i}?` }, { role: 'assistant', content: `<answer>${2 * i}</answer>` }] });
  const big = JSON.stringify({ messages: [{ role: 'user', content: 'Tell me a long story.' }, { role: 'assistant', content: repeat('the quick brown fox jumps over the lazy dog 12345. ', 50_000_000) }] });
  writeFileSync(data, [small(1), big, small(2), small(3)].join('\n') + '\n');
  const r = spawnSync(
    process.execPath,
    ['--max-old-space-size=384', fromRoot('bin', 'unitrace.mjs'), 'sft', '--preset', 'smoke', '--data', data, '--out', join(dir, 'run'), '--max-steps', '1', '--workers', '1', '--backend', 'wasm'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  assert.match(r.stderr, /sft: 4 examples, .*truncated: 0 prompts, 1 responses/);
});
