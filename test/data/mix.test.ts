import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveConfig } from '../../src/config/index.js';
import { buildDatasets, DATA_FILES, promptKey, type EvalItem, type Message, type PreferencePair, type SftExample } from '../../src/data/index.js';
import { readJsonl } from '../../src/util/jsonl.js';
import { sha256File } from '../../src/util/hash.js';
import { fromRoot } from '../../src/util/paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'unitrace-mix-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function read(dir: string) {
  return {
    unified: readJsonl<SftExample>(join(dir, DATA_FILES.unified)),
    original: readJsonl<SftExample>(join(dir, DATA_FILES.original)),
    cot: readJsonl<SftExample>(join(dir, DATA_FILES.cot)),
    pairs: readJsonl<PreferencePair>(join(dir, DATA_FILES.pairs)),
    eval: readJsonl<EvalItem>(join(dir, DATA_FILES.eval)),
  };
}

const prompt = (msgs: Message[]): string => promptKey(msgs.filter((m) => m.role !== 'assistant'));

describe('buildDatasets', () => {
  const dirA = join(tmp, 'a');
  it('mixes exactly 300 original + 200 unified traces by default, with the baselines and pairs', async () => {
    const config = resolveConfig({ preset: 'paper-offline' });
    const events: string[] = [];
    const m = await buildDatasets(config, { outDir: dirA, onProgress: (e) => events.push(e.stage) });
    const d = read(dirA);
    assert.equal(d.unified.length, 500);
    assert.equal(d.unified.filter((r) => r.source === 'original').length, 300);
    assert.equal(d.unified.filter((r) => r.source === 'unified').length, 200);
    assert.equal(m.ratio, 0.4);
    assert.equal(d.original.length, 300);
    assert.ok(d.original.every((r) => r.source === 'original'));
    assert.equal(d.cot.filter((r) => r.source === 'cot').length, 1000);
    assert.equal(d.pairs.length, 200);
    assert.deepEqual(Object.keys(m.counts.pairs.byKind).sort(), ['answer-disagrees', 'missing-section', 'plain-answer', 'wrong-arithmetic']);
    assert.ok(events.includes('done'));
    // TRL conversational shapes.
    for (const r of d.unified) assert.deepEqual(r.messages.map((x) => x.role), ['user', 'assistant']);
    for (const p of d.pairs) assert.ok(p.prompt.length === 1 && p.chosen[0]!.role === 'assistant' && p.rejected[0]!.role === 'assistant');
    // Manifest: hashes of the written files.
    for (const [name, hash] of Object.entries(m.files)) assert.equal(sha256File(join(dirA, name)), hash);
    assert.deepEqual(JSON.parse(readFileSync(join(dirA, DATA_FILES.manifest), 'utf8')), m);
  });

  it('keeps evaluation prompts and the OOD family out of training', () => {
    const d = read(dirA);
    const evalPrompts = new Set(d.eval.map((e) => prompt(e.prompt)));
    const train = [...d.unified, ...d.original, ...d.cot].map((r) => prompt(r.messages)).concat(d.pairs.map((p) => prompt(p.prompt)));
    assert.equal(train.filter((p) => evalPrompts.has(p)).length, 0);
    const families = new Set([...d.unified, ...d.cot].map((r) => r.family).concat(d.pairs.map((p) => p.family)));
    assert.ok(!families.has('countdown'));
    const ood = d.eval.filter((e) => e.ood);
    assert.equal(ood.length, 20);
    assert.ok(ood.every((e) => e.family === 'countdown' && e.countdown && e.countdown.nums.length >= 3));
    const perFamily = new Map<string, number>();
    for (const e of d.eval) perFamily.set(e.family, (perFamily.get(e.family) ?? 0) + 1);
    assert.equal(perFamily.size, 9);
    assert.ok([...perFamily.values()].every((n) => n === 20));
    assert.ok(d.eval.filter((e) => e.kind === 'instruction').every((e) => e.check));
  });

  it('writes identical bytes for the same seed and different ones for another seed', async () => {
    const config = resolveConfig({ preset: 'paper-offline' });
    const dirB = join(tmp, 'b');
    const dirC = join(tmp, 'c');
    const a = await buildDatasets(config, { outDir: dirB });
    const b = await buildDatasets(resolveConfig({ preset: 'paper-offline', overrides: ['seed=43'] }), { outDir: dirC });
    assert.deepEqual(a.files, JSON.parse(readFileSync(join(dirA, DATA_FILES.manifest), 'utf8')).files);
    assert.notEqual(a.files[DATA_FILES.unified], b.files[DATA_FILES.unified]);
  });

  it('uses a UltraFeedback file for the original data and its preference pairs', async () => {
    const config = resolveConfig({
      preset: 'smoke',
      overrides: [`mix.original=${fromRoot('test/fixtures/data/ultrafeedback_binarized.parquet')}`, 'mix.nOriginal=8', 'mix.nPairs=6', 'mix.evalPerFamily=2'],
    });
    const dir = join(tmp, 'uf');
    const m = await buildDatasets(config, { outDir: dir });
    const d = read(dir);
    assert.equal(m.sources.original.kind, 'ultrafeedback');
    assert.equal(d.original.length, 8);
    assert.equal(d.pairs.filter((p) => p.rejectedKind === 'ultrafeedback').length, 3);
    const evalUf = d.eval.filter((e) => e.family === 'ultrafeedback');
    assert.equal(evalUf.length, 2);
    const train = new Set([...d.original.map((r) => prompt(r.messages)), ...d.pairs.map((p) => prompt(p.prompt))]);
    assert.ok(evalUf.every((e) => !train.has(prompt(e.prompt))));
  });
});
