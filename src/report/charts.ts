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

/** Centered moving average over `window` points (shrinking at the ends); non-finite points are skipped. */
export function movingAverage(y: readonly (number | null)[], window: number): (number | null)[] {
  const half = Math.floor(Math.max(1, window) / 2);
  return y.map((_, i) => {
    let s = 0;
    let k = 0;
    for (let j = Math.max(0, i - half); j <= Math.min(y.length - 1, i + half); j++) {
      const v = y[j];
      if (v !== null && v !== undefined && Number.isFinite(v)) (s += v), k++;
    }
    return k ? s / k : null;
  });
}

/**
 * Log-axis ticks labelled as plain numbers (no 10^k, no "2e-3"): 1-2-5 x 10^k, or every digit when the
 * data spans too little for three of those; null (plotly's own ticks) when even that gives fewer than 3.
 */
export function logTicks(values: readonly (number | null)[]): { tickvals: number[]; ticktext: string[] } | null {
  const pos = values.filter((v): v is number => v !== null && Number.isFinite(v) && v > 0);
  if (pos.length === 0) return null;
  const lo = Math.min(...pos);
  const hi = Math.max(...pos);
  for (const mantissas of [[1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const all: number[] = [];
    for (let k = Math.floor(Math.log10(lo)) - 1; k <= Math.ceil(Math.log10(hi)); k++) for (const m of mantissas) all.push(Number((m * 10 ** k).toPrecision(1)));
    const inside = all.filter((v) => v >= lo && v <= hi);
    if (inside.length < 3 && mantissas.length < 9) continue;
    if (inside.length < 3) return null;
    // one tick beyond the data on each side, so the extremes sit between labelled lines
    const below = all.filter((v) => v < lo).pop();
    const above = all.find((v) => v > hi);
    const tickvals = [...(below !== undefined ? [below] : []), ...inside, ...(above !== undefined ? [above] : [])];
    return { tickvals, ticktext: tickvals.map((v) => String(v)) };
  }
  return null;
}

export function sftFigures(run: RunArtifacts): Figure[] {
  const runs = SFT_VARIANTS.map((v) => [v, run.sft[v]] as const).filter((e): e is [typeof e[0], TrainingRun] => e[1] !== null);
  if (runs.length === 0) return [];
  const allLoss: (number | null)[] = [];
  const perStep = runs.flatMap(([v, r]) => {
    const x = epochAxis(r.metrics);
    const y = r.metrics.map((m) => (Number.isFinite(m.loss) ? m.loss : null));
    allLoss.push(...y);
    // about 2% of the run's steps per window: flattens step noise, keeps epoch-scale trends
    const window = Math.max(1, Math.round(r.metrics.length / 50)) | 1;
    const smooth = movingAverage(y, window);
    return [
      { type: 'scatter', mode: lineMode(r.metrics.length), name: `sft-${v} (each step)`, legendgroup: v, showlegend: false, hoverinfo: 'skip', x, y, line: { color: COLORS[v], width: 1 }, marker: { size: 3 }, opacity: 0.25 },
      { type: 'scatter', mode: 'lines', name: window > 1 ? `sft-${v} (moving average of ${window} steps)` : `sft-${v}`, legendgroup: v, x, y: smooth, line: { color: COLORS[v], width: 2.5 } },
    ];
  });
  const perEpoch = runs.map(([v, r]) => {
    const e = epochLosses(r.metrics);
    return { type: 'scatter', mode: 'lines+markers', name: `sft-${v}`, x: e.map((p) => p.epoch), y: e.map((p) => p.meanLoss), line: { color: COLORS[v] } };
  });
  const epochLossValues = perEpoch.flatMap((t) => t.y);
  const logAxis = (title: string, values: readonly (number | null)[]) => ({ title: { text: title }, type: 'log', ...(logTicks(values) ?? {}) });
  return [
    {
      id: 'sft-loss-steps',
      title: 'SFT loss per optimizer step, every run, all epochs',
      caption:
        'Faint: the loss of every step; bold: its moving average. x is the epoch (steps spread inside their epoch), y is logarithmic. The unified run is the paper\'s model; original and CoT are its baselines.',
      data: perStep,
      layout: baseLayout('epoch', 'loss', { yaxis: logAxis('loss (mean token NLL, log scale)', allLoss) }),
    },
    {
      id: 'sft-loss-epochs',
      title: 'SFT mean loss per epoch',
      caption: 'The paper\'s Table 1 "loss reduction" compares the first and last points of the unified curve.',
      data: perEpoch,
      layout: baseLayout('epoch', 'mean loss', { yaxis: logAxis('mean loss (log scale)', epochLossValues) }),
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
