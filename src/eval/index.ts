// Evaluation: per-response verdicts (format, execution, program-aided and stated answers, Countdown,
// instruction checks), bootstrap intervals, the judge (Claude or the offline rubric), run-level results.
export { evaluateArithmetic, ArithmeticError } from '../trace/arithmetic.js';
export { countdownScore, scoreCountdown, tinyZeroAnswer } from '../trace/countdown.js';
export type { CountdownProblem, CountdownReason, CountdownResult, CountdownScore, CountdownVerdict } from '../trace/countdown.js';
export { bootstrapMean, quantile } from './bootstrap.js';
export type { Estimate } from './bootstrap.js';
export { scoreResponse } from './verdicts.js';
export type { ScoreOptions } from './verdicts.js';
export { METRICS, summarize } from './metrics.js';
export type { MetricTable, ModelSummary, ScoredResponse } from './metrics.js';
export { asEvalItem, EvalInputError, readEvalItems, readOutputs, responseOf } from './items.js';
export type { ExternalOutput } from './items.js';
export { itemCounts, METRIC_DOCS, modelEntry, scoreOutputs, writeResponses, writeSummary } from './results.js';
export type { Decoding, EvalSummary, ModelEntry, Output, ScoreSettings } from './results.js';
export { scoreFile } from './score.js';
export { decodingOf, evaluateModel, evaluateOne, evaluateRun, EVAL_MODELS, modelSpecs, scoreGenerations } from './evaluate.js';
export type { EvalModelName, EvalProgress, EvaluateModelOptions, EvaluateModelResult, EvaluateOneOptions, EvaluateRunOptions, Generated, ModelSpec } from './evaluate.js';
export type { ScoreFileOptions, ScoreFileResult } from './score.js';
export { formatEstimate, formatSummary } from './table.js';
export {
  ClaudeJudge,
  createJudge,
  judgeResponses,
  JUDGE_PROMPT_HASH,
  OfflineRubricJudge,
  PAIRWISE_SYSTEM,
  parsePreference,
  parseRating,
  resolveJudgeMode,
  rubricPoints,
  rubricRating,
  SINGLE_SYSTEM,
} from './judge/index.js';
export type { ChatClient, ChatRequest, Comparison, Judge, JudgeChoice, JudgeInfo, JudgeInput, JudgeMode, Preference, Rating } from './judge/index.js';
export { chatClientOf, claudeClientFor } from './judge/client.js';
export type { EvalItem, InstructionChecker, Message, ResponseVerdict } from './types.js';
