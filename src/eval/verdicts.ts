// Every verdict for one response: format (from src/trace), code execution, program-aided and stated
// answers against the ground truth, Countdown by TinyZero's compute_score, and instruction checkers.
import { answerNumber, answersMatch, numbersClose, type Tolerance } from '../trace/answer.js';
import { checkInstruction } from '../data/checks.js';
import type { CodeSandbox } from '../sandbox/types.js';
import { extractPython } from '../trace/code.js';
import { checkCode, runSucceeded } from '../trace/execute.js';
import { stripForStrict, validateFormat } from '../trace/validate.js';
import { countdownScore, scoreCountdown, type CountdownVerdict } from '../trace/countdown.js';
import type { EvalItem, InstructionChecker, ResponseVerdict } from './types.js';

export interface ScoreOptions {
  /** Executes code sections; without it codeCompiles, codeRuns and the program answer are null. */
  sandbox?: CodeSandbox;
  /** Wall-clock limit per program (default: the sandbox's). */
  timeoutMs?: number;
  /** Default: the data stage's checker for the spec in `item.check`. */
  checkInstruction?: InstructionChecker;
  tokens?: number | null;
  finishReason?: string | null;
}

// PAL: when a program prints nothing, its answer is a variable it defines (or what solution() returns).
const NAMED_ANSWER_PROBE = `
for __unitrace_name in ("answer", "result", "solution"):
    if __unitrace_name in globals():
        __unitrace_value = globals()[__unitrace_name]
        print(__unitrace_value() if callable(__unitrace_value) else __unitrace_value)
        break
`;

export async function scoreResponse(item: EvalItem, response: string, opts: ScoreOptions = {}): Promise<ResponseVerdict> {
  const format = validateFormat(response);
  const errors = format.errors.slice();
  const tol: Tolerance = item.tolerance !== undefined ? { abs: item.tolerance } : {};

  let codeCompiles: boolean | null = null;
  let codeRuns: boolean | null = null;
  let stdout: string | null = null;
  let programAnswer: string | null = null;
  const codeSection = format.parsed.sections.code;
  if (!codeSection) {
    codeCompiles = false;
    codeRuns = false;
  } else if (opts.sandbox) {
    const code = await checkCode(format.parsed, opts.sandbox, { execute: true, timeoutMs: opts.timeoutMs });
    codeCompiles = code.codeCompiles;
    codeRuns = code.codeRuns;
    stdout = code.stdout;
    errors.push(...code.errors);
    if (code.codeRuns) {
      programAnswer = lastLine(code.stdout ?? '');
      if (programAnswer === null) {
        const probe = await opts.sandbox.run(extractPython(codeSection.content) + NAMED_ANSWER_PROBE, { timeoutMs: opts.timeoutMs });
        if (runSucceeded(probe)) programAnswer = lastLine(probe.stdout);
      }
    }
  }

  const statedAnswer = format.parsed.sections.answer ? format.parsed.sections.answer.content.trim() : null;
  const plain = stripForStrict(response);
  let programCorrect: boolean | null = null;
  let statedCorrect: boolean | null = null;
  let finalCorrect: boolean | null = null;
  let agree: boolean | null = null;
  let countdown: ResponseVerdict['countdown'] = null;
  let instruction: ResponseVerdict['instruction'] = null;

  if (item.kind === 'instruction') {
    instruction = (opts.checkInstruction ?? defaultChecker)(item, statedAnswer ?? plain);
    finalCorrect = instruction ? instruction.pass : null;
  } else if (item.countdown) {
    // The <answer> section (or the program's output) checked by TinyZero's validate/evaluate rule; TinyZero's
    // own compute_score, which reads only the last line, is kept beside it. No answer: wrong (as TinyZero).
    const stated = statedAnswer !== null ? scoreCountdown(statedAnswer, item.countdown) : null;
    const program = programAnswer !== null ? scoreCountdown(programAnswer, item.countdown) : null;
    const tz = countdownScore(response, item.countdown);
    countdown = { stated, program, score: tz.score, answer: tz.answer };
    statedCorrect = stated ? stated.correct : false;
    programCorrect = opts.sandbox ? (program ? program.correct : false) : null;
    finalCorrect = statedCorrect;
    if (stated && program) agree = sameValue(stated, program);
  } else if (item.groundTruth !== undefined) {
    statedCorrect = statedAnswer !== null && answersMatch(statedAnswer, item.groundTruth, tol);
    programCorrect = opts.sandbox ? programAnswer !== null && answersMatch(programAnswer, item.groundTruth, tol) : null;
    finalCorrect = statedAnswer !== null ? statedCorrect : answersMatch(plain, item.groundTruth, tol);
  }
  if (item.kind === 'trace' && !item.countdown && statedAnswer !== null && programAnswer !== null) {
    agree = answersAgree(statedAnswer, programAnswer, tol);
  }

  return {
    id: item.id,
    family: item.family,
    ood: item.ood,
    kind: item.kind,
    chars: response.length,
    tokens: opts.tokens ?? null,
    finishReason: opts.finishReason ?? null,
    strict: format.strict,
    lenient: format.lenient,
    tags: format.tags,
    logicValid: format.logicValid,
    codeCompiles,
    codeRuns,
    stdout,
    programAnswer,
    programCorrect,
    statedAnswer,
    statedCorrect,
    finalCorrect,
    agree,
    countdown,
    instruction,
    errors,
  };
}

// An unknown check type gives no verdict rather than a wrong one.
const defaultChecker: InstructionChecker = (item, response) =>
  item.check ? (checkInstruction(item.check, response) ?? null) : null;

function lastLine(stdout: string): string | null {
  const lines = stdout.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  return lines.length ? lines[lines.length - 1]! : null;
}

/** Two Countdown expressions agree when both evaluate and give the same value. */
function sameValue(a: CountdownVerdict, b: CountdownVerdict): boolean {
  return a.value !== undefined && b.value !== undefined && Math.abs(a.value - b.value) < 1e-5;
}

/** Numbers compared numerically ("Area = 30.0" agrees with "30 square units"), anything else as text. */
function answersAgree(stated: string, program: string, tol: Tolerance): boolean {
  const a = answerNumber(stated);
  const b = answerNumber(program);
  if (a !== null && b !== null) return numbersClose(a, b, tol);
  return answersMatch(stated, program, tol) || answersMatch(program, stated, tol);
}
