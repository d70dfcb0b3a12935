// The paper's Table 1 recomputed from a run, and the "paper vs ours" verdicts. Every `ours` value comes
// from the run's artifacts; each verdict states the rule that decided it.
import type { RunArtifacts } from './artifacts.js';
import { evalTable, findMetric, formatStats, type EvalTable, type FormatStats } from './evaluation.js';
import { PAPER } from './paper.js';
import { summarizeTraining, type TrainingSummary } from './training.js';

export type Status = 'reproduced' | 'not reproduced' | 'not measured';

export interface Table1Row {
  metric: string;
  paper: string;
  paperDetails: string;
  ours: string;
  oursDetails: string;
  status: Status;
  rule: string;
}

export interface Claim {
  claim: string;
  paper: string;
  ours: string;
  status: Status;
  rule: string;
}

export interface Findings {
  unifiedTraining: TrainingSummary | null;
  balance: { synthetic: number; total: number; ratio: number } | null;
  configuredEpochs: number | null;
  unifiedFormat: FormatStats | null;
  evalTable: EvalTable;
  table1: Table1Row[];
  claims: Claim[];
}

const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;
const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(3) : x.toPrecision(3));
const verdict = (measured: boolean, ok: boolean): Status => (!measured ? 'not measured' : ok ? 'reproduced' : 'not reproduced');

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

export function computeFindings(run: RunArtifacts): Findings {
  const unified = run.sft.unified;
  const training = unified ? summarizeTraining(unified.metrics) : null;
  const balance = datasetBalance(run);
  const configuredEpochs = (getPath(run.config, 'sft.epochs') as number | undefined) ?? null;
  const unifiedResponses = run.responses['sft-unified'];
  const format = unifiedResponses ? formatStats(unifiedResponses) : null;
  const table = evalTable(run.evalSummary);
  const unifiedDone = run.markers.some((m) => m.stage === 'sft-unified');
  const exposures = balance && training ? balance.synthetic * training.epochs : null;

  const table1: Table1Row[] = [
    {
      metric: 'Dataset balance',
      paper: pct(PAPER.syntheticRatio, 0) + ' synthetic',
      paperDetails: `${PAPER.nSynthetic} traces / ${PAPER.nOriginal + PAPER.nSynthetic} total`,
      ours: balance ? `${pct(balance.ratio)} synthetic` : '-',
      oursDetails: balance ? `${balance.synthetic} traces / ${balance.total} total (data/sft-unified.jsonl)` : 'no data/sft-unified.jsonl',
      status: verdict(balance !== null, balance !== null && Math.abs(balance.ratio - PAPER.syntheticRatio) < 0.005),
      rule: 'synthetic share within 0.5 points of 40%',
    },
    {
      metric: 'Training epochs',
      paper: `${PAPER.epochs} completed`,
      paperDetails: `${PAPER.traceExposures.toLocaleString('en-US')} trace exposures, ${PAPER.optimizerSteps.toLocaleString('en-US')} optimizer steps`,
      ours: training ? `${training.epochs} completed` + (configuredEpochs !== null ? ` of ${configuredEpochs} configured` : '') : '-',
      oursDetails: training
        ? `${exposures !== null ? exposures.toLocaleString('en-US') : '?'} trace exposures, ${training.steps.toLocaleString('en-US')} optimizer steps`
        : 'no sft-unified/metrics.jsonl',
      status: verdict(training !== null, training !== null && training.epochs >= PAPER.epochs),
      rule: `${PAPER.epochs} epochs completed`,
    },
    {
      metric: 'Loss reduction',
      paper: pct(PAPER.lossReduction),
      paperDetails: `${PAPER.firstLoss} → ${PAPER.lastLoss}`,
      ours: training?.lossReduction != null ? pct(training.lossReduction) : '-',
      oursDetails: training?.firstEpochLoss != null ? `${fmt(training.firstEpochLoss)} → ${fmt(training.lastEpochLoss!)} (mean loss, first → last epoch)` : '',
      status: verdict(training?.lossReduction != null, (training?.lossReduction ?? 0) >= 0.9),
      rule: 'reduction of at least 90%',
    },
    {
      metric: 'Training stability',
      paper: 'Excellent',
      paperDetails: 'no OOM errors',
      ours: training ? (training.nonFiniteLosses === 0 && unifiedDone ? 'stable' : training.nonFiniteLosses ? 'non-finite losses' : 'unfinished') : '-',
      oursDetails: training
        ? `${training.nonFiniteLosses} non-finite losses, ${training.lossSpikes} epoch(s) with mean loss up >10%, max grad norm ${training.maxGradNorm !== null ? fmt(training.maxGradNorm) : '-'}; stage ${unifiedDone ? 'finished' : 'has no finished marker'}`
        : '',
      status: verdict(training !== null, training !== null && training.nonFiniteLosses === 0 && unifiedDone),
      rule: 'stage finished, no NaN/Inf loss',
    },
    {
      metric: 'Format compliance',
      paper: pct(PAPER.formatCompliance, 0),
      paperDetails: 'all outputs show structure',
      ours: format && format.n ? `${pct(format.strict)} strict` : '-',
      oursDetails: format && format.n ? `${pct(format.lenient)} lenient, ${format.n} held-out prompts (eval/sft-unified/responses.jsonl)` : 'no evaluated responses',
      status: verdict(!!format?.n, (format?.strict ?? 0) >= 0.95),
      rule: 'strict compliance of at least 95%',
    },
    {
      metric: 'Trace structure',
      paper: 'Present',
      paperDetails: '<cot><logic><code> tags found',
      ours: format && format.n ? (format.tags.cot > 0 && format.tags.logic > 0 && format.tags.code > 0 ? 'present' : 'missing tags') : '-',
      oursDetails: format && format.n ? (['cot', 'logic', 'code', 'answer'] as const).map((t) => `<${t}> ${pct(format.tags[t], 0)}`).join(', ') : '',
      status: verdict(!!format?.n, !!format && format.tags.cot > 0 && format.tags.logic > 0 && format.tags.code > 0),
      rule: '<cot>, <logic> and <code> each found in some output',
    },
  ];

  const judge = (model: string) => findMetric(table, model, /judge|quality|score/i);
  const win = (model: string) => findMetric(table, model, /win/i);
  const ju = judge('sft-unified');
  const jb = judge('sft-original');
  const jd = judge('sft-unified-dpo');
  const wd = win('sft-unified-dpo');
  const claims: Claim[] = [
    { claim: 'A 40% synthetic mix (200 of 500)', paper: table1[0]!.paper, ours: table1[0]!.ours, status: table1[0]!.status, rule: table1[0]!.rule },
    { claim: '100 epochs, 20,000 trace exposures', paper: table1[1]!.paperDetails, ours: table1[1]!.oursDetails, status: table1[1]!.status, rule: table1[1]!.rule },
    { claim: '98.7% training loss reduction', paper: table1[2]!.paperDetails, ours: `${table1[2]!.ours} (${table1[2]!.oursDetails})`, status: table1[2]!.status, rule: table1[2]!.rule },
    { claim: 'Stable training', paper: 'no OOM errors, smooth convergence', ours: table1[3]!.oursDetails, status: table1[3]!.status, rule: table1[3]!.rule },
    { claim: '100% format compliance', paper: '100%', ours: table1[4]!.ours + (table1[4]!.oursDetails ? ` (${table1[4]!.oursDetails})` : ''), status: table1[4]!.status, rule: table1[4]!.rule },
    {
      claim: 'Unified traces keep answer quality close to the baseline',
      paper: `${PAPER.judgeUnified} vs ${PAPER.judgeBaseline} (judge score, unified vs SFT baseline)`,
      ours: ju && jb ? `${fmt(ju.estimate.value)} vs ${fmt(jb.estimate.value)} (${ju.key}${table.judge ? `, ${table.judge} judge` : ''})` : '-',
      status: verdict(!!ju && !!jb, !!ju && !!jb && ju.estimate.value >= jb.estimate.value - 0.05),
      rule: 'unified score at least the baseline score minus 0.05',
    },
    {
      claim: 'DPO did not improve on SFT',
      paper: 'DPO fell below the SFT models and under a 50% win rate',
      ours: jd && ju ? `${fmt(jd.estimate.value)} after DPO vs ${fmt(ju.estimate.value)} before` + (wd ? `; ${wd.key} ${fmt(wd.estimate.value)}` : '') : '-',
      status: verdict(!!jd && !!ju, !!jd && !!ju && jd.estimate.value <= ju.estimate.value),
      rule: 'DPO model scores no higher than the unified SFT model',
    },
  ];
  return { unifiedTraining: training, balance, configuredEpochs, unifiedFormat: format, evalTable: table, table1, claims };
}
