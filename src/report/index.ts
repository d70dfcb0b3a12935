// The reproducible report: every number computed from a run folder's artifacts.
export { loadRun, MODEL_NAMES, SFT_VARIANTS, type MetricRow, type RunArtifacts, type TrainingRun } from './artifacts.js';
export { epochLosses, summarizeTraining, type EpochLoss, type TrainingSummary } from './training.js';
export { evalTable, formatStats, type EvalTable, type Estimate, type FormatStats } from './evaluation.js';
export { computeFindings, type Claim, type Findings, type Table1Row } from './findings.js';
export { buildReportData, type ReportData } from './data.js';
export { renderHtml } from './html.js';
export { renderReport, type RenderOptions, type RenderResult } from './render.js';
export { lineChartSvg, type SvgSeries } from './svg.js';
export { findChromium } from './chromium.js';
export { PAPER } from './paper.js';
export { markdownTable } from './markdown.js';
