// Metric keys of eval/summary.json in words, for table rows ("all.programAccuracy" -> "program answer
// correct, all items"). The long definitions come from the summary itself (its `metrics` field).
import { METRIC_DOCS } from '../eval/results.js';

const NAMES: Record<string, string> = {
  strict: 'strict trace format',
  lenient: 'all four tags, any order',
  'tag.cot': 'has <cot>',
  'tag.logic': 'has <logic>',
  'tag.code': 'has <code>',
  'tag.answer': 'has <answer>',
  logicValid: 'logic lines well-formed',
  codeCompiles: 'code compiles',
  codeRuns: 'code runs',
  programAccuracy: 'program answer correct',
  statedAccuracy: 'stated <answer> correct',
  agreement: 'program and <answer> agree',
  countdownAccuracy: 'Countdown solved',
  instructionPass: 'instruction followed',
  finalAccuracy: 'final answer correct',
  lengthChars: 'length (characters)',
  lengthTokens: 'length (tokens)',
  judgeScore: 'judge score (0-1)',
  winRate: 'win rate vs reference',
};

const GROUPS: Record<string, string> = { all: 'all items', id: 'in-distribution items', ood: 'out-of-distribution items' };

/** Splits `all.tag.cot` / `families.arithmetic.strict` into the item group and the metric name. */
export function splitMetricKey(key: string): { group: string; metric: string } {
  const parts = key.split('.');
  if (parts[0] === 'families' && parts.length >= 3) return { group: `family ${parts[1]}`, metric: parts.slice(2).join('.') };
  if (parts[0]! in GROUPS && parts.length >= 2) return { group: GROUPS[parts[0]!]!, metric: parts.slice(1).join('.') };
  return { group: '', metric: key };
}

/** A metric key in words, e.g. "program answer correct, all items". */
export function metricLabel(key: string): string {
  const { group, metric } = splitMetricKey(key);
  const name = NAMES[metric] ?? metric;
  return group ? `${name}, ${group}` : name;
}

/** The definition of a metric: from the run's summary.json when it documents it, else this version's. */
export function metricDefinition(key: string, docs: Record<string, unknown> | null | undefined): string | null {
  const { metric } = splitMetricKey(key);
  const d = docs?.[metric] ?? METRIC_DOCS[metric];
  return typeof d === 'string' ? d : null;
}
