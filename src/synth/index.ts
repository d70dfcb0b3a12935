// Synthesis: problem families with ground truth, the offline teacher, corrupted traces for DPO.
export { FAMILIES, FAMILY_NAMES, getFamily, solveCountdown } from './families/index.js';
export { buildProblem, generateProblems } from './offline.js';
export type { GenerateOptions } from './offline.js';
export { emptyRejections, filterTrace, lastLine, REJECTION_REASONS } from './filter.js';
export type { FilterVerdict, RejectionReason, Truth } from './filter.js';
export { offlineTraces, readPromptFile, runSynth, synthRecord } from './run.js';
export type { OfflineTeacherOptions, RunSynthOptions, SynthRecord, SynthSummary, TraceContext, Traces, TraceSource } from './run.js';
export { corruptTrace, CORRUPTIONS } from './corrupt.js';
export type { Corruption } from './corrupt.js';
export type { AnswerKind, Family, Problem, ProblemSpec } from './types.js';
