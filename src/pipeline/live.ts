// Live training curves in a notebook: redraws an SVG chart as steps arrive, at most once a second, into a
// display that overwrites itself (tslab.newDisplay()). The display is passed in, so this module needs no tslab.
import { lineChartSvg, type SvgSeries } from '../report/svg.js';
import type { StageHooks, StepRow } from './stage.js';

export interface SvgDisplay {
  svg(svg: string): void;
}

export interface LiveChartOptions {
  title: string;
  /** Metrics to draw, one line each (default: loss). */
  metrics?: string[];
  logY?: boolean;
  /** Minimum milliseconds between redraws. */
  intervalMs?: number;
}

export interface LiveChart extends StageHooks {
  /** Every step row received, by stage. */
  rows: Map<string, StepRow[]>;
  /** Draws the current state now (call once after the stage, so the last steps are shown); no-op before any step. */
  draw(): void;
}

export function liveChart(display: SvgDisplay, options: LiveChartOptions): LiveChart {
  const metrics = options.metrics ?? ['loss'];
  const rows = new Map<string, StepRow[]>();
  let last = 0;
  const draw = (): void => {
    if (rows.size === 0) return; // nothing trained in this session (stages finished earlier)
    const series: SvgSeries[] = [];
    for (const [stage, rs] of rows)
      for (const m of metrics) series.push({ name: metrics.length > 1 ? `${stage} ${m}` : stage, x: rs.map((r) => r.epoch ?? r.step!), y: rs.map((r) => r[m] ?? NaN) });
    const xLabel = [...rows.values()].some((rs) => rs.some((r) => r.epoch !== undefined)) ? 'epoch' : 'step';
    display.svg(lineChartSvg(series, { title: options.title, xLabel, yLabel: metrics.join(', '), logY: options.logY }));
  };
  return {
    rows,
    draw,
    onStep(stage, row, progress) {
      const list = rows.get(stage) ?? [];
      list.push(row);
      rows.set(stage, list);
      const now = Date.now();
      if (now - last >= (options.intervalMs ?? 1000) || row.step === progress.totalSteps) {
        last = now;
        draw();
      }
    },
  };
}
