// The unified trace format: render, parse, validate (definitions of issue #2), answer helpers.
export { SECTION_NAMES, parseTrace, present, presentTags, tokenize } from './sections.js';
export type { ParsedTrace, Section, SectionName, TagToken } from './sections.js';
export { renderTrace, TraceRenderError } from './render.js';
export type { TraceParts } from './render.js';
export { extractPython, hasForeignFence } from './code.js';
export { checkLogic, checkStrict, isLenient, isLogicValid, isStrict, stripForStrict, validateFormat } from './validate.js';
export type { Check, FormatVerdict } from './validate.js';
export { checkCode, runSucceeded } from './execute.js';
export type { CodeVerdict } from './execute.js';
export { answerNumber, answersMatch, extractAnswer, normalizeText, numbersClose, parseNumber } from './answer.js';
export type { Tolerance } from './answer.js';
export { tracePartsOf, validateTrace } from './trace.js';
export type { TraceVerdict } from './trace.js';
export { summarizeVerdicts } from './summary.js';
export type { VerdictLike, VerdictSummary } from './summary.js';
