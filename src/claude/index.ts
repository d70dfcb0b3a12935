// Claude through the Anthropic SDK: the shared client (cache, retries, batches) and the trace teacher.
export { ClaudeClient, ClaudeError, hasApiKey, limiter } from './client.js';
export type { ClaudeClientOptions, ClaudeEvent, ClaudeRequest, ClaudeResult } from './client.js';
export { ResponseCache } from './cache.js';
export type { CachedResponse } from './cache.js';
export { TEACHER_EXAMPLE, TEACHER_SYSTEM_PROMPT } from './prompt.js';
export { itemOfProblem, runTeacher, teacherRequest } from './teacher.js';
export type { TeacherItem, TeacherOptions, TeacherOutcome } from './teacher.js';
export { clientFromConfig, synthesizeWithClaude } from './synthesize.js';
export type { SynthesisResult, SynthesizeOptions } from './synthesize.js';
export { claudeTraces } from './run.js';
export type { ClaudeTeacherOptions } from './run.js';
