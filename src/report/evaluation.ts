// The evaluation side of the report: the metrics table read from eval/summary.json (whatever metrics the
// evaluator wrote, with their confidence intervals), and format statistics recomputed from the responses.
import { validateFormat } from '../trace/validate.js';
import { SECTION_NAMES, type SectionName } from '../trace/sections.js';
import { MODEL_NAMES, type ResponseRow } from './artifacts.js';

export interface Estimate {
  value: number;
  lo?: number;
  hi?: number;
  /** Items the metric was computed on (responses it applies to), when the evaluator recorded it. */
  n?: number;
}

export interface EvalTable {
  models: string[];
  /** Dotted metric paths in first-seen order, e.g. `all.strict`, `ood.countdownAccuracy`. */
  metrics: string[];
  cells: Record<string, Record<string, Estimate>>;
  judge: string | null;
}

const VALUE_KEYS = ['value', 'mean', 'estimate', 'point', 'rate'];
const LO_KEYS = ['lo', 'low', 'lower', 'ciLow', 'ci_low'];
const HI_KEYS = ['hi', 'high', 'upper', 'ciHigh', 'ci_high'];

function num(o: Record<string, unknown>, keys: string[]): number | undefined {
  for (const k of keys) if (typeof o[k] === 'number') return o[k] as number;
  return undefined;
}

/**
 * A number, or an object carrying a point estimate and optionally its interval. Returns 'empty' for an
 * estimate object without a value (a metric that applied to no response).
 */
function asEstimate(v: unknown): Estimate | 'empty' | null {
  if (typeof v === 'number' && Number.isFinite(v)) return { value: v };
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const value = num(o, VALUE_KEYS);
  if (value === undefined) return VALUE_KEYS.some((k) => k in o && (o[k] === null || typeof o[k] === 'number')) ? 'empty' : null;
  const ci = Array.isArray(o.ci) && o.ci.length === 2 ? (o.ci as number[]) : null;
  const est: Estimate = { value, lo: num(o, LO_KEYS) ?? ci?.[0], hi: num(o, HI_KEYS) ?? ci?.[1] };
  if (typeof o.n === 'number') est.n = o.n;
  return est;
}

function flatten(node: unknown, prefix: string, out: Map<string, Estimate>): void {
  const est = asEstimate(node);
  if (est === 'empty') return;
  if (est) {
    if (prefix) out.set(prefix, est);
    return;
  }
  if (!node || typeof node !== 'object' || Array.isArray(node)) return;
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
}

/** Finds the per-model objects in a summary: `{models: {name: {...}}}`, `{models: [{model|name, ...}]}` or `{name: {...}}`. */
function modelEntries(summary: Record<string, unknown>): [string, unknown][] {
  const models = summary.models;
  if (Array.isArray(models))
    return models.map((m, i) => {
      const o = m as Record<string, unknown>;
      return [String(o.model ?? o.name ?? `model-${i}`), o];
    });
  if (models && typeof models === 'object') return Object.entries(models as Record<string, unknown>);
  return Object.entries(summary).filter(([k, v]) => (MODEL_NAMES as readonly string[]).includes(k) && v && typeof v === 'object');
}

export function evalTable(summary: Record<string, unknown> | null): EvalTable {
  const table: EvalTable = { models: [], metrics: [], cells: {}, judge: null };
  if (!summary) return table;
  const judge = summary.judge;
  table.judge = typeof judge === 'string' ? judge : judge && typeof judge === 'object' ? String((judge as Record<string, unknown>).name ?? (judge as Record<string, unknown>).kind ?? JSON.stringify(judge)) : null;
  const seen = new Set<string>();
  const entries = modelEntries(summary).sort((a, b) => order(a[0]) - order(b[0]));
  for (const [name, node] of entries) {
    const flat = new Map<string, Estimate>();
    flatten(node, '', flat);
    table.models.push(name);
    table.cells[name] = Object.fromEntries(flat);
    for (const k of flat.keys()) if (!seen.has(k)) (seen.add(k), table.metrics.push(k));
  }
  return table;
}

function order(model: string): number {
  const i = (MODEL_NAMES as readonly string[]).indexOf(model);
  return i < 0 ? MODEL_NAMES.length : i;
}

/** Finds a metric whose dotted path matches: the over-all-items value (`all.*`) first, then the least nested. */
export function findMetric(table: EvalTable, model: string, pattern: RegExp): { key: string; estimate: Estimate } | null {
  const cells = table.cells[model];
  if (!cells) return null;
  const rank = (k: string): number => (k.startsWith('all.') ? 0 : k.split('.').length);
  const keys = Object.keys(cells).filter((k) => pattern.test(k)).sort((a, b) => rank(a) - rank(b) || a.length - b.length);
  return keys.length ? { key: keys[0]!, estimate: cells[keys[0]!]! } : null;
}

/** The generated text of a response row, whatever the evaluator called the field. */
export function responseText(row: ResponseRow): string | null {
  for (const k of ['response', 'text', 'output', 'completion', 'generated']) if (typeof row[k] === 'string') return row[k] as string;
  return null;
}

export interface FormatStats {
  n: number;
  strict: number;
  lenient: number;
  logicValid: number;
  tags: Record<SectionName, number>;
}

/**
 * Shares of responses that are strict, lenient, logic-valid, and that contain each tag, recomputed from
 * the text. Only items that ask for a trace count (rows the evaluator marked `kind: 'instruction'` do not).
 */
export function formatStats(rows: readonly ResponseRow[]): FormatStats {
  const tags = { cot: 0, logic: 0, code: 0, answer: 0 };
  let strict = 0;
  let lenient = 0;
  let logicValid = 0;
  let n = 0;
  for (const row of rows) {
    const text = responseText(row);
    if (text === null || row.kind === 'instruction') continue;
    n++;
    const v = validateFormat(text);
    if (v.strict) strict++;
    if (v.lenient) lenient++;
    if (v.logicValid) logicValid++;
    for (const t of SECTION_NAMES) if (v.tags[t]) tags[t]++;
  }
  const share = (k: number): number => (n ? k / n : 0);
  return {
    n,
    strict: share(strict),
    lenient: share(lenient),
    logicValid: share(logicValid),
    tags: { cot: share(tags.cot), logic: share(tags.logic), code: share(tags.code), answer: share(tags.answer) },
  };
}
