// Model folders (save/load, sharded, the embedded layout with a pruned vocabulary) and the CLI commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_MODEL_DIR, loadModel, loadModelAndTokenizer, resolveModelDir, saveModel, wasmFootprint } from '../../src/model/load.js';
import { createLora, saveAdapter } from '../../src/model/lora.js';
import { generate } from '../../src/model/generate.js';
import { buildPrunedVocab, CHATML_TEMPLATE, loadTokenizer, Tokenizer } from '../../src/model/tokenizer.js';
import { Checkpoint } from '../../src/model/safetensors.js';
import { Rng } from '../../src/util/rng.js';
import { fromRoot } from '../../src/util/paths.js';
import { compare } from '../helpers/compare.js';
import { goldenCases, writeGoldenCase } from './golden-weights.js';
import { makeConfig } from '../../src/model/config.js';
import { logitsOf, maxAbsDiff, tinyModel } from './helpers.js';

const IDS = [[3, 1, 4, 1, 5, 9, 2, 6]];

async function inDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-folder-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('saveModel/loadModel round-trip: F32 exact, BF16 close, sharded with an index', () =>
  inDir(async (dir) => {
    const model = await tinyModel({ tieWordEmbeddings: false });
    const expected = logitsOf(model, IDS);
    saveModel(model, join(dir, 'f32'));
    const config = JSON.parse(readFileSync(join(dir, 'f32', 'config.json'), 'utf8'));
    assert.equal(config.model_type, 'qwen2');
    assert.equal(config.num_key_value_heads, 2);
    assert.equal(config.tie_word_embeddings, false);
    const back = await loadModel(join(dir, 'f32'));
    assert.equal(maxAbsDiff(logitsOf(back, IDS), expected), 0);
    saveModel(model, join(dir, 'bf16'), { dtype: 'BF16', maxShardBytes: 20_000 });
    assert.ok(existsSync(join(dir, 'bf16', 'model.safetensors.index.json')));
    assert.equal(Checkpoint.open(join(dir, 'bf16')).mainDtype(), 'BF16');
    const bf = await loadModel(join(dir, 'bf16'));
    const d = maxAbsDiff(logitsOf(bf, IDS), expected);
    const scale = Math.max(...expected.flat(2).map(Math.abs));
    assert.ok(d > 0 && d < 0.02 * scale, `bf16 logits differ by ${d} (largest logit ${scale})`);
    for (const m of [model, back, bf]) m.dispose();
  }));

test('an embedded-layout folder (HF files + vocab_map.json) saves, loads with its pruned tokenizer and generates', () =>
  inDir(async (dir) => {
    const base = loadTokenizer();
    const pruned = new Tokenizer(base.base, base.config, buildPrunedVocab(['<answer>42</answer> Let us think.'], base));
    const source = await tinyModel({ vocabSize: pruned.vocabSize });
    saveModel(source, dir, { tokenizer: pruned });
    source.dispose();
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'vocab_map.json'), 'utf8')), pruned.vocabMap);
    assert.equal(JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')).chat_template, CHATML_TEMPLATE);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'generation_config.json'), 'utf8')).eos_token_id, pruned.eosIds);
    assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).eos_token_id, pruned.imEndId);
    const { model, tokenizer } = await loadModelAndTokenizer(dir);
    assert.equal(tokenizer.vocabSize, model.config.vocabSize);
    assert.deepEqual(tokenizer.eosIds, pruned.eosIds);
    assert.equal(tokenizer.decode(tokenizer.encode('<answer>43 🎉</answer>')), '<answer>43 🎉</answer>');
    const [g] = await generate(model, tokenizer, [[{ role: 'user', content: 'Let us think.' }]], { maxNewTokens: 5, stopIds: [] });
    assert.equal(g!.ids.length, 5);
    assert.ok(g!.ids.every((id) => id < pruned.vocabSize));
    model.dispose();
    // Without the map the default Qwen tokenizer does not fit a small vocabulary: refused, not garbage.
    rmSync(join(dir, 'vocab_map.json'));
    await assert.rejects(loadModelAndTokenizer(dir), /missing vocab_map\.json/);
  }));

test("'embedded' resolves to data/tiny-qwen2", async () => {
  assert.equal(resolveModelDir('embedded'), EMBEDDED_MODEL_DIR);
  assert.equal(EMBEDDED_MODEL_DIR, fromRoot('data', 'tiny-qwen2'));
  if (existsSync(EMBEDDED_MODEL_DIR)) {
    const { model, tokenizer } = await loadModelAndTokenizer('embedded');
    assert.equal(tokenizer.vocabSize, model.config.vocabSize);
    model.dispose();
  } else await assert.rejects(loadModel('embedded'), /embedded model is missing/);
});

const cli = (args: string[]) => execFileSync(process.execPath, [fromRoot('bin', 'unitrace.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, UNITRACE_BACKEND: 'wasm' } });

test('unitrace logits --json on a folder with only config.json + model.safetensors matches the golden logits', () =>
  inDir(async (dir) => {
    const c = goldenCases().find((x) => x.name === 'small-untied-f32-lora-all7')!;
    const { modelDir, adapterDir } = writeGoldenCase(c, dir);
    const out = JSON.parse(cli(['logits', '--model', modelDir, '--adapter', adapterDir!, '--ids', c.ids[0]!.join(','), '--json'])) as { logits: number[][] };
    assert.equal(out.logits.length, c.ids[0]!.length);
    compare(out.logits, c.logits[0]!, 1e-4, 'cli logits');
    assert.throws(() => cli(['logits', '--model', modelDir, '--ids', '1,x']), /comma-separated/);
  }));

test('unitrace generate runs a model folder with an adapter', () =>
  inDir(async (dir) => {
    const map = buildPrunedVocab(['hi there'], loadTokenizer());
    const model = await tinyModel({ vocabSize: map.length });
    saveModel(model, join(dir, 'model'));
    writeFileSync(join(dir, 'model', 'vocab_map.json'), JSON.stringify(map));
    saveAdapter(createLora(model, { r: 2, alpha: 4, dropout: 0, rslora: false, targetModules: ['q_proj'] }, new Rng(1)), join(dir, 'adapter'));
    const out = JSON.parse(cli(['generate', '--model', join(dir, 'model'), '--adapter', join(dir, 'adapter'), '--prompt', 'hi', '--max-new-tokens', '4', '--json']));
    assert.ok(out.ids.length <= 4 && out.ids.length + (out.finishReason === 'stop' ? 1 : 0) >= 1);
    assert.equal(typeof out.text, 'string');
    assert.equal(out.backend, 'wasm');
    model.dispose();
  }));

test('models too large for the wasm heap are recognised before loading', () => {
  const qwen05b = makeConfig({ vocabSize: 151936, hiddenSize: 896, intermediateSize: 4864, numHiddenLayers: 24, numAttentionHeads: 14, numKeyValueHeads: 2, headDim: 64 });
  // wasm's own products keep a packed copy of every matrix: over the heap; the engine's native products do not.
  assert.ok(wasmFootprint(qwen05b, false) > 4 * 2 ** 30);
  assert.ok(wasmFootprint(qwen05b, true) < 2.5 * 2 ** 30);
  assert.ok(wasmFootprint({ ...qwen05b, numHiddenLayers: 2, vocabSize: 4096 }, false) < 1 * 2 ** 30);
});
