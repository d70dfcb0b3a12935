// Shapes the evaluation reads and writes. Eval items come from runs/<name>/data/eval.jsonl (the mixing
// stage); responses from a model's generate() or from a JSONL file scored with `unitrace score`.
import type { TraceVerdict } from '../trace/trace.js';
import type { EvalItem } from '../data/types.js';
import type { CountdownScore, CountdownVerdict } from '../trace/countdown.js';

// One shape for eval items across stages: the mixing stage writes them, the evaluation reads them.
export type { EvalItem, Message } from '../data/types.js';

/** Scores an instruction item's response with the checker its item carries. */
export type InstructionChecker = (item: EvalItem, response: string) => { pass: boolean; reason?: string } | null;

/** The trace-format verdicts (src/trace) of one response, with what evaluation adds. */
export interface ResponseVerdict extends Pick<TraceVerdict, 'strict' | 'lenient' | 'tags' | 'logicValid' | 'stdout'> {
  id: string;
  family: string;
  ood: boolean;
  kind: EvalItem['kind'];
  chars: number;
  /** Generated tokens, when the tokenizer is known. */
  tokens: number | null;
  finishReason: string | null;
  /** null when the code was not executed; false when there is no <code> section. */
  codeCompiles: boolean | null;
  codeRuns: boolean | null;
  /** PAL: the last non-empty stdout line, or a named variable (answer, result, solution()) when nothing was printed. */
  programAnswer: string | null;
  programCorrect: boolean | null;
  /** The trimmed <answer> section. */
  statedAnswer: string | null;
  statedCorrect: boolean | null;
  /** The <answer> section, or the whole response when there is none (so plain-answer baselines are comparable); Countdown: TinyZero's rule, which needs an answer. */
  finalCorrect: boolean | null;
  /** Program answer and stated answer both exist and agree with each other. */
  agree: boolean | null;
  /**
   * Countdown items: the <answer> section and the program's output checked by TinyZero's rule, and TinyZero's
   * compute_score on the whole response (the last <answer> of the last line: 0 / 0.1 / 1) with the answer it read.
   */
  countdown: { stated: CountdownVerdict | null; program: CountdownVerdict | null; score: CountdownScore; answer: string | null } | null;
  instruction: { pass: boolean; reason?: string } | null;
  errors: string[];
}
