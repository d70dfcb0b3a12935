// The paper's pipeline as stages over one run folder. Each stage is a thin call into its module; the
// notebooks call the same stages (pipeline.notebookRun().stage(name)), so both paths do the same work.
import { join, resolve } from 'node:path';
import type { Config } from '../config/index.js';
import { buildDatasets, DATA_FILES, type ProgressEvent } from '../data/index.js';
import { evaluateRun, type EvalProgress } from '../eval/index.js';
import { runDpo, runSft } from '../train/index.js';
import { readDone } from './markers.js';
import type { Stage, StageContext } from './stage.js';

export const NOTEBOOKS = {
  synthesis: '01-synthesis.ipynb',
  mixing: '02-mixing.ipynb',
  sft: '03-sft.ipynb',
  dpo: '04-dpo.ipynb',
  evaluation: '05-evaluation.ipynb',
} as const;

/** The three SFT runs of the paper: its model (original + unified traces) and its two baselines. */
export const SFT_RUNS = {
  'sft-original': { data: DATA_FILES.original, what: 'baseline: the original instruction data only' },
  'sft-cot': { data: DATA_FILES.cot, what: 'baseline: original data plus CoT-only traces' },
  'sft-unified': { data: DATA_FILES.unified, what: "the paper's model: original data plus unified traces" },
} as const;
export type SftRunName = keyof typeof SFT_RUNS;

/** The TensorFlow.js backend this process trained or generated with, for the run manifest. */
async function activeBackend(): Promise<string> {
  const tf = await import('@tensorflow/tfjs-core');
  return tf.getBackend();
}

/** Progress events arrive often; log each phase's start and end and at most every 2 s in between. */
function progressLogger(ctx: StageContext): (e: ProgressEvent | EvalProgress) => void {
  let last = 0;
  return (e) => {
    const now = Date.now();
    if (e.done !== 0 && e.done !== e.total && !e.message && now - last < 2000) return;
    last = now;
    const what = 'model' in e ? `${e.model} ${e.stage}` : e.stage;
    ctx.log(`  ${what}: ${e.done}/${e.total}${e.message ? ` ${e.message}` : ''}`);
  };
}

const dataStage: Stage = {
  name: 'data',
  describe: 'synthesize the unified traces and mix the datasets (SFT mixes, DPO pairs, held-out evaluation set)',
  notebooks: [NOTEBOOKS.synthesis, NOTEBOOKS.mixing],
  // 01 previews the generators and runs no stage: it executes while 02 builds the data
  concurrentNotebooks: [NOTEBOOKS.synthesis],
  async run(ctx) {
    const manifest = await buildDatasets(ctx.config, { outDir: join(ctx.runDir, 'data'), onProgress: progressLogger(ctx) });
    return { counts: manifest.counts, ratio: manifest.ratio, files: manifest.files };
  },
};

/** Baselines may train on a smaller epoch budget (sft.baselineEpochs); the report says which. */
export function sftConfig(config: Config, name: SftRunName): Config {
  return name === 'sft-unified' ? config : { ...config, sft: { ...config.sft, epochs: config.sft.baselineEpochs } };
}

function sftStage(name: SftRunName): Stage {
  return {
    name,
    describe: `LoRA SFT, ${SFT_RUNS[name].what}`,
    notebooks: [NOTEBOOKS.sft],
    async run(ctx) {
      const config = sftConfig(ctx.config, name);
      const r = await runSft(config, {
        data: join(ctx.runDir, 'data', SFT_RUNS[name].data),
        out: join(ctx.runDir, name),
        // a stage that died part-way continues from its newest checkpoint
        resume: true,
        onStep: (row, progress) => ctx.hooks.onStep?.(name, row, progress),
        onLog: (line) => ctx.log(`  ${line}`),
      });
      if (!r.finished) throw new Error(`${name} stopped after ${r.steps} steps without finishing`);
      return { adapter: r.result, steps: r.steps, epochs: config.sft.epochs, truncation: r.truncation, backend: await activeBackend() };
    },
  };
}

const dpoStage: Stage = {
  name: 'dpo',
  describe: 'DPO on preference pairs, LoRA on top of the unified SFT model (the reference)',
  notebooks: [NOTEBOOKS.dpo],
  async run(ctx) {
    const sft = readDone(ctx.runDir, 'sft-unified');
    const adapter = (sft?.result as { adapter?: string } | undefined)?.adapter;
    if (!adapter) throw new Error(`dpo needs the finished sft-unified stage (no adapter recorded in ${ctx.runDir}/pipeline/sft-unified.done.json)`);
    const r = await runDpo(ctx.config, {
      data: join(ctx.runDir, 'data', DATA_FILES.pairs),
      out: join(ctx.runDir, 'dpo'),
      sftAdapter: adapter,
      resume: true,
      onStep: (row, progress) => ctx.hooks.onStep?.('dpo', row, progress),
      onLog: (line) => ctx.log(`  ${line}`),
    });
    if (!r.finished) throw new Error(`dpo stopped after ${r.steps} steps without finishing`);
    return { adapter: r.result, baseModel: r.baseModel, steps: r.steps, lastRow: r.lastRow, backend: await activeBackend() };
  },
};

const evalStage: Stage = {
  name: 'eval',
  describe: 'generate on the held-out set with all five models and score format, execution, correctness and the judge',
  notebooks: [NOTEBOOKS.evaluation],
  async run(ctx) {
    const summary = await evaluateRun(ctx.config, ctx.runDir, { onProgress: progressLogger(ctx), log: (line) => ctx.log(`  ${line}`) });
    const evaluated = Object.keys(summary.models);
    return { judge: summary.judge.name, models: evaluated, items: summary.items.n, backend: await activeBackend() };
  },
};

/** Where the pipeline's report goes: report.out, a relative one inside the run folder (runs/demo/report). */
export const reportDir = (config: Config, runDir: string): string => resolve(runDir, config.report.out);

const reportStage: Stage = {
  name: 'report',
  describe: 'render the report (HTML, report-data.json, PDF when Chromium is installed)',
  always: true,
  async run(ctx) {
    const { renderReport } = await import('../report/render.js');
    const r = await renderReport(ctx.runDir, { out: reportDir(ctx.config, ctx.runDir), log: (l) => ctx.log(`  ${l}`) });
    return { html: r.html, pdf: r.pdf };
  },
};

/** Every stage of `npm start`, in order. */
export function defaultStages(): Stage[] {
  return [dataStage, ...(Object.keys(SFT_RUNS) as SftRunName[]).map(sftStage), dpoStage, evalStage, reportStage];
}

export function stageByName(name: string): Stage {
  const stage = defaultStages().find((s) => s.name === name);
  if (!stage) throw new Error(`no pipeline stage '${name}' (stages: ${defaultStages().map((s) => s.name).join(', ')})`);
  return stage;
}
