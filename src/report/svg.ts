// A dependency-free SVG line chart for notebooks: it renders in JupyterLab, VS Code and in saved
// notebooks without running any JavaScript (which untrusted notebooks would not run).
import { escapeHtml } from './html.js';

export interface SvgSeries {
  name: string;
  x: readonly number[];
  y: readonly number[];
  color?: string;
}

export interface SvgChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  logY?: boolean;
}

// The report's colours in its run order: original (grey), cot (blue), unified (red), then others.
const PALETTE = ['#7f7f7f', '#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd'];

function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

const label = (v: number): string => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(3))));

export function lineChartSvg(series: readonly SvgSeries[], options: SvgChartOptions = {}): string {
  const W = options.width ?? 640;
  const H = options.height ?? 300;
  const pad = { l: 56, r: 12, t: options.title ? 28 : 12, b: 42 + 16 * Math.ceil(series.length / 3) };
  const tf = (y: number): number => (options.logY ? Math.log10(Math.max(y, 1e-12)) : y);
  const pts = series.flatMap((s) => s.x.map((x, i) => [x, s.y[i]!] as const)).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!options.logY || y > 0));
  let [x0, x1] = pts.length ? [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))] : [0, 1];
  let [y0, y1] = pts.length ? [Math.min(...pts.map((p) => tf(p[1]))), Math.max(...pts.map((p) => tf(p[1])))] : [0, 1];
  if (x1 === x0) (x0 -= 0.5), (x1 += 0.5);
  if (y1 === y0) (y0 -= 0.5), (y1 += 0.5);
  const sx = (x: number): number => pad.l + ((x - x0) / (x1 - x0)) * (W - pad.l - pad.r);
  const sy = (y: number): number => H - pad.b - ((tf(y) - y0) / (y1 - y0)) * (H - pad.t - pad.b);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`];
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  if (options.title) parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${escapeHtml(options.title)}</text>`);
  for (const t of niceTicks(x0, x1, 6)) {
    parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${pad.t}" y2="${H - pad.b}" stroke="#eee"/>`);
    parts.push(`<text x="${sx(t)}" y="${H - pad.b + 14}" text-anchor="middle">${label(t)}</text>`);
  }
  for (const t of niceTicks(y0, y1, 5)) {
    const v = options.logY ? 10 ** t : t;
    const y = H - pad.b - ((t - y0) / (y1 - y0)) * (H - pad.t - pad.b);
    parts.push(`<line x1="${pad.l}" x2="${W - pad.r}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${pad.l - 4}" y="${y + 4}" text-anchor="end">${label(v)}</text>`);
  }
  parts.push(`<rect x="${pad.l}" y="${pad.t}" width="${W - pad.l - pad.r}" height="${H - pad.t - pad.b}" fill="none" stroke="#999"/>`);
  if (options.xLabel) parts.push(`<text x="${(pad.l + W - pad.r) / 2}" y="${H - pad.b + 30}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`);
  if (options.yLabel) parts.push(`<text transform="translate(14 ${(pad.t + H - pad.b) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(options.yLabel)}${options.logY ? ' (log)' : ''}</text>`);
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length]!;
    const points = s.x
      .map((x, i) => [x, s.y[i]!] as const)
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!options.logY || y > 0));
    const d = points.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    // dots where points are few, so a one-point series (one epoch) is still visible
    if (points.length <= 30) for (const [x, y] of points) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${color}"/>`);
    const lx = pad.l + (k % 3) * 200;
    const ly = H - pad.b + 50 + 16 * Math.floor(k / 3);
    parts.push(`<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/><text x="${lx + 22}" y="${ly}">${escapeHtml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
