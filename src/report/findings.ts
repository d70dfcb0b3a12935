// The paper's Table 1 recomputed from a run, and the "paper vs ours" verdicts. Every `ours` value comes
// from the run's artifacts; each verdict states the rule that decided it, and says when the run measured
// something else than the paper did (another model, data, teacher or judge).
import type { ResponseRow, RunArtifacts } from './artifacts.js';
import { differencesFromPaper, type Instrument, type RunDifferences } from './differences.js';
import { evalTable, findMetric, formatStats, type EvalTable, type Estimate, type FormatStats } from './evaluation.js';
import { pairedDifference, type PairedDifference } from './paired.js';
import { PAPER } from './paper.js';
import { summarizeTraining, type TrainingSummary } from './training.js';

/**
 * setting matched: a configuration the run obeyed (not a finding). reproduced / not reproduced: the
 * measurement separates from the claim's threshold. inconclusive: the interval straddles it. not
 * comparable: the run used another model, data, teacher or judge than the claim rests on.
 */
export const VERDICTS = ['setting matched', 'reproduced', 'not reproduced', 'inconclusive', 'not comparable', 'not measured'] as const;
export type Status = (typeof VERDICTS)[number];

export interface Table1Row {
  metric: string;
  paper: string;
  paperDetails: string;
  ours: string;
  oursDetails: string;
  status: Status;
  rule: string;
  /** Why a row is not comparable (which setting differs). */
  why?: string;
}

export interface Claim {
  claim: string;
  paper: string;
  ours: string;
  status: Status;
  rule: string;
  why?: string;
  /** The paired difference the verdict rests on (model-vs-model claims). */
  paired?: PairedDifference;
}

export interface Findings {
  unifiedTraining: TrainingSummary | null;
  balance: { synthetic: number; total: number; ratio: number } | null;
  configuredEpochs: number | null;
  unifiedFormat: FormatStats | null;
  evalTable: EvalTable;
  differences: RunDifferences;
  table1: Table1Row[];
  claims: Claim[];
  /** Paired bootstrap differences between models on the same prompts. */
  comparisons: PairedDifference[];
  bootstrap: { resamples: number; seed: number };
}

const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;
export const fmt = (x: number): string => (x === 0 ? '0' : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(3) : x.toPrecision(3));
export const signed = (x: number): string => (x > 0 ? '+' : '') + fmt(x);

/** A verdict from a rule, unless nothing was measured or an instrument the claim rests on differs. */
function decide(measured: boolean, dependsOn: Instrument[], run: RunDifferences, status: () => Status): { status: Status; why?: string } {
  if (!measured) return { status: 'not measured' };
  const why = dependsOn.map((i) => run.differs[i]).filter((w): w is string => !!w);
  return why.length ? { status: 'not comparable', why: why.join('; ') } : { status: status() };
}

function getPath(o: Record<string, unknown> | null, path: string): unknown {
  let node: unknown = o;
  for (const k of path.split('.')) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[k] : undefined;
  return node;
}

/** Synthetic share of the paper's mix, from the unified SFT file's `source` counts. */
function datasetBalance(run: RunArtifacts): Findings['balance'] {
  const counts = run.datasets['sft-unified'];
  if (!counts) return null;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const synthetic = counts.unified ?? 0;
  return total ? { synthetic, total, ratio: synthetic / total } : null;
}

/** Table 1's two settings: the mix ratio and the epoch budget. Obeyed: "setting matched", else not comparable. */
function settingRows(balance: Findings['balance'], training: TrainingSummary | null, configuredEpochs: number | null): Table1Row[] {
  const exposures = balance && training ? balance.synthetic * training.epochs : null;
  const setting = (measured: boolean, ok: boolean, why: string): { status: Status; why?: string } =>
    !measured ? { status: 'not measured' } : ok ? { status: 'setting matched' } : { status: 'not comparable', why };
  return [
    {
      metric: 'Dataset balance',
      paper: pct(PAPER.syntheticRatio, 0) + ' synthetic',
      paperDetails: `${PAPER.nSynthetic} traces / ${PAPER.nOriginal + PAPER.nSynthetic} total`,
      ours: balance ? `${pct(balance.ratio)} synthetic` : '-',
      oursDetails: balance ? `${balance.synthetic} traces / ${balance.total} total (data/sft-unified.jsonl)` : 'no data/sft-unified.jsonl',
      ...setting(balance !== null, balance !== null && Math.abs(balance.ratio - PAPER.syntheticRatio) < 0.005, `different data: ${balance ? pct(balance.ratio) : '?'} synthetic`),
      rule: 'a setting: synthetic share within 0.5 points of 40%',
    },
    {
      metric: 'Training epochs',
      paper: `${PAPER.epochs} completed`,
      paperDetails: `${PAPER.traceExposures.toLocaleString('en-US')} trace exposures, ${PAPER.optimizerSteps.toLocaleString('en-US')} optimizer steps`,
      ours: training ? `${training.epochs} completed` + (configuredEpochs !== null ? ` of ${configuredEpochs} configured` : '') : '-',
      oursDetails: training
        ? `${exposures !== null ? exposures.toLocaleString('en-US') : '?'} trace exposures, ${training.steps.toLocaleString('en-US')} optimizer steps`
        : 'no sft-unified/metrics.jsonl',
      ...setting(training !== null, training !== null && training.epochs >= PAPER.epochs, `different training budget: ${training?.epochs ?? '?'} epochs`),
      rule: `a setting: ${PAPER.epochs} epochs completed`,
    },
  ];
}

/** Loss reduction (a number tied to the model and tokenizer) and stability (this run's curve). */
function trainingRows(training: TrainingSummary | null, unifiedDone: boolean, diff: RunDifferences): Table1Row[] {
  const stable = training !== null && unifiedDone && training.nonFiniteLosses === 0 && training.lossSpikes === 0;
  return [
    {
      metric: 'Loss reduction',
      paper: pct(PAPER.lossReduction),
      paperDetails: `${PAPER.firstLoss} → ${PAPER.lastLoss}`,
      ours: training?.lossReduction != null ? pct(training.lossReduction) : '-',
      oursDetails: training?.firstEpochLoss != null ? `${fmt(training.firstEpochLoss)} → ${fmt(training.lastEpochLoss!)} (mean loss, first → last epoch)` : '',
      ...decide(training?.lossReduction != null, ['model'], diff, () => ((training!.lossReduction ?? 0) >= 0.9 ? 'reproduced' : 'not reproduced')),
      rule: 'reduction of at least 90%, on the paper\'s model (loss values depend on the model and its tokenizer)',
    },
    {
      metric: 'Training stability',
      paper: 'Excellent',
      paperDetails: 'no OOM errors, smooth convergence',
      ours: training ? (stable ? 'stable' : training.nonFiniteLosses ? 'non-finite losses' : !unifiedDone ? 'unfinished' : 'loss spikes') : '-',
      oursDetails: training
        ? `${training.nonFiniteLosses} non-finite losses, ${training.lossSpikes} epoch(s) with mean loss up >10%, max grad norm ${training.maxGradNorm !== null ? fmt(training.maxGradNorm) : '-'} (before clipping); stage ${unifiedDone ? 'finished' : 'has no finished marker'}`
        : '',
      ...decide(training !== null, [], diff, () => (stable ? 'reproduced' : 'not reproduced')),
      rule: 'stage finished, no NaN/Inf loss, no epoch whose mean loss rose more than 10%',
    },
  ];
}

/** Format compliance of the unified model: decided on the evaluator's interval when there is one. */
function formatRows(format: FormatStats | null, strict: Estimate | undefined, diff: RunDifferences): Table1Row[] {
  const measured = !!format?.n;
  const hasTags = !!format && format.tags.cot > 0 && format.tags.logic > 0 && format.tags.code > 0;
  const compliance = (): Status => {
    const value = format!.strict;
    if (value >= 0.95) return 'reproduced';
    return strict?.hi !== undefined && strict.hi >= 0.95 ? 'inconclusive' : 'not reproduced';
  };
  return [
    {
      metric: 'Format compliance',
      paper: pct(PAPER.formatCompliance, 0),
      paperDetails: 'all outputs show structure',
      ours: measured ? `${pct(format!.strict)} strict` : '-',
      oursDetails: measured
        ? `${pct(format!.lenient)} lenient, ${format!.n} held-out trace prompts${strict?.lo !== undefined && strict.hi !== undefined && strict.lo !== strict.hi ? `, 95% interval [${pct(strict.lo)}, ${pct(strict.hi)}]` : ''} (eval/sft-unified/responses.jsonl)`
        : 'no evaluated responses',
      ...decide(measured, [], diff, compliance),
      rule: 'strict compliance of at least 95%; inconclusive when below but the 95% interval reaches 95%',
    },
    {
      metric: 'Trace structure',
      paper: 'Present',
      paperDetails: '<cot><logic><code> tags found',
      ours: measured ? (hasTags ? 'present' : 'missing tags') : '-',
      oursDetails: measured ? (['cot', 'logic', 'code', 'answer'] as const).map((t) => `<${t}> ${pct(format!.tags[t], 0)}`).join(', ') : '',
      ...decide(measured, [], diff, () => (hasTags ? 'reproduced' : 'not reproduced')),
      rule: '<cot>, <logic> and <code> each found in some output',
    },
  ];
}

/** "A − B" of a paired difference in words, with its interval (or why there is none). */
export function describePaired(p: PairedDifference): string {
  if (p.diff === null) return `no prompt scored for both ${p.a} and ${p.b}`;
  const spread = p.constant ? `the same difference on all ${p.n} prompts` : `95% interval [${signed(p.lo!)}, ${signed(p.hi!)}], ${p.n} paired prompts`;
  return `${fmt(p.meanA!)} vs ${fmt(p.meanB!)}: difference ${signed(p.diff)} (${spread})`;
}

/** Interval of a paired difference; a constant difference is known exactly. */
const bounds = (p: PairedDifference): [number, number] => (p.constant ? [p.diff!, p.diff!] : [p.lo!, p.hi!]);

/** The two judge-score claims, decided on paired differences over the same prompts. */
function judgeClaims(run: RunArtifacts, table: EvalTable, diff: RunDifferences, boot: Findings['bootstrap']): Claim[] {
  const rows = (name: string): { name: string; rows: ResponseRow[] } => ({ name, rows: run.responses[name] ?? [] });
  const judgeKey = findMetric(table, 'sft-unified', /judge/i)?.key ?? 'judgeScore';
  const judgeName = table.judge ? `, ${table.judge} judge` : '';
  const quality = pairedDifference('judgeScore', rows('sft-unified'), rows('sft-original'), boot.resamples, boot.seed);
  const dpo = pairedDifference('judgeScore', rows('sft-unified-dpo'), rows('sft-unified'), boot.resamples, boot.seed);
  const win = findMetric(table, 'sft-unified-dpo', /win/i);
  const margin = -0.05;
  return [
    {
      claim: 'Unified traces keep answer quality close to the baseline',
      paper: `${PAPER.judgeUnified} vs ${PAPER.judgeBaseline} (${PAPER.judge} score, unified vs SFT baseline)`,
      ours: `${describePaired(quality)} (${judgeKey}${judgeName}; unified − original)`,
      ...decide(quality.diff !== null, ['judge'], diff, () => {
        const [lo, hi] = bounds(quality);
        return lo >= margin ? 'reproduced' : hi < margin ? 'not reproduced' : 'inconclusive';
      }),
      rule: 'paired difference unified − original: reproduced when its 95% interval lies above −0.05, not reproduced when below, else inconclusive',
      paired: quality,
    },
    {
      claim: 'DPO did not improve on SFT',
      paper: 'DPO fell below the SFT models and under a 50% win rate',
      ours: `${describePaired(dpo)} (DPO − unified SFT${judgeName})` + (win ? `; ${win.key} ${fmt(win.estimate.value)}` : ''),
      ...decide(dpo.diff !== null, ['judge'], diff, () => {
        const [lo, hi] = bounds(dpo);
        return lo > 0 ? 'not reproduced' : hi < 0 ? 'reproduced' : 'inconclusive';
      }),
      rule: 'paired difference DPO − unified SFT: reproduced when its 95% interval lies below 0, not reproduced when above, inconclusive when it holds 0',
      paired: dpo,
    },
  ];
}

/** An interval's bounds; a metric with the same value on every item is known exactly. */
const span = (e: Estimate): [number, number] => [e.lo ?? e.value, e.hi ?? e.value];
const withInterval = (name: string, metric: string, e: Estimate): string =>
  `${name} ${metric} ${fmt(e.value)}${e.lo !== undefined && e.hi !== undefined && e.lo !== e.hi ? ` [${fmt(e.lo)}, ${fmt(e.hi)}]` : ''}${e.n !== undefined ? ` n=${e.n}` : ''}`;

/**
 * The paper's motivating hypothesis (section 1: executable code gives precise, verifiable answers), which it
 * did not measure: the unified model's executed programs against the baselines' own answers, in-distribution.
 */
function accuracyClaim(table: EvalTable): Claim {
  const cell = (model: string, metric: string) => table.cells[model]?.[`id.${metric}`];
  const unified = cell('sft-unified', 'programAccuracy');
  // sft-cot learns to end in plain words ("So the answer is: ..."), without an <answer> section, so its
  // statedAccuracy is 0 by construction; its finalAccuracy reads that answer from the whole response.
  const baselines = [
    ['sft-cot', 'statedAccuracy', cell('sft-cot', 'statedAccuracy')],
    ['sft-cot', 'finalAccuracy', cell('sft-cot', 'finalAccuracy')],
    ['sft-original', 'finalAccuracy', cell('sft-original', 'finalAccuracy')],
  ].filter((b): b is [string, string, Estimate] => b[2] !== undefined);
  const measured = unified !== undefined && baselines.length > 0;
  return {
    claim: 'Executable code makes the small model answer more problems correctly',
    paper: 'the motivating hypothesis (code for precise computation, verifiable solutions); no accuracy measured',
    ours: measured ? [withInterval('sft-unified', 'programAccuracy', unified), ...baselines.map(([m, k, e]) => withInterval(m, k, e))].join(' vs ') + ' (in-distribution, 95% intervals)' : '-',
    status: !measured
      ? 'not measured'
      : baselines.every(([, , e]) => span(unified)[0] > span(e)[1])
        ? 'reproduced'
        : baselines.some(([, , e]) => span(unified)[1] < span(e)[0])
          ? 'not reproduced'
          : 'inconclusive',
    rule: "reproduced when the lower bound of sft-unified's in-distribution programAccuracy lies above the upper bounds of sft-cot's statedAccuracy and finalAccuracy and sft-original's finalAccuracy; not reproduced when its upper bound lies below any of their lower bounds; else inconclusive",
  };
}

/** The settings and findings of Table 1 as claims, in the paper's words. */
function table1Claims(t: Table1Row[]): Claim[] {
  const [balance, epochs, loss, stability, format] = t as [Table1Row, Table1Row, Table1Row, Table1Row, Table1Row];
  const keep = (r: Table1Row) => ({ status: r.status, rule: r.rule, ...(r.why ? { why: r.why } : {}) });
  return [
    { claim: 'A 40% synthetic mix (200 of 500)', paper: balance.paper, ours: balance.ours, ...keep(balance) },
    { claim: '100 epochs, 20,000 trace exposures', paper: epochs.paperDetails, ours: epochs.oursDetails, ...keep(epochs) },
    { claim: '98.7% training loss reduction', paper: loss.paperDetails, ours: loss.oursDetails ? `${loss.ours}: ${loss.oursDetails}` : loss.ours, ...keep(loss) },
    { claim: 'Stable training', paper: stability.paperDetails, ours: stability.oursDetails, ...keep(stability) },
    { claim: '100% format compliance', paper: '100%', ours: format.oursDetails ? `${format.ours}; ${format.oursDetails}` : format.ours, ...keep(format) },
  ];
}

/** Model pairs and metrics compared on the same prompts (only those both models were evaluated on). */
const COMPARED: [string, string][] = [['sft-unified', 'sft-original'], ['sft-unified', 'sft-cot'], ['sft-unified-dpo', 'sft-unified'], ['sft-unified', 'reference']];
const COMPARED_METRICS = ['strict', 'programAccuracy', 'finalAccuracy', 'judgeScore'];

function modelComparisons(run: RunArtifacts, boot: Findings['bootstrap']): PairedDifference[] {
  return COMPARED.flatMap(([a, b]) =>
    run.responses[a] && run.responses[b]
      ? COMPARED_METRICS.map((m) => pairedDifference(m, { name: a, rows: run.responses[a]! }, { name: b, rows: run.responses[b]! }, boot.resamples, boot.seed)).filter((p) => p.n > 0)
      : [],
  );
}

/** The evaluator's resample count and seed, so paired intervals are made like the table's. */
function bootstrapSettings(run: RunArtifacts): Findings['bootstrap'] {
  const resamples = getPath(run.evalSummary, 'bootstrap.resamples') ?? getPath(run.config, 'eval.bootstrap');
  const seed = getPath(run.evalSummary, 'seeds.bootstrap') ?? getPath(run.config, 'seed');
  return { resamples: typeof resamples === 'number' ? resamples : 1000, seed: typeof seed === 'number' ? seed : 0 };
}

export function computeFindings(run: RunArtifacts): Findings {
  const training = run.sft.unified ? summarizeTraining(run.sft.unified.metrics) : null;
  const balance = datasetBalance(run);
  const configuredEpochs = (getPath(run.config, 'sft.epochs') as number | undefined) ?? null;
  const format = run.responses['sft-unified'] ? formatStats(run.responses['sft-unified']) : null;
  const table = evalTable(run.evalSummary);
  const differences = differencesFromPaper(run.config, table.judge);
  const bootstrap = bootstrapSettings(run);
  const table1 = [
    ...settingRows(balance, training, configuredEpochs),
    ...trainingRows(training, run.markers.some((m) => m.stage === 'sft-unified'), differences),
    ...formatRows(format, table.cells['sft-unified']?.['all.strict'], differences),
  ];
  const claims = [...table1Claims(table1), accuracyClaim(table), ...judgeClaims(run, table, differences, bootstrap)];
  return { unifiedTraining: training, balance, configuredEpochs, unifiedFormat: format, evalTable: table, differences, table1, claims, comparisons: modelComparisons(run, bootstrap), bootstrap };
}
