// The training stage: collation, objectives, AdamW and the schedule, resumable run folders, SFT and DPO.
export type { Message, TokenBatch, SftBatch, DpoBatch, MicroBatch, DpoLoss, ObjectiveOptions } from './types.js';
export { batchWeight, sliceRows } from './types.js';
export {
  tokenizeSftRow,
  tokenizePairRow,
  tokenizeTurn,
  loadRows,
  truncationReport,
  epochBatches,
  collateSft,
  collateDpo,
  type ChatTokenizer,
  type SftRow,
  type PairRow,
  type TokenLimits,
  type TokenizedSequence,
  type TokenizedPair,
  type TruncationReport,
} from './collate.js';
export { objectives, sftObjective, dpoObjective, sequenceLogProbs, type Objective, type ObjectiveResult, type LogitsModel } from './objectives.js';
export { AdamW, clipGradNorm, globalNorm, GradAccumulator, linearSchedule, warmupSteps, defaultAdamW, type AdamWOptions, type AdamWState, type ParamMap } from './optimizer.js';
export { saveCheckpoint, loadCheckpoint, latestCheckpoint, listCheckpoints, writeFileAtomic, type Checkpoint, type TrainerState } from './checkpoint.js';
export { RunFolder, type MetricsRow } from './runfolder.js';
export { trainLoop, planSteps, type LoopOptions, type LoopResult } from './loop.js';
export { createGradComputer, resolveWorkers, shardRows, combineShards, type GradComputer, type GradComputerSpec, type GradResult } from './grad/parallel.js';
export { runTrainBench, trainStepFlops, type TrainBenchOptions, type TrainBenchResult } from './bench.js';
export { engineComputer, makeTrainable, type ComputerSpec, type ComputerFactory } from './session.js';
export { runSft, type TrainRunOptions, type TrainRunResult } from './sft.js';
export { runDpo, referenceLogProbs, type DpoRunOptions, type DpoRunResult } from './dpo.js';
export { onPolicyPairs, type OnPolicyOptions, type OnPolicyReport, type PairSource } from './onpolicy.js';
export { progressBar, formatDuration, type Progress } from './progress.js';
