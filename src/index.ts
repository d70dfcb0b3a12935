// The public API, one namespace per stage, as the notebooks and other programs use it:
//   import { synth, train } from 'unitrace';
export * as config from './config/index.js';
export * as trace from './trace/index.js';
export * as sandbox from './sandbox/index.js';
export * as model from './model/index.js';
export * as engine from './engine/index.js';
export * as synth from './synth/index.js';
export * as data from './data/index.js';
export * as claude from './claude/index.js';
export * as train from './train/index.js';
export * as evaluation from './eval/index.js';
export * as report from './report/index.js';
export * as pipeline from './pipeline/index.js';
export * as interop from './interop/index.js';
export { Rng } from './util/rng.js';
