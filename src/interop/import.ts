// `unitrace import TRL_OUTPUT --into RUN_DIR --stage S`: a stage trained by TRL brought back into a
// unitrace run folder, in the layout the training stage writes (metrics.jsonl, adapter/, config.json,
// summary.json), plus provenance.json (engine, versions, hardware) and the pipeline's stage marker, so
// `unitrace eval --run`, `unitrace report` and `unitrace pipeline` treat it like a stage of their own.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { readConfig } from '../model/config.js';
import { resolveModelDir } from '../model/load.js';
import { LORA_MODULES, peftKey } from '../model/lora.js';
import { Checkpoint } from '../model/safetensors.js';
import { configHash, writeDone } from '../pipeline/markers.js';
import { sha256File } from '../util/hash.js';
import { sftConfig } from '../pipeline/stages.js';
import type { MetricsRow } from '../train/runfolder.js';
import { runConfig } from './export.js';
import { STAGES, type Stage } from './trl-config.js';

/** TRL / transformers log names -> unitrace's metrics.jsonl names; others keep their TRL name. */
const RENAMES: Record<string, string> = { learning_rate: 'lr', grad_norm: 'gradNorm', num_tokens: 'tokens' };

export interface Provenance {
  engine: 'trl';
  /** e.g. "trl 1.13.0 + peft 0.21.0 + transformers 5.18.0 + torch 2.13.0+cpu" */
  label: string;
  versions: Record<string, string>;
  /** `trl env`'s accelerator line (GPU names or cpu), and its platform. */
  hardware: string | null;
  platform: string | null;
  source: string;
  adapterFrom: string;
  trainerState: string;
  steps: number;
  maxSteps: number | null;
  trainBatchSize: number | null;
  wallSeconds: number | null;
  importedAt: string;
}

export interface ImportResult {
  stageDir: string;
  rows: number;
  provenance: Provenance;
}

/** Numbered checkpoint folders of a TRL output, newest last. */
function checkpoints(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /^checkpoint-\d+$/.test(f) && statSync(join(dir, f)).isDirectory())
    .sort((a, b) => Number(a.slice(11)) - Number(b.slice(11)))
    .map((f) => join(dir, f));
}

interface TrainerState {
  global_step: number;
  max_steps?: number;
  train_batch_size?: number;
  best_model_checkpoint?: string | null;
  log_history: Record<string, unknown>[];
}

function readJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
}

/** The newest trainer_state.json (the root's when TRL saved one there, else the last checkpoint's). */
export function findTrainerState(dir: string): string {
  const root = join(dir, 'trainer_state.json');
  const ckpts = checkpoints(dir).map((c) => join(c, 'trainer_state.json')).filter(existsSync);
  const candidates = [...ckpts, ...(existsSync(root) ? [root] : [])];
  if (candidates.length === 0) throw new Error(`${dir}: no trainer_state.json (in it or in a checkpoint-N/ folder); is this a TRL output_dir? save_strategy must not be "no"`);
  return candidates.reduce((a, b) => (readJson<TrainerState>(b).global_step >= readJson<TrainerState>(a).global_step ? b : a));
}

/** The adapter: the final one TRL's save_model wrote into the output folder, else the best, else the newest checkpoint's. */
export function findAdapter(dir: string, state: TrainerState): string {
  const has = (d: string) => existsSync(join(d, 'adapter_config.json')) && existsSync(join(d, 'adapter_model.safetensors'));
  if (has(dir)) return dir;
  const best = state.best_model_checkpoint ? resolve(dir, basename(state.best_model_checkpoint)) : null;
  if (best && has(best)) return best;
  const newest = checkpoints(dir).filter(has).pop();
  if (!newest) throw new Error(`${dir}: no PEFT adapter (adapter_config.json + adapter_model.safetensors) in it or its checkpoints; the TRL run must use use_peft: true`);
  return newest;
}

/** One metrics row per logged optimizer step (the closing train_runtime summary is not a step). */
export function metricsFromLogHistory(history: readonly Record<string, unknown>[], file: string): MetricsRow[] {
  const rows: MetricsRow[] = [];
  history.forEach((entry, i) => {
    if (!('loss' in entry) || 'train_runtime' in entry || Object.keys(entry).some((k) => k.startsWith('eval_'))) return;
    if (typeof entry.step !== 'number' || typeof entry.loss !== 'number') throw new Error(`${file}: log_history[${i}] has no numeric step and loss`);
    const row: Record<string, number> = {};
    for (const [k, v] of Object.entries(entry)) if (typeof v === 'number') row[RENAMES[k] ?? k] = v;
    rows.push(row as MetricsRow);
  });
  return rows;
}

/**
 * Checks the adapter against the run's model without loading it: LoRA on its linear layers only, with
 * the model's shapes. Vocabulary-sized tensors (modules_to_save, embedding targets) could not be mapped
 * back to a pruned vocabulary, and unitrace's loader reads LoRA matrices only.
 */
export function checkAdapter(adapterDir: string, modelDir: string): void {
  const cfgFile = join(adapterDir, 'adapter_config.json');
  const cfg = readJson<Record<string, unknown>>(cfgFile);
  if (cfg.peft_type !== 'LORA') throw new Error(`${cfgFile}: peft_type ${JSON.stringify(cfg.peft_type)} is not LORA`);
  if (Array.isArray(cfg.modules_to_save) && cfg.modules_to_save.length > 0) throw new Error(`${cfgFile}: modules_to_save ${JSON.stringify(cfg.modules_to_save)} cannot be imported (unitrace adapters hold LoRA matrices only)`);
  const model = readConfig(modelDir);
  const ckpt = Checkpoint.open(join(adapterDir, 'adapter_model.safetensors'));
  const r = cfg.r as number;
  const expected = new Map<string, number[]>();
  for (let layer = 0; layer < model.numHiddenLayers; layer++)
    for (const m of LORA_MODULES) {
      const shapes = modelLinearShape(model, m);
      expected.set(peftKey(layer, m, 'A'), [r, shapes[1]]);
      expected.set(peftKey(layer, m, 'B'), [shapes[0], r]);
    }
  for (const name of ckpt.tensors.keys()) {
    const shape = expected.get(name);
    if (!shape) throw new Error(`${join(adapterDir, 'adapter_model.safetensors')}: tensor ${name} is not a LoRA matrix of a Qwen2 linear layer (layers 0..${model.numHiddenLayers - 1})`);
    const got = ckpt.info(name).shape;
    if (got.join(',') !== shape.join(',')) throw new Error(`${join(adapterDir, 'adapter_model.safetensors')}: ${name} has shape [${got}], the run's model needs [${shape}]`);
  }
}

/** [out, in] of a linear layer, from the config (what the weights' shapes are). */
function modelLinearShape(c: ReturnType<typeof readConfig>, m: (typeof LORA_MODULES)[number]): [number, number] {
  const q = c.numAttentionHeads * c.headDim;
  const kv = c.numKeyValueHeads * c.headDim;
  const shapes: Record<string, [number, number]> = {
    q_proj: [q, c.hiddenSize],
    k_proj: [kv, c.hiddenSize],
    v_proj: [kv, c.hiddenSize],
    o_proj: [c.hiddenSize, q],
    gate_proj: [c.intermediateSize, c.hiddenSize],
    up_proj: [c.intermediateSize, c.hiddenSize],
    down_proj: [c.hiddenSize, c.intermediateSize],
  };
  return shapes[m]!;
}

/**
 * unitrace evaluates DPO as base + the run's sft-unified adapter (merged) + the DPO adapter, so that SFT
 * adapter must be the one TRL's DPO started from: in an export's layout, the sibling out/sft-unified.
 */
function checkDpoStart(trlOut: string, runDir: string): void {
  const started = join(trlOut, '..', 'sft-unified', 'adapter_model.safetensors');
  const inRun = join(runDir, 'sft-unified', 'adapter', 'adapter_model.safetensors');
  if (!existsSync(started)) return;
  if (!existsSync(inRun) || sha256File(started) !== sha256File(inRun))
    throw new Error(`${trlOut}: this DPO started from ${started}, but ${inRun} is ${existsSync(inRun) ? 'another adapter' : 'missing'}; import sft-unified first (unitrace import ${join(trlOut, '..', 'sft-unified')} --into ${runDir} --stage sft-unified)`);
}

/** Versions and hardware from `trl env` (run.sh saves it), else the model card TRL writes. */
export function readEnvironment(trlOut: string): { versions: Record<string, string>; hardware: string | null; platform: string | null } {
  const versions: Record<string, string> = {};
  let hardware: string | null = null;
  let platform: string | null = null;
  const envFile = join(trlOut, 'trl-env.txt');
  if (existsSync(envFile)) {
    for (const line of readFileSync(envFile, 'utf8').split('\n')) {
      const m = /^- (.+?): (.+)$/.exec(line.trim());
      if (!m) continue;
      const [, key, value] = m as unknown as [string, string, string];
      const v = /^(.+?) version$/i.exec(key);
      if (v && value !== 'not installed') versions[v[1]!.toLowerCase().replace(/^pytorch$/, 'torch')] = value;
      else if (/^accelerator/i.test(key)) hardware = value;
      else if (key === 'Platform') platform = value;
    }
  }
  const card = join(trlOut, 'README.md');
  if (Object.keys(versions).length === 0 && existsSync(card)) {
    for (const m of readFileSync(card, 'utf8').matchAll(/^- (PEFT|TRL|Transformers|Pytorch|Datasets|Tokenizers):? ([^\s]+)$/gm)) versions[m[1]!.toLowerCase().replace(/^pytorch$/, 'torch')] = m[2]!;
  }
  return { versions, hardware, platform };
}

export function engineLabel(versions: Record<string, string>): string {
  const parts = ['trl', 'peft', 'transformers', 'torch'].filter((k) => versions[k]).map((k) => `${k} ${versions[k]}`);
  return parts.length ? parts.join(' + ') : 'trl (versions not recorded)';
}

export async function importStage(trlOut: string, runDir: string, stage: Stage): Promise<ImportResult> {
  if (!(STAGES as readonly string[]).includes(stage)) throw new Error(`unknown stage ${stage} (stages: ${STAGES.join(', ')})`);
  if (!existsSync(trlOut) || !statSync(trlOut).isDirectory()) throw new Error(`${trlOut}: no such TRL output folder`);
  const config = runConfig(runDir);
  const stateFile = findTrainerState(trlOut);
  const state = readJson<TrainerState>(stateFile);
  if (!Array.isArray(state.log_history)) throw new Error(`${stateFile}: no log_history`);
  const rows = metricsFromLogHistory(state.log_history, stateFile);
  if (rows.length === 0) throw new Error(`${stateFile}: log_history holds no training step with a loss (logging_steps too large?)`);
  const adapterFrom = findAdapter(trlOut, state);
  checkAdapter(adapterFrom, resolveModelDir(config.model.source));
  if (stage === 'dpo') checkDpoStart(trlOut, runDir);

  const stageDir = join(runDir, stage);
  // What a unitrace run of this stage left is replaced, not mixed with TRL's.
  for (const name of ['metrics.jsonl', 'checkpoints', 'adapter', 'model', 'summary.json', 'base-model', 'reference-logps.json', 'provenance.json'])
    rmSync(join(stageDir, name), { recursive: true, force: true });
  mkdirSync(join(stageDir, 'adapter'), { recursive: true });
  copyFileSync(join(adapterFrom, 'adapter_model.safetensors'), join(stageDir, 'adapter', 'adapter_model.safetensors'));
  const adapterConfig = readJson<Record<string, unknown>>(join(adapterFrom, 'adapter_config.json'));
  // The export's base model is the run's model (widened or as is): name the run's model folder, as
  // transformers would load it (for DPO: the folder the unified SFT adapter is merged into).
  const modelDir = resolveModelDir(config.model.source);
  const baseName = existsSync(modelDir) ? resolve(modelDir) : config.model.source;
  writeFileSync(join(stageDir, 'adapter', 'adapter_config.json'), JSON.stringify({ ...adapterConfig, base_model_name_or_path: baseName }, null, 2) + '\n');
  writeFileSync(join(stageDir, 'metrics.jsonl'), rows.map((r) => JSON.stringify(r) + '\n').join(''));
  const stageConfig = stage === 'dpo' ? config : sftConfig(config, stage);
  writeFileSync(join(stageDir, 'config.json'), JSON.stringify(stageConfig, null, 2) + '\n');

  const env = readEnvironment(trlOut);
  const wallFile = join(trlOut, 'wall-time.json');
  const wallSeconds = existsSync(wallFile) ? (readJson<{ wallSeconds?: number }>(wallFile).wallSeconds ?? null) : null;
  const provenance: Provenance = {
    engine: 'trl',
    label: engineLabel(env.versions),
    versions: env.versions,
    hardware: env.hardware,
    platform: env.platform,
    source: resolve(trlOut),
    adapterFrom: resolve(adapterFrom),
    trainerState: resolve(stateFile),
    steps: state.global_step,
    maxSteps: state.max_steps ?? null,
    trainBatchSize: state.train_batch_size ?? null,
    wallSeconds,
    importedAt: new Date().toISOString(),
  };
  writeFileSync(join(stageDir, 'provenance.json'), JSON.stringify(provenance, null, 2) + '\n');
  const last = rows[rows.length - 1]!;
  const finished = state.max_steps === undefined || state.global_step >= state.max_steps;
  writeFileSync(join(stageDir, 'summary.json'), JSON.stringify({ stage, engine: provenance.label, steps: state.global_step, totalSteps: state.max_steps ?? null, finished, lastRow: last }, null, 2) + '\n');

  // The pipeline's marker: `unitrace pipeline` skips this stage and DPO finds the SFT adapter; the
  // report's stage table names the engine. Stages downstream of an SFT stage are marked for a rerun.
  const finishedAt = statSync(stateFile).mtime;
  const seconds = wallSeconds ?? 0;
  writeDone(runDir, {
    stage,
    startedAt: new Date(finishedAt.getTime() - seconds * 1000).toISOString(),
    finishedAt: finishedAt.toISOString(),
    wallSeconds: seconds,
    mode: 'imported',
    configHash: configHash(config),
    result: { adapter: join(stageDir, 'adapter'), steps: state.global_step, engine: provenance.label, hardware: env.hardware, backend: env.versions.torch ? `torch ${env.versions.torch}${env.hardware ? ` (${env.hardware})` : ''}` : 'torch' },
  });
  const downstream = stage === 'sft-unified' ? ['dpo', 'eval'] : ['eval'];
  for (const s of downstream) if (s !== stage) rmSync(join(runDir, 'pipeline', `${s}.done.json`), { force: true });
  return { stageDir, rows: rows.length, provenance };
}
