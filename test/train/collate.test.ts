import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTokenizer } from '../../src/model/tokenizer.js';
import { collateDpo, collateSft, epochBatches, loadRows, tokenizePairRow, tokenizeSftRow, truncationReport } from '../../src/train/collate.js';
import { batchWeight, sliceRows } from '../../src/train/types.js';
import { Rng } from '../../src/util/rng.js';

const tok = loadTokenizer();
const limits = { maxPromptTokens: 64, maxResponseTokens: 64 };
const row = { messages: [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'What is 2 + 3?' }, { role: 'assistant' as const, content: '<answer>\n5\n</answer>' }] };

test('labels cover the assistant response, its closing <|im_end|> and the newline after it (as TRL), nothing of the prompt', () => {
  const seq = tokenizeSftRow(tok, row, limits, 'r1');
  const prompt = tok.decode(Array.from(seq.ids.slice(0, seq.promptLength)));
  assert.equal(prompt, tok.applyChatTemplate(row.messages.slice(0, 2), { addGenerationPrompt: true }));
  assert.equal(tok.decode(Array.from(seq.ids.slice(seq.promptLength))), '<answer>\n5\n</answer><|im_end|>\n');
  const b = collateSft([seq], tok.padId, 1);
  const trained = Array.from(b.labels).filter((_, t) => b.weights[t] === 1);
  assert.equal(tok.decode(trained), '<answer>\n5\n</answer><|im_end|>\n');
  assert.equal(trained[trained.length - 2], tok.imEndId);
  // labels are the inputs shifted by one
  for (let t = 0; t + 1 < b.seqLen; t++) assert.equal(b.labels[t], b.inputIds[t + 1]);
});

test('truncation keeps the prompt end and the response start, and is counted', () => {
  const long = { messages: [{ role: 'user' as const, content: 'word '.repeat(100) + 'END' }, { role: 'assistant' as const, content: 'ok '.repeat(100) }] };
  const small = { maxPromptTokens: 8, maxResponseTokens: 5 };
  const seq = tokenizeSftRow(tok, long, small, 'long');
  assert.equal(seq.promptLength, 8);
  assert.equal(seq.ids.length, 13);
  assert.ok(tok.decode(Array.from(seq.ids.slice(0, 8))).endsWith('<|im_start|>assistant\n'));
  const rep = truncationReport([seq, tokenizeSftRow(tok, row, limits, 'r1')]);
  assert.equal(rep.promptTruncated, 1);
  assert.equal(rep.responseTruncated, 1);
  assert.equal(rep.sequences, 2);
});

test('prompt-completion rows and plain text rows are accepted', () => {
  const pc = tokenizeSftRow(tok, { prompt: [row.messages[1]!], completion: [row.messages[2]!] }, limits, 'pc');
  assert.equal(tok.decode(Array.from(pc.ids.slice(pc.promptLength))), '<answer>\n5\n</answer><|im_end|>\n');
  const text = tokenizeSftRow(tok, { text: 'hello world' }, limits, 't');
  assert.equal(tok.decode(Array.from(text.ids)), 'hello world<|endoftext|>');
  assert.equal(text.promptLength, 1);
});

test('right padding: pad positions carry no weight, rows keep their lengths', () => {
  const a = tokenizeSftRow(tok, row, limits, 'a');
  const b = tokenizeSftRow(tok, { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello there, friend.' }] }, limits, 'b');
  const batch = collateSft([a, b], tok.padId, 3);
  assert.equal(batch.seqLen, Math.max(a.ids.length, b.ids.length) - 1);
  assert.deepEqual(Array.from(batch.rowLengths), [a.ids.length - 1, b.ids.length - 1]);
  assert.equal(batch.tokens, a.ids.length + b.ids.length - 2);
  const short = batch.rowLengths[0]! < batch.rowLengths[1]! ? 0 : 1;
  for (let t = batch.rowLengths[short]!; t < batch.seqLen; t++) {
    assert.equal(batch.inputIds[short * batch.seqLen + t], tok.padId);
    assert.equal(batch.weights[short * batch.seqLen + t], 0);
  }
  assert.equal(batchWeight(batch), a.ids.length - a.promptLength + b.ids.length - b.promptLength);
});

test('DPO batches interleave chosen and rejected; shards never split a pair', () => {
  const pair = tokenizePairRow(tok, { prompt: [row.messages[1]!], chosen: [row.messages[2]!], rejected: [{ role: 'assistant', content: 'six' }] }, limits, 'p');
  const batch = collateDpo([pair, pair], Float32Array.of(-1, -2), Float32Array.of(-3, -4), tok.padId, 0);
  assert.equal(batch.batch, 4);
  assert.equal(batch.pairs, 2);
  assert.equal(batch.rowLengths[0], pair.chosen.ids.length - 1);
  assert.equal(batch.rowLengths[1], pair.rejected.ids.length - 1);
  const half = sliceRows(batch, 2, 4);
  assert.equal(half.pairs, 1);
  assert.deepEqual(Array.from(half.refChosen), [-2]);
  assert.throws(() => sliceRows(batch, 1, 3), /split a pair/);
});

test('a bad example is an error naming file, line and id', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collate-'));
  const file = join(dir, 'data.jsonl');
  writeFileSync(file, JSON.stringify(row) + '\n' + JSON.stringify({ id: 'x7', messages: [{ role: 'user', content: 'no answer' }] }) + '\n');
  assert.throws(() => loadRows(file, (r, id) => tokenizeSftRow(tok, r as never, limits, id)), /data\.jsonl:2 \(id x7\): bad example: the last message is from 'user'/);
  writeFileSync(file, '{"messages": [\n');
  assert.throws(() => loadRows(file, (r, id) => tokenizeSftRow(tok, r as never, limits, id)), /data\.jsonl:1: invalid JSON/);
});

test('epoch batches: every example once, seeded, length-grouped', () => {
  const lengths = Array.from({ length: 103 }, (_, i) => 10 + ((i * 37) % 90));
  const a = epochBatches(lengths, 8, new Rng(5).fork('epoch-0'));
  const b = epochBatches(lengths, 8, new Rng(5).fork('epoch-0'));
  const c = epochBatches(lengths, 8, new Rng(5).fork('epoch-1'));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(a.length, Math.ceil(103 / 8));
  assert.deepEqual(a.flat().sort((x, y) => x - y), lengths.map((_, i) => i));
  const padding = (batches: number[][]) => batches.reduce((s, bt) => s + bt.length * Math.max(...bt.map((i) => lengths[i]!)) - bt.reduce((q, i) => q + lengths[i]!, 0), 0);
  assert.ok(padding(a) < padding(epochBatches(lengths, 8, new Rng(5).fork('epoch-0'), false)) / 2, 'grouping should cut padding');
});
