// Everything the report shows, as one JSON-serialisable object computed from a run folder. The HTML page,
// the PDF and report.qmd all render this same object (written next to them as report-data.json).
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fromRoot } from '../util/paths.js';
import { loadRun, SFT_VARIANTS, type ResponseRow, type RunArtifacts, type StageMarker } from './artifacts.js';
import { dpoFigures, evalFigure, sftFigures, type Figure } from './charts.js';
import { responseText } from './evaluation.js';
import { computeFindings, type Findings } from './findings.js';
import { PAPER } from './paper.js';
import { summarizeTraining, type TrainingSummary } from './training.js';

export interface Sample {
  model: string;
  id: string;
  family: string | null;
  prompt: string | null;
  response: string;
  /** What the response's code printed when the evaluator ran it. */
  codeOutput: string | null;
  verdicts: Record<string, unknown>;
}

export interface ManifestView {
  config: Record<string, unknown> | null;
  seeds: Record<string, unknown>;
  packages: Record<string, string>;
  packagesSource: string;
  backend: string | null;
  dataHashes: Record<string, string>;
  wallTimes: { stage: string; wallSeconds: number; mode?: string }[];
  totalWallSeconds: number;
  pipeline: Record<string, unknown> | null;
}

export interface SftRunView {
  name: string;
  /** sft.epochs of the run's own config.json (baselines may use sft.baselineEpochs). */
  configuredEpochs: number | null;
  summary: TrainingSummary;
}

/** How the evaluation's intervals were made, from eval/summary.json (what the statistics note explains). */
export interface StatisticsView {
  resamples: number | null;
  level: number | null;
  method: string | null;
  seed: number | null;
  /** Held-out items: all, in-distribution, out-of-distribution. */
  items: { n: number; id: number; ood: number } | null;
  /** Metric definitions as the evaluator wrote them. */
  metricDocs: Record<string, string>;
}

export interface ReportData {
  runName: string;
  runDir: string;
  preset: string | null;
  paper: typeof PAPER;
  findings: Findings;
  figures: Figure[];
  sftRuns: SftRunView[];
  dpo: TrainingSummary | null;
  samples: Sample[];
  manifest: ManifestView;
  statistics: StatisticsView;
}

/** The first string found under a key that names program output (stdout, codeOutput...), searched depth-first. */
function findCodeOutput(node: unknown, depth = 0): string | null {
  if (!node || typeof node !== 'object' || depth > 4) return null;
  for (const [k, v] of Object.entries(node as Record<string, unknown>))
    if (typeof v === 'string' && /^(stdout|codeOutput|code_output|output|printed)$/i.test(k)) return v;
  for (const v of Object.values(node as Record<string, unknown>)) {
    const found = findCodeOutput(v, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/** The user's question: from the response row, else from the evaluation item with the same id. */
function promptText(row: ResponseRow, items: Map<string, unknown>): string | null {
  const prompt = row.prompt ?? (row.id !== undefined ? items.get(String(row.id)) : undefined);
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt)) {
    const users = (prompt as { role?: string; content?: string }[]).filter((m) => m.role === 'user');
    return users.length ? String(users[users.length - 1]!.content ?? '') : null;
  }
  return null;
}

const VERDICT_KEYS = /^(strict|lenient|logicValid|codeCompiles|codeRuns|programAnswer|programCorrect|statedCorrect|finalCorrect|agree|correct)$/;

function pickVerdicts(row: ResponseRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const visit = (node: unknown, depth: number): void => {
    if (!node || typeof node !== 'object' || depth > 3) return;
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      if ((typeof v === 'boolean' || typeof v === 'number' || (typeof v === 'string' && k === 'programAnswer')) && VERDICT_KEYS.test(k) && !(k in out)) out[k] = v;
      else if (v && typeof v === 'object' && !Array.isArray(v)) visit(v, depth + 1);
    }
  };
  visit(row, 0);
  return out;
}

/** A few responses per trained model (unified first), preferring ones whose code produced output. */
export function pickSamples(run: RunArtifacts, perModel = 2): Sample[] {
  const out: Sample[] = [];
  for (const model of ['sft-unified', 'sft-unified-dpo']) {
    const rows = run.responses[model] ?? [];
    const ranked = [...rows.filter((r) => findCodeOutput(r) !== null), ...rows.filter((r) => findCodeOutput(r) === null)];
    for (const row of ranked.slice(0, perModel)) {
      const response = responseText(row);
      if (response === null) continue;
      out.push({
        model,
        id: String(row.id ?? ''),
        family: typeof row.family === 'string' ? row.family : null,
        prompt: promptText(row, run.evalPrompts),
        response,
        codeOutput: findCodeOutput(row),
        verdicts: pickVerdicts(row),
      });
    }
  }
  return out;
}

function collectMatching(node: unknown, test: (key: string, v: unknown) => boolean, prefix = '', out: Record<string, string> = {}, depth = 0): Record<string, string> {
  if (!node || typeof node !== 'object' || depth > 5) return out;
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (test(k, v)) out[path] = typeof v === 'string' ? v : JSON.stringify(v);
    else if (v && typeof v === 'object') collectMatching(v, test, path, out, depth + 1);
  }
  return out;
}

/** Versions of the dependencies as installed now (used when the run recorded none). */
export function installedPackages(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { version: string; dependencies?: Record<string, string> };
  const out: Record<string, string> = { unitrace: pkg.version, node: process.versions.node };
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    const file = fromRoot('node_modules', dep, 'package.json');
    if (existsSync(file)) out[dep] = (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return out;
}

function manifestView(run: RunArtifacts): ManifestView {
  const pm = run.pipelineManifest;
  const recorded = pm?.packages as Record<string, string> | undefined;
  const backendHits = collectMatching(
    { stages: run.markers.map((m) => m.result), pipeline: pm, sft: run.sft.unified?.config, eval: run.evalSummary },
    (k, v) => k === 'backend' && typeof v === 'string' && v !== 'auto',
  );
  const seeds = collectMatching({ config: run.config, data: run.dataManifest }, (k, v) => /seed/i.test(k) && (typeof v === 'number' || typeof v === 'string'));
  const dataHashes = collectMatching(run.dataManifest, (k, v) => /hash|sha/i.test(k) && typeof v === 'string');
  // data/manifest.json lists every written file as { name: sha256 }
  const files = run.dataManifest?.files;
  if (files && typeof files === 'object') for (const [f, h] of Object.entries(files as Record<string, unknown>)) if (typeof h === 'string') dataHashes[`data/${f}`] = h;
  const wallTimes = run.markers.map((m: StageMarker) => ({ stage: m.stage, wallSeconds: m.wallSeconds, mode: m.mode }));
  return {
    config: run.config,
    seeds,
    packages: recorded ?? installedPackages(),
    packagesSource: recorded ? 'recorded by the pipeline when the run started' : 'installed now (the run recorded none)',
    backend: Object.values(backendHits)[0] ?? null,
    dataHashes,
    wallTimes,
    totalWallSeconds: wallTimes.reduce((a, w) => a + (Number.isFinite(w.wallSeconds) ? w.wallSeconds : 0), 0),
    pipeline: pm,
  };
}

function statisticsView(summary: Record<string, unknown> | null): StatisticsView {
  const o = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
  const n = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const boot = o(summary?.bootstrap);
  const items = o(summary?.items);
  const docs = Object.fromEntries(Object.entries(o(summary?.metrics)).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return {
    resamples: n(boot.resamples),
    level: n(boot.level),
    method: typeof boot.method === 'string' ? boot.method : null,
    seed: n(o(summary?.seeds).bootstrap),
    items: typeof items.n === 'number' ? { n: items.n, id: n(items.id) ?? 0, ood: n(items.ood) ?? 0 } : null,
    metricDocs: docs,
  };
}

/** The evaluation metrics the bar chart shows, when the evaluator wrote them (see src/eval/results.ts). */
const HEADLINE = ['all.strict', 'all.programAccuracy', 'all.finalAccuracy', 'all.judgeScore', 'all.winRate'];

export function buildReportData(runDir: string): ReportData {
  const run = loadRun(runDir);
  const findings = computeFindings(run);
  const headline = HEADLINE.filter((m) => findings.evalTable.metrics.includes(m));
  const evalFig = evalFigure(findings.evalTable, headline);
  const config = run.config;
  return {
    runName: String((config?.run as { name?: string } | undefined)?.name ?? basename(runDir)),
    runDir,
    preset: typeof config?.preset === 'string' ? config.preset : null,
    paper: PAPER,
    findings,
    figures: [...sftFigures(run), ...dpoFigures(run), ...(evalFig ? [evalFig] : [])],
    sftRuns: SFT_VARIANTS.flatMap((v) => {
      const t = run.sft[v];
      if (!t) return [];
      const epochs = (t.config?.sft as { epochs?: unknown } | undefined)?.epochs;
      return [{ name: t.name, configuredEpochs: typeof epochs === 'number' ? epochs : null, summary: summarizeTraining(t.metrics) }];
    }),
    dpo: run.dpo ? summarizeTraining(run.dpo.metrics) : null,
    samples: pickSamples(run),
    manifest: manifestView(run),
    statistics: statisticsView(run.evalSummary),
  };
}

export const reportDataFile = (outDir: string): string => join(outDir, 'report-data.json');
