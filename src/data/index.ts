// Original instruction data (embedded set, UltraFeedback files), checkers, and the dataset mix.
export { checkInstruction } from './checks.js';
export type { CheckResult, InstructionCheck } from './checks.js';
export { generateInstructions, INSTRUCTION_KINDS } from './instructions.js';
export type { InstructionItem, InstructionOptions } from './instructions.js';
export { convertRow, loadUltraFeedback } from './ultrafeedback.js';
export type { UltraFeedbackData } from './ultrafeedback.js';
export { buildDatasets, cotExample, DATA_FILES, evalItemOf, familySplit, promptKey, unifiedExample } from './mix.js';
export type { BuildOptions, DataManifest, ProgressEvent, Synthesizer } from './mix.js';
export type { EvalItem, Message, PreferencePair, RejectedKind, SftExample, SftSource } from './types.js';
