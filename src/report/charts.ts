// Plotly figure specifications built from the run's metrics. Plain JSON: the HTML page draws them with
// the inlined plotly.js, and report-data.json carries them for other front ends (report.qmd).
import type { RunArtifacts, TrainingRun } from './artifacts.js';
import { SFT_VARIANTS } from './artifacts.js';
import type { EvalTable } from './evaluation.js';
import { epochAxis, epochLosses } from './training.js';

export interface Figure {
  id: string;
  title: string;
  /** What the reader should look at, shown under the chart. */
  caption: string;
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

const COLORS: Record<string, string> = { original: '#7f7f7f', cot: '#1f77b4', unified: '#d62728' };

function baseLayout(xTitle: string, yTitle: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    xaxis: { title: { text: xTitle } },
    yaxis: { title: { text: yTitle } },
    margin: { l: 60, r: 20, t: 30, b: 50 },
    legend: { orientation: 'h', y: -0.2 },
    height: 360,
    ...extra,
  };
}

/** Lines, with markers when there are few points (a one-step run would otherwise draw nothing). */
const lineMode = (points: number): string => (points <= 60 ? 'lines+markers' : 'lines');

function series(run: TrainingRun, key: string): { x: number[]; y: (number | null)[]; mode: string } {
  return {
    x: run.metrics.map((r) => r.step),
    y: run.metrics.map((r) => (typeof r[key] === 'number' && Number.isFinite(r[key]) ? (r[key] as number) : null)),
    mode: lineMode(run.metrics.length),
  };
}

export function sftFigures(run: RunArtifacts): Figure[] {
  const runs = SFT_VARIANTS.map((v) => [v, run.sft[v]] as const).filter((e): e is [typeof e[0], TrainingRun] => e[1] !== null);
  if (runs.length === 0) return [];
  const perStep = runs.map(([v, r]) => ({
    type: 'scatter',
    mode: lineMode(r.metrics.length),
    name: `sft-${v} (per step)`,
    x: epochAxis(r.metrics),
    y: r.metrics.map((m) => (Number.isFinite(m.loss) ? m.loss : null)),
    line: { color: COLORS[v], width: 1 },
    opacity: 0.8,
  }));
  const perEpoch = runs.map(([v, r]) => {
    const e = epochLosses(r.metrics);
    return { type: 'scatter', mode: 'lines+markers', name: `sft-${v}`, x: e.map((p) => p.epoch), y: e.map((p) => p.meanLoss), line: { color: COLORS[v] } };
  });
  return [
    {
      id: 'sft-loss-steps',
      title: 'SFT loss per optimizer step, every run, all epochs',
      caption: 'x is the epoch (steps spread inside their epoch). The unified run is the paper\'s model; original and CoT are its baselines.',
      data: perStep,
      layout: baseLayout('epoch', 'loss (mean token NLL)', { yaxis: { title: { text: 'loss' }, type: 'log' } }),
    },
    {
      id: 'sft-loss-epochs',
      title: 'SFT mean loss per epoch',
      caption: 'The paper\'s Table 1 "loss reduction" compares the first and last points of the unified curve.',
      data: perEpoch,
      layout: baseLayout('epoch', 'mean loss', { yaxis: { title: { text: 'mean loss' }, type: 'log' } }),
    },
  ];
}

export function dpoFigures(run: RunArtifacts): Figure[] {
  const dpo = run.dpo;
  if (!dpo || dpo.metrics.length === 0) return [];
  const loss = series(dpo, 'loss');
  const chosen = series(dpo, 'rewards/chosen');
  const rejected = series(dpo, 'rewards/rejected');
  const margins = series(dpo, 'rewards/margins');
  const acc = series(dpo, 'rewards/accuracies');
  return [
    {
      id: 'dpo-loss',
      title: 'DPO loss per optimizer step',
      caption: 'The sigmoid loss starts at ln 2 ≈ 0.693 (policy = reference) and falls as the policy separates chosen from rejected.',
      data: [{ type: 'scatter', name: 'loss', ...loss }],
      layout: baseLayout('step', 'loss'),
    },
    {
      id: 'dpo-rewards',
      title: 'DPO implicit rewards: chosen and rejected',
      caption: 'β·log(π/π_ref) of each response. Both may drift negative; what matters is the gap between them.',
      data: [
        { type: 'scatter', name: 'rewards/chosen', ...chosen, line: { color: '#2ca02c' } },
        { type: 'scatter', name: 'rewards/rejected', ...rejected, line: { color: '#d62728' } },
      ],
      layout: baseLayout('step', 'reward'),
    },
    {
      id: 'dpo-margins',
      title: 'DPO reward margin and accuracy',
      caption: 'Margin = chosen − rejected reward; accuracy = share of pairs whose chosen reward is higher.',
      data: [
        { type: 'scatter', name: 'rewards/margins', ...margins },
        { type: 'scatter', name: 'rewards/accuracies', ...acc, yaxis: 'y2' },
      ],
      layout: baseLayout('step', 'margin', { margin: { l: 60, r: 60, t: 30, b: 50 }, yaxis2: { title: { text: 'accuracy' }, overlaying: 'y', side: 'right', range: [0, 1], tickmode: 'auto' } }),
    },
  ];
}

/** Bars with 95% intervals for a few headline metrics, when the evaluation wrote them. */
export function evalFigure(table: EvalTable, metrics: string[]): Figure | null {
  const shown = metrics.filter((m) => table.metrics.includes(m));
  if (shown.length === 0 || table.models.length === 0) return null;
  const data = shown.map((m) => {
    const cells = table.models.map((model) => table.cells[model]?.[m]);
    return {
      type: 'bar',
      name: m,
      x: table.models,
      y: cells.map((c) => c?.value ?? null),
      error_y: {
        type: 'data',
        symmetric: false,
        array: cells.map((c) => (c?.hi !== undefined ? c.hi - c.value : 0)),
        arrayminus: cells.map((c) => (c?.lo !== undefined ? c.value - c.lo : 0)),
      },
    };
  });
  return {
    id: 'eval-bars',
    title: 'Headline evaluation metrics, all models (95% bootstrap intervals)',
    caption: 'Error bars are the evaluator\'s bootstrap confidence intervals; overlapping bars are not a reliable difference.',
    data,
    layout: baseLayout('model', 'share', { barmode: 'group' }),
  };
}
