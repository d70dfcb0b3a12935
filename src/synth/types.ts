// Shapes shared by the problem families, the teachers and the quality filter.
import type { Rng } from '../util/rng.js';

/** How a problem's answer is checked. */
export type AnswerKind = 'number' | 'text' | 'countdown';

/** What a family generator returns: the problem, its truth, and the pieces every response is built from. */
export interface ProblemSpec {
  question: string;
  groundTruth: number | string;
  kind: AnswerKind;
  /** Absolute tolerance for numeric answers (0.01 when the code rounds to cents). */
  tolerance?: number;
  countdown?: { nums: number[]; target: number };
  /** One or two sentences: what is asked and how it will be solved (the <cot> section). */
  plan: string;
  /** Logic lines, each `KEYWORD: body`. */
  logic: string[];
  /** Python lines; the last printed line is the answer. */
  code: string[];
  /** The worked steps in words (the CoT-only response). */
  steps: string[];
  /** One sentence that states the answer (the <answer> section and the direct answer). */
  answer: string;
}

export interface Family {
  name: string;
  description: string;
  generate(rng: Rng): ProblemSpec;
}

/** A generated problem with its three responses. */
export interface Problem extends ProblemSpec {
  id: string;
  family: string;
  /** The unified trace (<cot>, <logic>, <code>, <answer>). */
  trace: string;
  /** Chain-of-thought only: the steps in words and the answer. */
  cotResponse: string;
  /** The answer alone. */
  direct: string;
}
