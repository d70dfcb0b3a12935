// Stage markers in runs/<name>/pipeline/: `<stage>.done.json` when a stage finished (with its wall time),
// `<stage>.failed.json` with the error when it failed. A rerun skips every stage that has a done marker.
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirs, readJsonFile } from '../util/files.js';
import type { Config } from '../config/index.js';
import { sha256, stableStringify } from '../util/hash.js';
import { writeFileAtomic } from '../train/checkpoint.js';

/** 'imported': trained elsewhere (TRL) and brought back with `unitrace import` (see the stage's provenance.json). */
export type StageMode = 'notebook' | 'direct' | 'imported';

export interface DoneMarker {
  stage: string;
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  mode: StageMode;
  configHash: string;
  /** What the stage reported (paths, counts); small and JSON-serialisable. */
  result?: unknown;
}

export interface FailedMarker {
  stage: string;
  failedAt: string;
  wallSeconds: number;
  mode: StageMode;
  error: string;
}

export const pipelineDir = (runDir: string): string => join(runDir, 'pipeline');
const doneFile = (runDir: string, stage: string): string => join(pipelineDir(runDir), `${stage}.done.json`);
const failedFile = (runDir: string, stage: string): string => join(pipelineDir(runDir), `${stage}.failed.json`);
/** Progress lines of stages running inside a notebook kernel; the pipeline echoes them to the terminal. */
export const progressLog = (runDir: string): string => join(pipelineDir(runDir), 'progress.log');

/** Hash of everything in the config that changes results (where the run folder lives does not). */
export function configHash(config: Config): string {
  const { run: _run, report: _report, ...rest } = config;
  return sha256(stableStringify(rest)).slice(0, 16);
}

export function readDone(runDir: string, stage: string): DoneMarker | null {
  const file = doneFile(runDir, stage);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DoneMarker;
  } catch (e) {
    throw new Error(`${file}: unreadable stage marker (${(e as Error).message}); delete it to rerun the stage`);
  }
}

export function readFailed(runDir: string, stage: string): FailedMarker | null {
  const file = failedFile(runDir, stage);
  return existsSync(file) ? readJsonFile<FailedMarker>(file, 'stage marker') : null;
}

export function writeDone(runDir: string, marker: DoneMarker): void {
  makeDirs(pipelineDir(runDir));
  rmSync(failedFile(runDir, marker.stage), { force: true });
  // Atomic: a kill while writing leaves the old state, never a torn marker.
  writeFileAtomic(doneFile(runDir, marker.stage), JSON.stringify(marker, null, 2) + '\n');
}

export function writeFailed(runDir: string, marker: FailedMarker): void {
  makeDirs(pipelineDir(runDir));
  writeFileAtomic(failedFile(runDir, marker.stage), JSON.stringify(marker, null, 2) + '\n');
}

export function clearFailed(runDir: string, stage: string): void {
  rmSync(failedFile(runDir, stage), { force: true });
}

export function allDone(runDir: string): DoneMarker[] {
  const dir = pipelineDir(runDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.done.json'))
    .map((f) => readDone(runDir, f.slice(0, -'.done.json'.length))!)
    .sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
}

/** Removes every marker (a restart); the stages' own folders are left for them to overwrite. */
export function clearMarkers(runDir: string): void {
  const dir = pipelineDir(runDir);
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) if (f.endsWith('.done.json') || f.endsWith('.failed.json') || f === 'progress.log') rmSync(join(dir, f));
}

export function appendProgress(runDir: string, line: string): void {
  makeDirs(pipelineDir(runDir));
  appendFileSync(progressLog(runDir), line.endsWith('\n') ? line : line + '\n');
}
