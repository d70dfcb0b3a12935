// Code verdicts: codeCompiles (the <code> section's Python compiles) and codeRuns (it runs to the end, or to
// sys.exit(0), inside the sandbox within the time limit). Python only ever runs in the sandbox.
import type { CodeSandbox, RunOptions, RunResult } from '../sandbox/types.js';
import { extractPython, hasForeignFence } from './code.js';
import { parseTrace, type ParsedTrace } from './sections.js';

export interface CodeVerdict {
  codeCompiles: boolean;
  /** null when not executed. */
  codeRuns: boolean | null;
  /** The program's stdout when executed, else null. */
  stdout: string | null;
  errors: string[];
  run?: RunResult;
}

export function runSucceeded(r: RunResult): boolean {
  return r.status === 'ok';
}

/** Compiles (and with `execute`, runs) the first <code> section's Python. */
export async function checkCode(
  text: string | ParsedTrace,
  sandbox: CodeSandbox,
  opts: { execute?: boolean } & RunOptions = {},
): Promise<CodeVerdict> {
  const parsed = typeof text === 'string' ? parseTrace(text) : text;
  const section = parsed.sections.code;
  const notRun = opts.execute ? false : null;
  if (!section) return { codeCompiles: false, codeRuns: notRun, stdout: null, errors: ['code: no <code> section'] };
  if (hasForeignFence(section.content)) {
    const lang = section.content.trimStart().split('\n', 1)[0]!.trim();
    return { codeCompiles: false, codeRuns: notRun, stdout: null, errors: [`code: fenced as ${lang}, not Python`] };
  }
  const program = extractPython(section.content);
  if (program.trim() === '') return { codeCompiles: false, codeRuns: notRun, stdout: null, errors: ['code: <code> is empty'] };
  const compiled = await sandbox.compile(program);
  if (!compiled.ok) return { codeCompiles: false, codeRuns: notRun, stdout: null, errors: [`code does not compile: ${compiled.error}`] };
  if (!opts.execute) return { codeCompiles: true, codeRuns: null, stdout: null, errors: [] };
  const run = await sandbox.run(program, { timeoutMs: opts.timeoutMs, stdin: opts.stdin });
  const ok = runSucceeded(run);
  const errors = ok ? [] : [`code does not run: ${run.status}${run.error ? ` (${run.error})` : ''}`];
  return { codeCompiles: true, codeRuns: ok, stdout: run.stdout, errors, run };
}
