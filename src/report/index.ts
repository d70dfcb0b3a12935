// The reproducible report: every number computed from a run folder's artifacts.
export { loadRun, MODEL_NAMES, SFT_VARIANTS, type MetricRow, type RunArtifacts, type TrainingRun } from './artifacts.js';
export { epochLosses, summarizeTraining, type EpochLoss, type TrainingSummary } from './training.js';
export { evalTable, formatStats, type EvalTable, type Estimate, type FormatStats } from './evaluation.js';
export { computeFindings, describePaired, VERDICTS, type Claim, type Findings, type Status, type Table1Row } from './findings.js';
export { pairedDifference, direction, type PairedDifference } from './paired.js';
export { differencesFromPaper, type Difference, type RunDifferences } from './differences.js';
export { metricLabel, metricDefinition } from './metric-names.js';
export { buildReportData, type ReportData } from './data.js';
export { renderHtml } from './html.js';
export { renderReport, type RenderOptions, type RenderResult } from './render.js';
export { lineChartSvg, type SvgSeries } from './svg.js';
export { findChromium } from './chromium.js';
export { PAPER } from './paper.js';
export { markdownTable } from './markdown.js';
