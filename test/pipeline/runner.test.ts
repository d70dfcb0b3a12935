// The pipeline's own logic with fake stages: order, markers with wall times, resume after a failure,
// config checks, notebook grouping and the manifest. (The real stages are exercised by test/notebooks.)
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config/index.js';
import { readDone, readFailed, runPipeline, runStage, StageError, type NotebookExecutor, type Stage } from '../../src/pipeline/index.js';

const config = resolveConfig({ preset: 'smoke' });
const quiet = () => {};
const fresh = () => join(mkdtempSync(join(tmpdir(), 'unitrace-pipeline-')), 'run');

function fakeStages(calls: string[], opts: { failing?: Set<string>; notebooks?: boolean } = {}): Stage[] {
  const make = (name: string, notebooks?: string[], always = false): Stage => ({
    name,
    describe: `fake ${name}`,
    notebooks: opts.notebooks ? notebooks : undefined,
    always,
    async run() {
      calls.push(name);
      await new Promise((r) => setTimeout(r, 5));
      if (opts.failing?.has(name)) throw new Error(`${name} broke on purpose`);
      return { made: name };
    },
  });
  return [make('data', ['01.ipynb', '02.ipynb']), make('sft-a', ['03.ipynb']), make('sft-b', ['03.ipynb']), make('dpo', ['04.ipynb']), make('report', undefined, true)];
}

test('stages run in order and leave markers with wall time and result', async () => {
  const runDir = fresh();
  const calls: string[] = [];
  const r = await runPipeline({ config, runDir, stages: fakeStages(calls), log: quiet });
  assert.deepEqual(calls, ['data', 'sft-a', 'sft-b', 'dpo', 'report']);
  assert.equal(r.mode, 'direct');
  const m = readDone(runDir, 'sft-b')!;
  assert.ok(m.wallSeconds >= 0.004, `wall time ${m.wallSeconds}`);
  assert.equal(m.mode, 'direct');
  assert.deepEqual(m.result, { made: 'sft-b' });
  const manifest = JSON.parse(readFileSync(join(runDir, 'pipeline', 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.stages.map((s: { stage: string }) => s.stage).sort(), ['data', 'dpo', 'report', 'sft-a', 'sft-b']);
  assert.equal(manifest.preset, 'smoke');
  assert.ok(manifest.packages['@tensorflow/tfjs-core']);
  assert.ok(existsSync(join(runDir, 'config.json')));
});

test('a failing stage stops the run with its error; a rerun resumes after the finished stages', async () => {
  const runDir = fresh();
  const calls: string[] = [];
  await assert.rejects(
    runPipeline({ config, runDir, stages: fakeStages(calls, { failing: new Set(['sft-b']) }), log: quiet }),
    (e: unknown) => e instanceof StageError && e.stage === 'sft-b' && /sft-b broke on purpose/.test(e.message),
  );
  assert.deepEqual(calls, ['data', 'sft-a', 'sft-b']);
  assert.match(readFailed(runDir, 'sft-b')!.error, /broke on purpose/);
  assert.equal(readDone(runDir, 'sft-b'), null);

  const again: string[] = [];
  const r = await runPipeline({ config, runDir, stages: fakeStages(again), log: quiet });
  assert.deepEqual(again, ['sft-b', 'dpo', 'report']);
  assert.deepEqual(r.skipped, ['data', 'sft-a']);
  assert.equal(readFailed(runDir, 'sft-b'), null, 'the failed marker goes once the stage succeeds');

  // everything done: only the always-stage runs
  const third: string[] = [];
  await runPipeline({ config, runDir, stages: fakeStages(third), log: quiet });
  assert.deepEqual(third, ['report']);
  // --restart runs everything again
  const fourth: string[] = [];
  await runPipeline({ config, runDir, stages: fakeStages(fourth), restart: true, log: quiet });
  assert.deepEqual(fourth, ['data', 'sft-a', 'sft-b', 'dpo', 'report']);
});

test('resuming with a different config is refused, naming what changed', async () => {
  const runDir = fresh();
  await runPipeline({ config, runDir, stages: fakeStages([]), log: quiet });
  const changed = resolveConfig({ preset: 'smoke', overrides: ['sft.epochs=7'] });
  await assert.rejects(runPipeline({ config: changed, runDir, stages: fakeStages([]), log: quiet }), /different config \(sft\.epochs\)/);
  // where the run lives is not part of the experiment
  const moved = resolveConfig({ preset: 'smoke', overrides: ['report.out=elsewhere'] });
  await runPipeline({ config: moved, runDir, stages: fakeStages([]), log: quiet });
});

test('resuming after the model files changed is refused; --restart accepts the new files', async () => {
  const runDir = fresh();
  const modelDir = join(mkdtempSync(join(tmpdir(), 'unitrace-model-')), 'm');
  mkdirSync(modelDir);
  writeFileSync(join(modelDir, 'config.json'), '{"hidden_size": 8}');
  writeFileSync(join(modelDir, 'model.safetensors'), Buffer.alloc(64, 1));
  const withModel = resolveConfig({ preset: 'smoke', overrides: [`model.source=${modelDir}`] });
  await runPipeline({ config: withModel, runDir, stages: fakeStages([]), log: quiet });
  // Same shape, other weights: what a retrained model looks like.
  writeFileSync(join(modelDir, 'model.safetensors'), Buffer.alloc(64, 2));
  await assert.rejects(runPipeline({ config: withModel, runDir, stages: fakeStages([]), log: quiet }), /other files in the model folder/);
  const calls: string[] = [];
  await runPipeline({ config: withModel, runDir, stages: fakeStages(calls), restart: true, log: quiet });
  assert.deepEqual(calls, ['data', 'sft-a', 'sft-b', 'dpo', 'report']);
});

test('notebook mode executes each notebook group once, in order, with the run in the environment', async () => {
  const runDir = fresh();
  const calls: string[] = [];
  const executed: string[] = [];
  const stages = fakeStages(calls, { notebooks: true });
  // Plays the kernel: the last notebook of a group runs the group's stages with markers, as notebookRun().stage() does.
  const executor: NotebookExecutor = async (nb, env) => {
    executed.push(nb.split('/').pop()!);
    assert.equal(env.UNITRACE_RUN_DIR, runDir);
    assert.equal(env.UNITRACE_PRESET, 'smoke');
    const group = stages.filter((s) => s.notebooks?.[s.notebooks.length - 1] === nb.split('/').pop());
    for (const s of group) await runStage({ config, runDir, mode: 'notebook', hooks: {}, log: quiet }, s);
    return `${runDir}/notebooks/${nb}`;
  };
  const r = await runPipeline({ config, runDir, stages, executeNotebook: executor, notebooksDir: '/nb', log: quiet });
  assert.equal(r.mode, 'notebooks');
  assert.deepEqual(executed, ['01.ipynb', '02.ipynb', '03.ipynb', '04.ipynb']);
  assert.deepEqual(calls, ['data', 'sft-a', 'sft-b', 'dpo', 'report']);
  assert.equal(readDone(runDir, 'sft-a')!.mode, 'notebook');
  assert.equal(readDone(runDir, 'report')!.mode, 'direct', 'a stage without notebook runs directly');

  // rerun: finished notebooks are not executed again
  executed.length = 0;
  await runPipeline({ config, runDir, stages, executeNotebook: executor, notebooksDir: '/nb', log: quiet });
  assert.deepEqual(executed, []);
});

test('notebook mode: a notebook error names the failing stage; a notebook that skips its stage is an error', async () => {
  const runDir = fresh();
  const stages = fakeStages([], { notebooks: true, failing: new Set(['sft-b']) });
  const executor: NotebookExecutor = async (nb) => {
    const group = stages.filter((s) => s.notebooks?.[s.notebooks.length - 1] === nb.split('/').pop());
    for (const s of group) await runStage({ config, runDir, mode: 'notebook', hooks: {}, log: quiet }, s);
    return nb;
  };
  await assert.rejects(runPipeline({ config, runDir, stages, executeNotebook: executor, log: quiet }), (e: unknown) => e instanceof StageError && e.stage === 'sft-b');
  assert.ok(readDone(runDir, 'sft-a'), 'sft-a finished before sft-b failed');

  const lazy = fresh();
  await assert.rejects(
    runPipeline({ config, runDir: lazy, stages: fakeStages([], { notebooks: true }), executeNotebook: async (nb) => nb, log: quiet }),
    /did not complete stage data/,
  );
});

test('training stages log their progress (step, loss, ETA) and still reach the caller hook', async () => {
  const runDir = fresh();
  const lines: string[] = [];
  const seen: number[] = [];
  const stage: Stage = {
    name: 'sft-x',
    describe: 'fake training',
    async run(ctx) {
      for (let step = 1; step <= 3; step++) ctx.hooks.onStep?.('sft-x', { step, epoch: step / 3, loss: 1 / step, tokensPerSecond: 100 }, { totalSteps: 3, etaSeconds: 3 - step });
    },
  };
  await runStage({ config, runDir, mode: 'direct', hooks: { onStep: (_s, row) => seen.push(row.step!) }, log: (l) => lines.push(l) }, stage);
  assert.deepEqual(seen, [1, 2, 3]);
  assert.ok(lines.some((l) => /sft-x: step 3\/3 \(epoch 1\.00\), loss 0\.3333, 100 tokens\/s, ETA 0 s/.test(l)), lines.join('\n'));
});
