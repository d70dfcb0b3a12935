import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readConfig } from '../../src/model/config.js';
import { EMBEDDED_MODEL_DIR } from '../../src/model/load.js';
import { peftKey, LORA_MODULES } from '../../src/model/lora.js';
import { writeSafetensors, type NamedTensor } from '../../src/model/safetensors.js';
import { importStage, metricsFromLogHistory, readEnvironment } from '../../src/interop/import.js';
import { readResponses } from '../../src/eval/responses.js';
import { readDone } from '../../src/pipeline/markers.js';
import { buildReportData } from '../../src/report/data.js';
import { evaluateRun } from '../../src/eval/evaluate.js';
import { readEvalItems } from '../../src/eval/items.js';
import { readJsonl, writeJsonl } from '../../src/util/jsonl.js';
import { randn } from '../helpers/random.js';
import { makeDataRun } from './helpers.js';

let root: string;
let run: Awaited<ReturnType<typeof makeDataRun>>;

/** A TRL output folder as `trl sft` leaves it: final adapter, checkpoint-N/trainer_state.json, trl env. */
function fakeTrlOutput(dir: string, opts: { steps: number; seed?: number; extraTensor?: NamedTensor; modulesToSave?: string[] }): void {
  const seed = opts.seed ?? 0;
  const c = readConfig(EMBEDDED_MODEL_DIR);
  const r = 4;
  const tensors: NamedTensor[] = [];
  for (let layer = 0; layer < c.numHiddenLayers; layer++)
    for (const m of LORA_MODULES.slice(0, 4)) {
      const out = m === 'q_proj' || m === 'o_proj' ? c.numAttentionHeads * c.headDim : c.numKeyValueHeads * c.headDim;
      const inp = m === 'o_proj' ? c.numAttentionHeads * c.headDim : c.hiddenSize;
      tensors.push({ name: peftKey(layer, m, 'A'), shape: [r, inp], data: randn(r * inp, seed + layer * 10 + 1) });
      tensors.push({ name: peftKey(layer, m, 'B'), shape: [m === 'o_proj' ? c.hiddenSize : out, r], data: randn((m === 'o_proj' ? c.hiddenSize : out) * r, seed + layer * 10 + 2) });
    }
  if (opts.extraTensor) tensors.push(opts.extraTensor);
  mkdirSync(join(dir, `checkpoint-${opts.steps}`), { recursive: true });
  writeSafetensors(join(dir, 'adapter_model.safetensors'), tensors);
  const cfg = { peft_type: 'LORA', task_type: 'CAUSAL_LM', r, lora_alpha: 8, lora_dropout: 0, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], bias: 'none', base_model_name_or_path: 'base-model', modules_to_save: opts.modulesToSave ?? null, rank_pattern: {}, alpha_pattern: {}, use_rslora: false, use_dora: false, fan_in_fan_out: false };
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(cfg));
  const log = Array.from({ length: opts.steps }, (_, i) => ({ epoch: (i + 1) / opts.steps, grad_norm: 1 + i, learning_rate: 1e-3, loss: 2 - i * 0.1, mean_token_accuracy: 0.5, num_tokens: 100 * (i + 1), step: i + 1 }));
  writeFileSync(join(dir, `checkpoint-${opts.steps}`, 'trainer_state.json'), JSON.stringify({ global_step: opts.steps, max_steps: opts.steps, train_batch_size: 8, log_history: log }));
  writeFileSync(join(dir, 'trl-env.txt'), '\nCopy-paste the following information when reporting an issue:\n\n- Platform: Linux-test\n- TRL version: 1.13.0\n- PyTorch version: 2.13.0+cu128\n- accelerator(s): NVIDIA H200\n- Transformers version: 5.18.0\n- PEFT version: 0.21.0\n- vLLM version: not installed\n');
  writeFileSync(join(dir, 'wall-time.json'), JSON.stringify({ stage: 'x', wallSeconds: 42 }));
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'unitrace-import-'));
  run = await makeDataRun(root);
});
after(() => rmSync(root, { recursive: true, force: true }));

test('TRL log history becomes metrics rows in unitrace names; the closing summary is not a step', () => {
  const rows = metricsFromLogHistory(
    [
      { loss: 1.5, grad_norm: 2, learning_rate: 1e-4, num_tokens: 50, epoch: 0.5, step: 1, 'rewards/margins': 0.1 },
      { train_runtime: 3, train_loss: 1.2, epoch: 1, step: 2 },
    ],
    'state.json',
  );
  assert.deepEqual(rows, [{ loss: 1.5, gradNorm: 2, lr: 1e-4, tokens: 50, epoch: 0.5, step: 1, 'rewards/margins': 0.1 }]);
  assert.throws(() => metricsFromLogHistory([{ loss: 'x', step: 1 }], 'state.json'), /state.json: log_history\[0\]/);
});

test('import writes metrics, adapter, config, provenance and the pipeline marker; the report names the engine', async () => {
  const trl = join(root, 'trl-sft');
  fakeTrlOutput(trl, { steps: 3 });
  const result = await importStage(trl, run.dir, 'sft-unified');
  const stage = join(run.dir, 'sft-unified');
  const rows = readJsonl<Record<string, number>>(join(stage, 'metrics.jsonl'));
  assert.equal(rows.length, 3);
  assert.deepEqual(Object.keys(rows[0]!).sort(), ['epoch', 'gradNorm', 'loss', 'lr', 'mean_token_accuracy', 'step', 'tokens']);
  assert.ok(existsSync(join(stage, 'adapter', 'adapter_model.safetensors')));
  assert.equal(JSON.parse(readFileSync(join(stage, 'adapter', 'adapter_config.json'), 'utf8')).base_model_name_or_path, EMBEDDED_MODEL_DIR);
  assert.equal(result.provenance.label, 'trl 1.13.0 + peft 0.21.0 + transformers 5.18.0 + torch 2.13.0+cu128');
  assert.equal(result.provenance.hardware, 'NVIDIA H200');
  assert.equal(result.provenance.wallSeconds, 42);
  const marker = readDone(run.dir, 'sft-unified')!;
  assert.equal(marker.mode, 'imported');
  assert.equal((marker.result as { adapter: string }).adapter, join(stage, 'adapter'));
  const report = buildReportData(run.dir);
  assert.equal(report.sftRuns.find((r) => r.name === 'sft-unified')!.engine, 'trl 1.13.0 + peft 0.21.0 + transformers 5.18.0 + torch 2.13.0+cu128 on NVIDIA H200');
});

test('import refuses adapters it could not map back, naming the file', async () => {
  const withEmbedding = join(root, 'trl-embed');
  fakeTrlOutput(withEmbedding, { steps: 1, extraTensor: { name: 'base_model.model.model.embed_tokens.weight', shape: [2, 2], data: new Float32Array(4) } });
  await assert.rejects(importStage(withEmbedding, run.dir, 'sft-cot'), /adapter_model.safetensors: tensor base_model.model.model.embed_tokens.weight is not a LoRA matrix/);
  const saved = join(root, 'trl-saved');
  fakeTrlOutput(saved, { steps: 1, modulesToSave: ['lm_head'] });
  await assert.rejects(importStage(saved, run.dir, 'sft-cot'), /modules_to_save \["lm_head"\] cannot be imported/);
  const empty = join(root, 'trl-empty');
  mkdirSync(empty);
  await assert.rejects(importStage(empty, run.dir, 'sft-cot'), /no trainer_state.json/);
});

test('a DPO import needs the SFT adapter it started from in the run', async () => {
  const exportOut = join(root, 'export-out');
  fakeTrlOutput(join(exportOut, 'sft-unified'), { steps: 2, seed: 1000 });
  fakeTrlOutput(join(exportOut, 'dpo'), { steps: 2 });
  // the run's sft-unified is still the adapter imported by the test above, not this export's
  await assert.rejects(importStage(join(exportOut, 'dpo'), run.dir, 'dpo'), /import sft-unified first/);
  await importStage(join(exportOut, 'sft-unified'), run.dir, 'sft-unified');
  const dpo = await importStage(join(exportOut, 'dpo'), run.dir, 'dpo');
  assert.equal(dpo.rows, 2);
  assert.equal(readDone(run.dir, 'dpo')!.mode, 'imported');
});

test('versions come from the model card when trl env was not saved', () => {
  const dir = join(root, 'card');
  mkdirSync(dir);
  writeFileSync(join(dir, 'README.md'), '### Framework versions\n\n- PEFT 0.21.0\n- TRL: 1.13.0\n- Transformers: 5.18.0\n- Pytorch: 2.13.0\n');
  assert.deepEqual(readEnvironment(dir).versions, { peft: '0.21.0', trl: '1.13.0', transformers: '5.18.0', torch: '2.13.0' });
});

test('eval --responses scores responses generated elsewhere as the run\'s generations', async () => {
  const items = readEvalItems(join(run.dir, 'data', 'eval.jsonl'));
  const dir = join(root, 'responses');
  mkdirSync(dir);
  writeJsonl(join(dir, 'reference.jsonl'), items.map((it) => ({ id: it.id, response: 'no idea' })));
  writeJsonl(join(dir, 'sft-unified.jsonl'), items.map((it) => ({ id: it.id, response: `<answer>${String(it.groundTruth ?? '')}</answer>`, tokens: 5, finishReason: 'stop' })));
  assert.equal(readResponses(dir, 'sft-unified', items)!.length, items.length);
  assert.equal(readResponses(dir, 'sft-cot', items), null);
  writeJsonl(join(dir, 'sft-cot.jsonl'), items.slice(1).map((it) => ({ id: it.id, response: 'x' })));
  assert.throws(() => readResponses(dir, 'sft-cot', items), /sft-cot.jsonl: no response for 1 of/);
  const config = { ...run.config, eval: { ...run.config.eval, judge: 'offline' as const, bootstrap: 20 } };
  const summary = await evaluateRun(config, run.dir, { responses: dir, models: ['sft-unified'] });
  const responses = readJsonl<{ id: string; response: string }>(join(run.dir, 'eval', 'sft-unified', 'responses.jsonl'));
  assert.equal(responses.length, items.length);
  assert.ok(responses.every((r) => r.response.startsWith('<answer>')));
  assert.ok(summary.models['sft-unified'] && summary.models.reference);
});
