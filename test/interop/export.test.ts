import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readConfig } from '../../src/model/config.js';
import { EMBEDDED_MODEL_DIR } from '../../src/model/load.js';
import { Checkpoint } from '../../src/model/safetensors.js';
import { exportRun } from '../../src/interop/export.js';
import type { ExportManifest } from '../../src/interop/manifest.js';
import { splitBatch } from '../../src/interop/trl-config.js';
import { truncationCounts } from '../../src/interop/differences.js';
import { toYaml } from '../../src/interop/yaml.js';
import { readJsonl } from '../../src/util/jsonl.js';
import { makeDataRun } from './helpers.js';

let root: string;
let out: string;
let manifest: ExportManifest;
let runConfig: Awaited<ReturnType<typeof makeDataRun>>['config'];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'unitrace-export-'));
  const run = await makeDataRun(root);
  runConfig = run.config;
  out = join(root, 'export');
  manifest = await exportRun(run.dir, out);
});
after(() => rmSync(root, { recursive: true, force: true }));

test('export writes one TRL config per stage, run.sh, accelerate configs, prompts and a README', () => {
  for (const f of ['sft-original.yaml', 'sft-cot.yaml', 'sft-unified.yaml', 'dpo.yaml', 'run.sh', 'merge_adapter.py', 'generate.py', 'README.md', 'accelerate/single-gpu.yaml', 'accelerate/multi-gpu.yaml', 'accelerate/multi-node.yaml', 'eval/prompts.jsonl'])
    assert.ok(existsSync(join(out, f)), `${f} written`);
  assert.deepEqual(manifest.stages.map((s) => s.stage), ['sft-original', 'sft-cot', 'sft-unified', 'dpo']);
  const yaml = readFileSync(join(out, 'sft-unified.yaml'), 'utf8');
  assert.match(yaml, new RegExp(`^learning_rate: ${runConfig.sft.lr}$`, 'm'));
  assert.match(yaml, new RegExp(`^lora_r: ${runConfig.sft.lora.r}$`, 'm'));
  assert.match(yaml, /^completion_only_loss: true$/m);
  assert.match(yaml, new RegExp(`^max_length: ${runConfig.sft.maxPromptTokens + runConfig.sft.maxResponseTokens}$`, 'm'));
  const baseline = readFileSync(join(out, 'sft-original.yaml'), 'utf8');
  assert.match(baseline, new RegExp(`^num_train_epochs: ${runConfig.sft.baselineEpochs}$`, 'm'), 'baselines train for sft.baselineEpochs');
  const dpo = readFileSync(join(out, 'dpo.yaml'), 'utf8');
  assert.match(dpo, /^model_name_or_path: "out\/sft-unified-merged"$/m);
  assert.match(dpo, new RegExp(`^loss_type: \\["${runConfig.dpo.loss}"\\]$`, 'm'));
  assert.match(dpo, new RegExp(`^beta: ${runConfig.dpo.beta}$`, 'm'));
  const readme = readFileSync(join(out, 'README.md'), 'utf8');
  for (const s of ['sft-original', 'sft-cot', 'sft-unified', 'dpo']) assert.ok(readme.includes(`trl ${s === 'dpo' ? 'dpo' : 'sft'} --config ${s}.yaml --accelerate_config accelerate/multi-node.yaml`), `multi-node command for ${s}`);
  assert.match(readme, /Where unitrace and TRL differ/);
});

test('exported datasets have one JSON type per column across rows (pyarrow needs it)', () => {
  for (const f of ['sft-unified', 'sft-original', 'sft-cot', 'dpo-pairs']) {
    const rows = readJsonl<Record<string, unknown>>(join(out, 'data', `${f}.jsonl`));
    assert.ok(rows.length > 0);
    const types = new Map<string, Set<string>>();
    for (const r of rows) for (const [k, v] of Object.entries(r)) (types.get(k) ?? types.set(k, new Set()).get(k)!).add(v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
    for (const [k, t] of types) assert.ok([...t].filter((x) => x !== 'null').length <= 1, `${f}.${k} mixes ${[...t].join(', ')}`);
    for (const r of rows) assert.deepEqual(Object.keys(r).sort(), [...types.keys()].sort(), `${f}: every row has every column`);
  }
  const sft = readJsonl<{ prompt: { role: string }[]; completion: { role: string }[] }>(join(out, 'data', 'sft-unified.jsonl'));
  assert.ok(sft.every((r) => r.completion.length === 1 && r.completion[0]!.role === 'assistant' && r.prompt.at(-1)!.role !== 'assistant'));
});

test('the widened base model keeps every row of the pruned one and serves the real Qwen ids', () => {
  const wide = readConfig(join(out, 'base-model'));
  const tiny = readConfig(EMBEDDED_MODEL_DIR);
  assert.equal(wide.vocabSize, 151665);
  assert.equal(wide.tieWordEmbeddings, false);
  const map = JSON.parse(readFileSync(join(EMBEDDED_MODEL_DIR, 'vocab_map.json'), 'utf8')) as number[];
  const src = Checkpoint.open(EMBEDDED_MODEL_DIR).read('model.embed_tokens.weight');
  const dst = Checkpoint.open(join(out, 'base-model'));
  const embed = dst.read('model.embed_tokens.weight');
  const head = dst.read('lm_head.weight');
  const H = tiny.hiddenSize;
  for (const modelId of [0, 5, 100, map.length - 1]) {
    const baseId = map[modelId]!;
    assert.deepEqual(embed.subarray(baseId * H, (baseId + 1) * H), src.subarray(modelId * H, (modelId + 1) * H));
    assert.deepEqual(head.subarray(baseId * H, (baseId + 1) * H), src.subarray(modelId * H, (modelId + 1) * H));
  }
  const eq = manifest.baseModel.equivalence!;
  assert.ok(eq.probedPositions > 100 && Number.isFinite(eq.suppression.meanLogProbShift) && eq.suppression.alpha > 0);
  assert.ok(existsSync(join(out, 'base-model', 'tokenizer.json')));
});

test('every eval item becomes one prompt row with the exact generation prompt', () => {
  const prompts = readJsonl<{ id: string; prompt: string; messages: unknown[] }>(join(out, 'eval', 'prompts.jsonl'));
  assert.equal(prompts.length, manifest.evalPrompts.rows);
  assert.ok(prompts.every((p) => p.prompt.endsWith('<|im_start|>assistant\n') && p.messages.length > 0));
});

test('several GPUs keep the global batch', () => {
  assert.deepEqual(splitBatch(8, 2, 1), { perDevice: 8, gradAccum: 2 });
  assert.deepEqual(splitBatch(8, 2, 2), { perDevice: 8, gradAccum: 1 });
  assert.deepEqual(splitBatch(8, 2, 4), { perDevice: 4, gradAccum: 1 });
  assert.deepEqual(splitBatch(4, 4, 2), { perDevice: 4, gradAccum: 2 });
  assert.equal(splitBatch(8, 2, 3), null);
});

test('truncation counts follow each engine\'s rule', () => {
  const seq = (len: number, cut: boolean) => ({ id: 'x', ids: new Int32Array(len), promptLength: 2, promptTruncated: false, responseTruncated: cut });
  assert.deepEqual(truncationCounts([seq(10, false), seq(12, true), seq(9, false)], 10, 1), { sequences: 3, unitrace: 1, trl: 2 });
});

test('YAML: exponents PyYAML reads as floats, nested lists of maps, comments', () => {
  const text = toYaml({ '# a comment': '', lr: 5e-7, eps: 1e-8, n: 3, on: true, name: 'a "b"', list: ['q', 'k'], datasets: [{ path: 'json', columns: ['prompt'] }] });
  assert.equal(text, '# a comment\nlr: 5.0e-7\neps: 1.0e-8\nn: 3\non: true\nname: "a \\"b\\""\nlist: ["q", "k"]\ndatasets:\n  - path: "json"\n    columns: ["prompt"]\n');
});
