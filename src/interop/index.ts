// Interoperability with Hugging Face TRL + PEFT + accelerate: export a run's training job, import the
// stages TRL trained, the embedded model widened to Qwen's vocabulary, external responses for evaluation.
export { exportRun, runConfig, probeHidden, EXPORT_MANIFEST, type ExportOptions } from './export.js';
export type { ExportManifest } from './manifest.js';
export { importStage, findTrainerState, findAdapter, metricsFromLogHistory, checkAdapter, readEnvironment, engineLabel, type ImportResult, type Provenance } from './import.js';
export { writeFullVocabularyModel, suppressionDirection, fitScale, qwen25TokenizerJson, hasPrunedVocabulary, type EquivalenceReport, type HiddenProbe, type ScaleFit } from './vocabulary.js';
export { sftRowsForTrl, pairRowsForTrl, evalPromptRows, type TrlSftRow, type TrlPairRow, type EvalPromptRow } from './datasets.js';
export { sftStageConfig, dpoStageConfig, splitBatch, SFT_STAGES, STAGES, MERGED_SFT_DIR, outputDir, type Stage, type SftStage, type TrlStageConfig } from './trl-config.js';
export { definitionDifferences, ipoIsLengthNormalised, tokensAfterTurnEnd, truncationCounts, type Difference } from './differences.js';
export { readResponses, responsesFile, type ExternalGeneration } from '../eval/responses.js';
export { toYaml, type YamlValue } from './yaml.js';
