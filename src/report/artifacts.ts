// Reads everything a run folder holds into one plain object. The report computes every number it shows
// from this object, so what is on screen can always be traced back to a file of the run.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonl } from '../util/jsonl.js';

/** One optimizer step as the trainers log it (DPO rows add `rewards/*` and `logps/*`). */
export interface MetricRow {
  step: number;
  epoch: number;
  loss: number;
  lr?: number;
  gradNorm?: number;
  tokens?: number;
  tokensPerSecond?: number;
  [key: string]: number | undefined;
}

export interface TrainingRun {
  /** Folder name under the run, e.g. `sft-unified`. */
  name: string;
  dir: string;
  metrics: MetricRow[];
  config: Record<string, unknown> | null;
  /** provenance.json, written when another engine trained the stage (`unitrace import`). */
  provenance: Record<string, unknown> | null;
}

export interface ResponseRow {
  id?: string;
  family?: string;
  ood?: boolean;
  response?: string;
  text?: string;
  [key: string]: unknown;
}

export interface StageMarker {
  stage: string;
  wallSeconds: number;
  startedAt?: string;
  finishedAt?: string;
  mode?: string;
  [key: string]: unknown;
}

export interface RunArtifacts {
  runDir: string;
  config: Record<string, unknown> | null;
  dataManifest: Record<string, unknown> | null;
  /** `source` counts of each SFT dataset file, e.g. { 'sft-unified': { original: 300, unified: 200 } }. */
  datasets: Record<string, Record<string, number>>;
  sft: Record<SftVariant, TrainingRun | null>;
  dpo: TrainingRun | null;
  evalSummary: Record<string, unknown> | null;
  /** Responses per evaluated model, from eval/<model>/responses.jsonl. */
  responses: Record<string, ResponseRow[]>;
  /** Prompts of the evaluation items by id, from data/eval.jsonl (responses carry only the id). */
  evalPrompts: Map<string, unknown>;
  pipelineManifest: Record<string, unknown> | null;
  markers: StageMarker[];
}

export const SFT_VARIANTS = ['original', 'cot', 'unified'] as const;
export type SftVariant = (typeof SFT_VARIANTS)[number];
/** The five evaluated models, in the order the tables show them. */
export const MODEL_NAMES = ['reference', 'sft-original', 'sft-cot', 'sft-unified', 'sft-unified-dpo'] as const;

function readJson(file: string): Record<string, unknown> | null {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: invalid JSON (${(e as Error).message})`);
  }
}

function readTraining(runDir: string, name: string): TrainingRun | null {
  const dir = join(runDir, name);
  const file = join(dir, 'metrics.jsonl');
  if (!existsSync(file)) return null;
  const metrics = readJsonl<MetricRow>(file);
  metrics.forEach((row, i) => {
    if (typeof row.step !== 'number' || typeof row.loss !== 'number') throw new Error(`${file}:${i + 1}: a metrics row needs numeric 'step' and 'loss'`);
  });
  return { name, dir, metrics, config: readJson(join(dir, 'config.json')), provenance: readJson(join(dir, 'provenance.json')) };
}

function countSources(file: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of readJsonl<{ source?: string }>(file)) {
    const key = row.source ?? 'unknown';
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export function loadRun(runDir: string): RunArtifacts {
  if (!existsSync(runDir) || !statSync(runDir).isDirectory()) throw new Error(`${runDir}: no such run folder`);
  const dataDir = join(runDir, 'data');
  const datasets: RunArtifacts['datasets'] = {};
  if (existsSync(dataDir)) {
    for (const f of readdirSync(dataDir).filter((f) => /^sft-.*\.jsonl$/.test(f)).sort())
      datasets[f.replace(/\.jsonl$/, '')] = countSources(join(dataDir, f));
  }
  const responses: RunArtifacts['responses'] = {};
  const evalDir = join(runDir, 'eval');
  if (existsSync(evalDir)) {
    for (const m of readdirSync(evalDir).sort()) {
      const file = join(evalDir, m, 'responses.jsonl');
      if (existsSync(file)) responses[m] = readJsonl<ResponseRow>(file);
    }
  }
  const markerDir = join(runDir, 'pipeline');
  const markers: StageMarker[] = existsSync(markerDir)
    ? readdirSync(markerDir)
        .filter((f) => f.endsWith('.done.json'))
        .map((f) => readJson(join(markerDir, f)) as unknown as StageMarker)
        .sort((a, b) => String(a.finishedAt ?? '').localeCompare(String(b.finishedAt ?? '')))
    : [];
  const evalPrompts = new Map<string, unknown>();
  const evalItems = join(dataDir, 'eval.jsonl');
  if (existsSync(evalItems)) for (const item of readJsonl<{ id?: string; prompt?: unknown }>(evalItems)) if (item.id !== undefined) evalPrompts.set(String(item.id), item.prompt);
  return {
    runDir,
    evalPrompts,
    config: readJson(join(runDir, 'config.json')),
    dataManifest: readJson(join(dataDir, 'manifest.json')),
    datasets,
    sft: {
      original: readTraining(runDir, 'sft-original'),
      cot: readTraining(runDir, 'sft-cot'),
      unified: readTraining(runDir, 'sft-unified'),
    },
    dpo: readTraining(runDir, 'dpo'),
    evalSummary: readJson(join(evalDir, 'summary.json')),
    responses,
    pipelineManifest: readJson(join(markerDir, 'manifest.json')),
    markers,
  };
}
