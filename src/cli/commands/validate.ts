// `unitrace validate FILE.jsonl`: format and code verdicts (issue #2 definitions) for every model output.
import type { Command } from 'commander';
import { inputFileProblem } from '../../util/files.js';
import { CliError, parseNumber, TIMEOUT_MS } from '../options.js';

interface ValidateOptions {
  field?: string;
  execute?: boolean;
  json?: boolean;
  timeoutMs: string;
}

interface RecordVerdict {
  line: number;
  strict: boolean;
  lenient: boolean;
  tags: { cot: boolean; logic: boolean; code: boolean; answer: boolean };
  logicValid: boolean;
  codeCompiles: boolean;
  codeRuns: boolean | null;
  stdout: string | null;
  errors: string[];
}

export function register(program: Command): void {
  program
    .command('validate')
    .description('score model outputs in a JSONL file against the unified trace format (strict, lenient, logic, code)')
    .argument('<file>', 'JSONL file; each record (a JSON object) holds an output in "response", in --field, or as the last assistant turn of "messages"; a line that is not a JSON object is malformed: reported with file:line, skipped and counted (summary.malformed)')
    .option('--field <name>', 'record field holding the output (a string, or a message list whose last assistant turn is taken)')
    .option('--execute', 'also run each <code> section in the Python sandbox (codeRuns, stdout)')
    .option('--json', 'print one JSON object {"summary": {...}, "records": [...]} instead of text')
    .option('--timeout-ms <ms>', 'wall-clock limit per program with --execute', '5000')
    .action(async (file: string, opts: ValidateOptions) => {
      const code = await validateFile(file, opts);
      process.exitCode = code;
    });
}

/** The output text of one record, or an error saying why there is none. */
export function outputOf(record: unknown, field: string | undefined): { text?: string; error?: string } {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return { error: 'record is not a JSON object' };
  const rec = record as Record<string, unknown>;
  const name = field ?? 'response';
  const value = rec[name] !== undefined ? rec[name] : field === undefined ? rec.messages : undefined;
  if (value === undefined) return { error: `no "${name}" field${field === undefined ? ' and no "messages"' : ''}` };
  if (typeof value === 'string') return { text: value };
  if (Array.isArray(value)) {
    for (let i = value.length - 1; i >= 0; i--) {
      const m = value[i] as { role?: unknown; content?: unknown } | null;
      if (m && m.role === 'assistant') {
        return typeof m.content === 'string' ? { text: m.content } : { error: 'the last assistant message has no text content' };
      }
    }
    return { error: 'no assistant message' };
  }
  return { error: `"${name}" is ${value === null ? 'null' : typeof value}, not text or messages` };
}

async function validateFile(file: string, opts: ValidateOptions): Promise<number> {
  const problem = inputFileProblem(file);
  if (problem) throw new CliError(problem, 2);
  const timeoutMs = parseNumber(opts.timeoutMs, '--timeout-ms', TIMEOUT_MS)!;
  const { streamJsonl } = await import('../../util/jsonl.js');
  const { validateFormat, checkCode, summarizeVerdicts } = await import('../../trace/index.js');
  const { createSandboxPool } = await import('../../sandbox/index.js');

  const malformed: { line: number; error: string }[] = [];
  const records: RecordVerdict[] = [];
  const pending: { verdict: RecordVerdict; text: string }[] = [];
  for await (const row of streamJsonl(file)) {
    if (row.error) {
      malformed.push({ line: row.line, error: row.error.message });
      console.error(row.error.message);
      continue;
    }
    const out = outputOf(row.value, opts.field);
    if (out.text === undefined) {
      const tags = { cot: false, logic: false, code: false, answer: false };
      records.push({ line: row.line, strict: false, lenient: false, tags, logicValid: false, codeCompiles: false, codeRuns: opts.execute ? false : null, stdout: null, errors: [`${file}:${row.line}: ${out.error}`] });
      continue;
    }
    const f = validateFormat(out.text);
    const verdict: RecordVerdict = { line: row.line, strict: f.strict, lenient: f.lenient, tags: f.tags, logicValid: f.logicValid, codeCompiles: false, codeRuns: opts.execute ? false : null, stdout: null, errors: f.errors };
    records.push(verdict);
    pending.push({ verdict, text: out.text });
  }
  if (records.length === 0) {
    throw new CliError(malformed.length ? `${file}: no usable record (${malformed.length} malformed line(s))` : `${file}: no records`, 2);
  }

  const withCode = pending.filter((p) => p.verdict.tags.code);
  const pool = withCode.length ? createSandboxPool({ size: Math.min(2, withCode.length), timeoutMs }) : null;
  try {
    let done = 0;
    const progress = process.stderr.isTTY && !opts.json && pending.length >= 50;
    const work = pending.slice();
    const next = async (): Promise<void> => {
      for (let p = work.shift(); p; p = work.shift()) {
        const c = pool ? await checkCode(p.text, pool, { execute: opts.execute, timeoutMs }) : null;
        if (c) {
          p.verdict.codeCompiles = c.codeCompiles;
          if (opts.execute) p.verdict.codeRuns = c.codeRuns ?? false;
          p.verdict.stdout = c.stdout;
          p.verdict.errors.push(...c.errors);
        } else p.verdict.errors.push('code: no <code> section');
        if (progress && ++done % 50 === 0) process.stderr.write(`\rvalidated ${done}/${pending.length}`);
      }
    };
    await Promise.all(Array.from({ length: pool?.size ?? 1 }, next));
    if (progress) process.stderr.write('\n');
  } finally {
    await pool?.close();
  }

  const summary = { ...summarizeVerdicts(records, { executed: Boolean(opts.execute) }), malformed: malformed.length };
  if (opts.json) {
    console.log(JSON.stringify({ summary, records }));
    return 0;
  }
  const yes = (b: boolean | null): string => (b === null ? '-' : b ? 'yes' : 'no');
  for (const r of records) {
    const cols = [`strict ${yes(r.strict)}`, `lenient ${yes(r.lenient)}`, `logic ${yes(r.logicValid)}`, `compiles ${yes(r.codeCompiles)}`];
    if (opts.execute) cols.push(`runs ${yes(r.codeRuns)}`);
    console.log(`${file}:${r.line}  ${cols.join('  ')}`);
    if (opts.execute && r.stdout) console.log(`    stdout: ${JSON.stringify(r.stdout.length > 200 ? r.stdout.slice(0, 200) + '...' : r.stdout)}`);
    for (const e of r.errors) console.log(`    ${e}`);
  }
  const pct = (x: number | undefined): string => `${((x ?? 0) * 100).toFixed(1)}%`;
  const tags = summary.tags;
  console.log(
    `\n${summary.n} records${malformed.length ? ` (${malformed.length} malformed line(s) skipped)` : ''}: strict ${pct(summary.strict)}, lenient ${pct(summary.lenient)}, ` +
      `logicValid ${pct(summary.logicValid)}, codeCompiles ${pct(summary.codeCompiles)}` +
      (opts.execute ? `, codeRuns ${pct(summary.codeRuns)}` : '') +
      `\ntags: cot ${pct(tags.cot)}, logic ${pct(tags.logic)}, code ${pct(tags.code)}, answer ${pct(tags.answer)}`,
  );
  return 0;
}
