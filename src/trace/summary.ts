// Rates over many verdicts, in the shape `unitrace validate --json` prints, so every stage reports alike.
import { SECTION_NAMES, type SectionName } from './sections.js';

export interface VerdictLike {
  strict: boolean;
  lenient: boolean;
  logicValid: boolean;
  tags: Record<SectionName, boolean>;
  codeCompiles?: boolean | null;
  codeRuns?: boolean | null;
}

export interface VerdictSummary {
  n: number;
  strict: number;
  lenient: number;
  logicValid: number;
  codeCompiles: number;
  /** Only when the code was executed. */
  codeRuns?: number;
  /** Share of outputs in which each tag is present. */
  tags: Record<SectionName, number>;
}

/** Rates in 0-1 (0 for an empty list); null code verdicts count as failures. */
export function summarizeVerdicts(verdicts: readonly VerdictLike[], opts: { executed: boolean }): VerdictSummary {
  const n = verdicts.length;
  const rate = (pick: (v: VerdictLike) => boolean | null | undefined): number => (n === 0 ? 0 : verdicts.filter((v) => pick(v) === true).length / n);
  const tags = { cot: 0, logic: 0, code: 0, answer: 0 };
  for (const t of SECTION_NAMES) tags[t] = rate((v) => v.tags[t]);
  return {
    n,
    strict: rate((v) => v.strict),
    lenient: rate((v) => v.lenient),
    logicValid: rate((v) => v.logicValid),
    codeCompiles: rate((v) => v.codeCompiles),
    ...(opts.executed ? { codeRuns: rate((v) => v.codeRuns) } : {}),
    tags,
  };
}
