// One call for every verdict on one model output; the code checks run when a sandbox is given.
import type { CodeSandbox, RunResult } from '../sandbox/types.js';
import { extractPython } from './code.js';
import { checkCode } from './execute.js';
import type { TraceParts } from './render.js';
import { parseTrace, type SectionName } from './sections.js';
import { validateFormat } from './validate.js';

export interface TraceVerdict {
  strict: boolean;
  lenient: boolean;
  tags: Record<SectionName, boolean>;
  logicValid: boolean;
  /** null when no sandbox was given. */
  codeCompiles: boolean | null;
  /** null unless executed. */
  codeRuns: boolean | null;
  stdout: string | null;
  errors: string[];
  run?: RunResult;
}

export async function validateTrace(
  text: unknown,
  opts: { sandbox?: CodeSandbox; execute?: boolean; timeoutMs?: number } = {},
): Promise<TraceVerdict> {
  const f = validateFormat(text);
  const base = { strict: f.strict, lenient: f.lenient, tags: f.tags, logicValid: f.logicValid };
  if (!opts.sandbox) return { ...base, codeCompiles: null, codeRuns: null, stdout: null, errors: f.errors };
  const c = await checkCode(f.parsed, opts.sandbox, { execute: opts.execute, timeoutMs: opts.timeoutMs });
  return { ...base, codeCompiles: c.codeCompiles, codeRuns: c.codeRuns, stdout: c.stdout, errors: [...f.errors, ...c.errors], run: c.run };
}

/** The four parts of an output (code without its fence), or null when a section is missing. */
export function tracePartsOf(text: string): TraceParts | null {
  const { sections } = parseTrace(text);
  if (!sections.cot || !sections.logic || !sections.code || !sections.answer) return null;
  return {
    cot: sections.cot.content.trim(),
    logic: sections.logic.content.trim(),
    code: extractPython(sections.code.content),
    answer: sections.answer.content.trim(),
  };
}
