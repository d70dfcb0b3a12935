// `npm start`: the stages in order on one run folder, through the notebooks when Jupyter is installed,
// directly otherwise. Finished stages are skipped on a rerun; a failing stage stops the run with its error.
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { installedPackages } from '../report/data.js';
import { writeFileAtomic } from '../train/checkpoint.js';
import { lockFolder } from '../train/lock.js';
import { makeDirs, readJsonFile } from '../util/files.js';
import { allDone, clearFailed, clearMarkers, configHash, pipelineDir, progressLog, readDone, readFailed, type DoneMarker } from './markers.js';
import { assertPreflight } from './preflight.js';
import { ensureRunConfig, runStage, StageError, stageLogger, type Stage, type StageContext, type StageHooks } from './stage.js';

/** Runs one notebook headless with the given environment; resolves with the executed copy's path. */
export type NotebookExecutor = (notebook: string, env: Record<string, string>, onOutput: (line: string) => void) => Promise<string>;

export interface PipelineOptions {
  config: Config;
  /** Absolute run folder (runs/<name>). */
  runDir: string;
  stages: readonly Stage[];
  /** Execute notebooks through this; absent: run every stage directly. */
  executeNotebook?: NotebookExecutor;
  /** Folder holding the notebooks named by the stages. */
  notebooksDir?: string;
  /** Forget earlier progress in this run folder and run every stage again. */
  restart?: boolean;
  hooks?: StageHooks;
  log?: (line: string) => void;
}

export interface PipelineResult {
  mode: 'notebooks' | 'direct';
  ran: string[];
  skipped: string[];
  markers: DoneMarker[];
  wallSeconds: number;
  notebooks: string[];
}

/** Consecutive stages that share their notebooks run as one execution of those notebooks. */
function groups(stages: readonly Stage[]): { notebooks: readonly string[]; stages: Stage[] }[] {
  const out: { notebooks: readonly string[]; stages: Stage[] }[] = [];
  const key = (nbs: readonly string[] | undefined): string => (nbs ?? []).join('|');
  for (const s of stages) {
    const last = out[out.length - 1];
    if (last && s.notebooks?.length && key(last.notebooks) === key(s.notebooks)) last.stages.push(s);
    else out.push({ notebooks: s.notebooks ?? [], stages: [s] });
  }
  return out;
}

/** Echoes lines appended to the progress log (written by stages inside a notebook kernel) until stopped. */
function followProgress(file: string, print: (line: string) => void): () => void {
  let offset = existsSync(file) ? statSync(file).size : 0;
  const poll = (): void => {
    if (!existsSync(file)) return;
    const size = statSync(file).size;
    if (size <= offset) return;
    const text = readFileSync(file).subarray(offset, size).toString('utf8');
    const cut = text.lastIndexOf('\n') + 1; // only whole lines
    offset += Buffer.byteLength(text.slice(0, cut));
    for (const line of text.slice(0, cut).split('\n')) if (line) print(`  ${line}`);
  };
  const timer = setInterval(poll, 500);
  return () => {
    clearInterval(timer);
    poll();
  };
}

export function writePipelineManifest(runDir: string, config: Config, extra: Record<string, unknown>): void {
  const file = join(pipelineDir(runDir), 'manifest.json');
  const before = existsSync(file) ? readJsonFile<Record<string, unknown>>(file, 'pipeline manifest') : {};
  const stages = allDone(runDir).map((m) => ({ stage: m.stage, wallSeconds: m.wallSeconds, mode: m.mode, finishedAt: m.finishedAt }));
  const manifest = {
    ...before,
    run: config.run.name,
    preset: config.preset,
    seed: config.seed,
    configHash: configHash(config),
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    packages: installedPackages(),
    ...extra,
    stages,
    stagesWallSeconds: stages.reduce((a, s) => a + s.wallSeconds, 0),
  };
  makeDirs(pipelineDir(runDir));
  writeFileAtomic(file, JSON.stringify(manifest, null, 2) + '\n');
}

export async function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  // One pipeline per run folder: a second one is refused, naming the first (a killed one's lock is taken over).
  makeDirs(options.runDir);
  const lock = lockFolder(options.runDir);
  if (lock.tookOverFrom) (options.log ?? console.log)(`pipeline: taking over the lock of pid ${lock.tookOverFrom.pid}, which is no longer running`);
  try {
    return await pipelineInFolder(options);
  } finally {
    lock.release();
  }
}

async function pipelineInFolder(options: PipelineOptions): Promise<PipelineResult> {
  const { config, runDir, stages } = options;
  const print = options.log ?? console.log;
  const log = stageLogger(runDir, print);
  const t0 = performance.now();
  assertPreflight(config);
  if (options.restart) clearMarkers(runDir);
  if (options.restart && existsSync(join(runDir, 'config.json'))) writeFileSync(join(runDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  if (options.restart) rmSync(join(runDir, 'model-fingerprint.txt'), { force: true });
  ensureRunConfig(config, runDir);
  const mode = options.executeNotebook ? 'notebooks' : 'direct';
  writePipelineManifest(runDir, config, { mode, startedAt: new Date().toISOString() });
  print(`pipeline: run ${runDir}, preset ${config.preset}, ${mode === 'notebooks' ? 'executing the notebooks through Jupyter' : 'running the stages directly'}`);

  const ctx: StageContext = { config, runDir, mode: 'direct', hooks: options.hooks ?? {}, log };
  const ran: string[] = [];
  const skipped: string[] = [];
  const notebooks: string[] = [];
  for (const group of groups(stages)) {
    const pending = group.stages.filter((s) => s.always || !readDone(runDir, s.name));
    if (pending.length === 0) {
      for (const s of group.stages) {
        const m = readDone(runDir, s.name)!;
        log(`${s.name}: done in an earlier run (${m.wallSeconds.toFixed(1)} s), skipped`);
        skipped.push(s.name);
      }
      continue;
    }
    if (group.notebooks.length && options.executeNotebook) {
      const env = { UNITRACE_RUN_DIR: runDir, UNITRACE_PRESET: config.preset };
      // a failed marker left by an earlier attempt must not be blamed for this attempt's error
      for (const s of group.stages) clearFailed(runDir, s.name);
      const execute = async (nb: string): Promise<string> => {
        // printed, not logged: the progress log is being echoed and would repeat the line
        print(`${nb}: executing (stage${group.stages.length > 1 ? 's' : ''} ${group.stages.map((s) => s.name).join(', ')})`);
        const t = performance.now();
        try {
          const out = await options.executeNotebook!(join(options.notebooksDir ?? '.', nb), env, (line) => print(`  ${line}`));
          print(`${nb}: executed in ${((performance.now() - t) / 1000).toFixed(1)} s`);
          return out;
        } catch (e) {
          // The stage that failed inside the notebook left its error in a failed marker: report that one.
          const failed = group.stages.map((s) => readFailed(runDir, s.name)).find((f) => f !== null);
          throw new StageError(failed?.stage ?? group.stages[0]!.name, failed ? `${failed.error.split('\n')[0]}\n${(e as Error).message}` : (e as Error).message);
        }
      };
      // notebooks that run no stage (they only read the config) start at once, beside the others
      const concurrent = new Set(group.stages.flatMap((s) => s.concurrentNotebooks ?? []));
      // echo what the kernel's stages log
      const stop = followProgress(progressLog(runDir), print);
      try {
        const early = group.notebooks.filter((nb) => concurrent.has(nb)).map((nb) => execute(nb));
        early.forEach((p) => p.catch(() => {})); // awaited below; a failure must not go unhandled meanwhile
        const inOrder: string[] = [];
        for (const nb of group.notebooks.filter((n) => !concurrent.has(n))) inOrder.push(await execute(nb));
        const earlyDone = await Promise.all(early);
        notebooks.push(...group.notebooks.map((nb) => (concurrent.has(nb) ? earlyDone.shift()! : inOrder.shift()!)));
      } finally {
        stop();
      }
      for (const s of group.stages) {
        if (!readDone(runDir, s.name)) throw new StageError(s.name, `${group.notebooks.join(', ')} finished but did not complete stage ${s.name} (no marker in ${pipelineDir(runDir)})`);
        (pending.includes(s) ? ran : skipped).push(s.name);
      }
    } else {
      for (const s of group.stages) {
        const r = await runStage(ctx, s);
        (r.skipped ? skipped : ran).push(s.name);
      }
    }
    writePipelineManifest(runDir, config, {});
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  writePipelineManifest(runDir, config, { finishedAt: new Date().toISOString(), lastCallWallSeconds: wallSeconds });
  return { mode, ran, skipped, markers: allDone(runDir), wallSeconds, notebooks };
}
