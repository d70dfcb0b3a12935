// The route through the real Hugging Face stack: PEFT reads unitrace's adapters and unitrace reads
// PEFT's (logits within 1e-4 both ways), TRL's parser reads the exported configs as the run's settings,
// and the exported job runs with real TRL on the CPU, comes back with `unitrace import`, and is
// evaluated and reported. Skipped, with the reason, where the venv or one of its packages is missing.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { exportRun } from '../../src/interop/export.js';
import { sftStageConfig } from '../../src/interop/trl-config.js';
import { EMBEDDED_MODEL_DIR, loadModel } from '../../src/model/load.js';
import { createLora, loadAdapter, saveAdapter, type LoraAdapter } from '../../src/model/lora.js';
import type { Qwen2Model } from '../../src/model/qwen2.js';
import { loadTokenizer } from '../../src/model/tokenizer.js';
import { sftConfig } from '../../src/pipeline/stages.js';
import { fromRoot } from '../../src/util/paths.js';
import { Rng } from '../../src/util/rng.js';
import { compare } from '../helpers/compare.js';
import { randn } from '../helpers/random.js';
import { hfVenv, makeDataRun } from './helpers.js';

const venv = hfVenv();
const skip = 'skip' in venv ? venv.skip : false;
const bin = 'bin' in venv ? venv.bin : '';
const HELPER = fromRoot('test', 'interop', 'hf_interop.py');
const CLI = fromRoot('bin', 'unitrace.mjs');

let root: string;
let run: Awaited<ReturnType<typeof makeDataRun>>;
let out: string;
let model: Qwen2Model;
let ours: LoraAdapter;
let modelIds: number[];
let ref: { plain: number[][]; unitraceAdapter: number[][]; peftAdapter: number[][] };
let parsed: Record<string, Record<string, unknown>>;
// No network here: the Hub libraries must not try it.
const offline = { HF_HUB_OFFLINE: '1', HF_DATASETS_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', HF_HUB_DISABLE_TELEMETRY: '1' };

function logitsOf(ids: number[], adapter?: LoraAdapter): Float32Array {
  return tf.tidy(() => model.forward(tf.tensor2d(Int32Array.from(ids), [1, ids.length], 'int32'), adapter ? { lora: adapter } : {}).dataSync() as Float32Array);
}

before(async () => {
  if (skip) return;
  root = mkdtempSync(join(tmpdir(), 'unitrace-hf-'));
  run = await makeDataRun(root);
  out = join(root, 'export');
  await exportRun(run.dir, out);

  // A text whose real Qwen tokens are all in the pruned vocabulary: the same ids on both sides.
  const tok = loadTokenizer(EMBEDDED_MODEL_DIR);
  const rows = readFileSync(join(out, 'data', 'sft-unified.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { prompt: never[]; completion: never[] });
  const texts = rows.map((r) => tok.applyChatTemplate([...r.prompt, ...r.completion], { addGenerationPrompt: false }));
  const text = texts.find((t) => tok.toModelIds(tok.encodeBase(t)).length === tok.encodeBase(t).length);
  if (!text) throw new Error('no exported text lies inside the pruned vocabulary');
  const baseIds = tok.encodeBase(text).slice(0, 48);
  modelIds = tok.toModelIds(baseIds);
  model = await loadModel('embedded');
  ours = createLora(model, { r: 4, alpha: 8, dropout: 0, rslora: false, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] }, new Rng(3));
  ours.names().forEach((name, i) => {
    if (name.includes('lora_B')) ours.setWeight(name, randn(ours.weights.get(name)!.size, 100 + i).map((x) => x * 0.2));
  });
  saveAdapter(ours, join(root, 'unitrace-adapter'));
  writeFileSync(join(root, 'ids.json'), JSON.stringify(baseIds));
  const job = {
    logits: [join(out, 'base-model'), join(EMBEDDED_MODEL_DIR, 'vocab_map.json'), join(root, 'ids.json'), join(root, 'unitrace-adapter'), join(root, 'peft-adapter'), join(root, 'logits.json')],
    configs: [out, join(root, 'configs.json')],
  };
  writeFileSync(join(root, 'job.json'), JSON.stringify(job));
  execFileSync(join(bin, 'python'), [HELPER, join(root, 'job.json')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...offline } });
  ref = JSON.parse(readFileSync(join(root, 'logits.json'), 'utf8'));
  parsed = JSON.parse(readFileSync(join(root, 'configs.json'), 'utf8'));
});
after(() => {
  ours?.dispose();
  model?.dispose();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('PEFT applies a unitrace adapter and unitrace a PEFT adapter: logits within 1e-4 both ways', { skip }, () => {
  compare(logitsOf(modelIds), ref.plain, 1e-4, 'base model: pruned (unitrace) vs widened (transformers)');
  const d1 = compare(logitsOf(modelIds, ours), ref.unitraceAdapter, 1e-4, 'unitrace adapter: unitrace vs PEFT');
  const theirs = loadAdapter(join(root, 'peft-adapter'), model);
  assert.equal(theirs.scaling, 16 / Math.sqrt(8), 'rsLoRA scaling read from the PEFT config');
  const d2 = compare(logitsOf(modelIds, theirs), ref.peftAdapter, 1e-4, 'PEFT adapter: unitrace vs PEFT');
  theirs.dispose();
  // the adapters move the logits, so agreeing is more than agreeing on the base
  assert.ok(Math.max(...ref.unitraceAdapter[0]!.map((v, i) => Math.abs(v - ref.plain[0]![i]!))) > 1e-2);
  assert.ok(Math.max(...ref.peftAdapter[0]!.map((v, i) => Math.abs(v - ref.plain[0]![i]!))) > 1e-2);
  console.error(`adapter logits: max |diff| ${d1.toExponential(1)} (unitrace -> PEFT), ${d2.toExponential(1)} (PEFT -> unitrace)`);
});

test("TRL's own parser reads every exported config as the run's settings", { skip }, () => {
  const c = run.config;
  for (const stage of ['sft-original', 'sft-cot', 'sft-unified'] as const) {
    const s = sftConfig(c, stage).sft;
    const want = sftStageConfig(sftConfig(c, stage), stage, { file: `data/${stage}.jsonl`, rows: 0 }, 'base-model');
    assert.deepEqual(parsed[stage], {
      model: 'base-model',
      lr: s.lr,
      epochs: s.epochs,
      warmup_steps: parsed[stage]!.warmup_steps,
      batch: s.batchSize,
      accum: s.gradAccum,
      max_length: s.maxPromptTokens + s.maxResponseTokens,
      seed: c.seed,
      max_grad_norm: s.maxGradNorm,
      bf16: false,
      lora: [true, s.lora.r, s.lora.alpha, s.lora.dropout, [...s.lora.targetModules].sort(), s.lora.rslora],
      data: [`data/${stage}.jsonl`],
      completion_only_loss: true,
      beta: null,
      loss_type: want.yaml.loss_type ?? 'chunked_nll',
    });
  }
  const d = parsed.dpo!;
  assert.equal(d.model, 'out/sft-unified-merged');
  assert.equal(d.lr, c.dpo.lr);
  assert.equal(d.beta, c.dpo.beta);
  assert.deepEqual(d.loss_type, [c.dpo.loss]);
  assert.deepEqual(d.lora, [true, c.dpo.lora.r, c.dpo.lora.alpha, c.dpo.lora.dropout, [...c.dpo.lora.targetModules].sort(), c.dpo.lora.rslora]);
});

test('the exported SFT and DPO run with real TRL on the CPU; import, eval and report name the engine', { skip, timeout: 600_000 }, () => {
  const t0 = performance.now();
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, STAGES: 'sft-unified dpo', TRL: join(bin, 'trl'), PYTHON: join(bin, 'python'), DPO_ARGS: '--precompute_ref_log_probs false', OMP_NUM_THREADS: '2', ...offline };
  const train = spawnSync(join(out, 'run.sh'), ['--max_steps', '2', '--per_device_train_batch_size', '1'], { env, encoding: 'utf8' });
  assert.equal(train.status, 0, `run.sh failed:\n${(train.stderr ?? '').slice(-3000)}`);
  const t1 = performance.now();
  const unitrace = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, UNITRACE_PRESET: 'smoke' } });
    assert.equal(r.status, 0, `unitrace ${args.join(' ')} failed:\n${r.stderr}`);
    return r.stdout;
  };
  for (const stage of ['sft-unified', 'dpo']) assert.match(unitrace('import', join(out, 'out', stage), '--into', run.dir, '--stage', stage), /trl 1\.\d+/);
  // generate.py answers the prompts for one model (few tokens: the route, not the answers, is tested); unitrace generates the others
  const g = spawnSync(join(bin, 'python'), ['generate.py', '--model', 'sft-unified', '--batch-size', '16', '--max-new-tokens', '16'], { cwd: out, env, encoding: 'utf8' });
  assert.equal(g.status, 0, `generate.py failed:\n${g.stderr.slice(-2000)}`);
  const t2 = performance.now();
  unitrace('eval', '--run', run.dir, '--models', 'sft-unified,sft-unified-dpo', '--responses', join(out, 'responses'), '--judge', 'offline', '--bootstrap', '20');
  unitrace('report', run.dir, '--out', join(root, 'report'), '--no-pdf');
  const data = JSON.parse(readFileSync(join(root, 'report', 'report-data.json'), 'utf8')) as { sftRuns: { name: string; engine: string; summary: { steps: number } }[]; dpoEngine: string; figures: { id: string }[] };
  const sft = data.sftRuns.find((r) => r.name === 'sft-unified')!;
  assert.match(sft.engine, /^trl 1\.\d+\.\d+ \+ peft .* on cpu$/);
  assert.equal(sft.summary.steps, 2);
  assert.match(data.dpoEngine, /^trl /);
  assert.ok(data.figures.some((f) => f.id.startsWith('sft-')) && data.figures.some((f) => f.id.startsWith('dpo-')), 'TRL curves in the training section');
  const html = readFileSync(join(root, 'report', 'index.html'), 'utf8');
  assert.ok(html.includes(sft.engine));
  const summary = JSON.parse(readFileSync(join(run.dir, 'eval', 'summary.json'), 'utf8')) as { models: Record<string, unknown> };
  assert.deepEqual(Object.keys(summary.models).sort(), ['reference', 'sft-unified', 'sft-unified-dpo']);
  assert.ok(JSON.stringify(summary.models['sft-unified']).includes(join('responses', 'sft-unified.jsonl')), 'sft-unified was scored from generate.py\'s file');
  const s = (ms: number) => (ms / 1000).toFixed(0);
  console.error(`TRL route: run.sh (sft-unified + dpo, 2 steps each) ${s(t1 - t0)} s, import + generate.py ${s(t2 - t1)} s, eval + report ${s(performance.now() - t2)} s`);
});
