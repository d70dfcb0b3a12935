export * from './ops.js';
export { initBackend, ensureBackend, matmulPath, type BackendPreference } from './backend.js';
export { createGradComputer, resolveWorkers, shardRows, combineShards, type GradComputer, type GradComputerSpec, type GradResult } from './parallel.js';
export { clearTransposeCache } from './fast.js';
export { runTrainBench, trainStepFlops, type TrainBenchOptions, type TrainBenchResult } from './bench.js';
