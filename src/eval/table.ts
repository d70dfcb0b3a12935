// A plain-text view of summary.json for the terminal.
import type { Estimate } from './bootstrap.js';
import type { EvalSummary, ModelEntry } from './results.js';

const SHOWN = [
  'strict', 'lenient', 'tag.cot', 'tag.logic', 'tag.code', 'tag.answer', 'logicValid', 'codeCompiles', 'codeRuns',
  'programAccuracy', 'statedAccuracy', 'agreement', 'countdownAccuracy', 'countdownScore', 'instructionPass', 'finalAccuracy',
  'lengthTokens', 'lengthChars', 'judgeScore', 'winRate',
];

export function formatEstimate(e: Estimate | undefined): string {
  if (!e || e.mean === null) return '-';
  const digits = Math.abs(e.mean) >= 10 ? 1 : 3;
  return `${e.mean.toFixed(digits)} [${e.lo!.toFixed(digits)}, ${e.hi!.toFixed(digits)}] n=${e.n}`;
}

/** One block per model: metric rows, columns all / in-distribution / out-of-distribution. */
export function formatSummary(summary: EvalSummary): string {
  const lines: string[] = [];
  lines.push(`judge: ${summary.judge.name} (${summary.judge.scale}); bootstrap ${summary.bootstrap.resamples} resamples, 95% intervals`);
  if (summary.decoding) {
    const d = summary.decoding;
    lines.push(`decoding: maxNewTokens ${d.maxNewTokens}, temperature ${d.temperature}, topP ${d.topP}, seed ${d.seed}, batch ${d.batchSize}`);
  }
  lines.push(`code executed: ${summary.sandbox.executed ? `yes (limit ${summary.sandbox.timeoutMs} ms)` : 'no'}; items: ${summary.items.n} (${summary.items.id} in-distribution, ${summary.items.ood} out-of-distribution)`);
  for (const [name, m] of Object.entries(summary.models)) lines.push('', ...modelBlock(name, m));
  return lines.join('\n');
}

function modelBlock(name: string, m: ModelEntry): string[] {
  const rows = SHOWN.filter((k) => m.all[k] && m.all[k]!.n > 0).map((k) => [k, formatEstimate(m.all[k]), formatEstimate(m.id[k]), formatEstimate(m.ood[k])]);
  const head = [`${name}${m.adapter ? ` (${m.adapter})` : ''}`, 'all', 'in-distribution', 'out-of-distribution'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(head), ...rows.map(fmt)];
}
