// `npm start`: the pipeline's stages, markers, the Jupyter runner, and what notebooks call.
export { runPipeline, writePipelineManifest, type NotebookExecutor, type PipelineOptions, type PipelineResult } from './runner.js';
export { runStage, ensureRunConfig, StageError, type Stage, type StageContext, type StageHooks, type StageRun, type StepRow } from './stage.js';
export { allDone, clearMarkers, configHash, readDone, readFailed, type DoneMarker, type FailedMarker, type StageMode } from './markers.js';
export { defaultStages, reportDir, stageByName, sftConfig, NOTEBOOKS, SFT_RUNS, type SftRunName } from './stages.js';
export { checkJupyter, ensureFreshBundle, executeNotebook, NotebookError } from './jupyter.js';
export { notebookRun, variantName, type NotebookRun, type NotebookRunOptions } from './notebook.js';
export { liveChart, type LiveChart, type LiveChartOptions, type SvgDisplay } from './live.js';
export { assertPreflight, preflightProblems, PreflightError } from './preflight.js';
