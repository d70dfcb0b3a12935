// The notebooks as users get them: generated from notebooks/src/*.md, and executed headless through
// Jupyter with the project kernelspec on the smoke preset, by `unitrace pipeline` (what `npm start` runs).
// The pipeline runs once; every execution test below reads that one run.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { before, describe, test } from 'node:test';
import { checkJupyter } from '../../src/pipeline/jupyter.js';
import { buildReportData, VERDICTS } from '../../src/report/index.js';

const NOTEBOOKS = ['01-synthesis', '02-mixing', '03-sft', '04-dpo', '05-evaluation'];

interface Output {
  output_type: string;
  ename?: string;
  name?: string;
  text?: string[];
  data?: Record<string, string[]>;
}
interface Cell {
  cell_type: string;
  source: string[];
  execution_count?: number | null;
  outputs?: Output[];
}
const readNotebook = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as { cells: Cell[]; metadata: { kernelspec: { name: string } } };
const text = (c: Cell): string => (c.outputs ?? []).map((o) => (o.text ?? []).join('') + Object.values(o.data ?? {}).map((d) => (Array.isArray(d) ? d.join('') : '')).join('')).join('');

test('the .ipynb files are generated from their sources and import only the library', () => {
  const check = spawnSync(process.execPath, ['scripts/make-notebooks.mjs', '--check'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  for (const name of NOTEBOOKS) {
    const nb = readNotebook(join('notebooks', `${name}.ipynb`));
    assert.equal(nb.metadata.kernelspec.name, 'tslab');
    const code = nb.cells.filter((c) => c.cell_type === 'code').map((c) => c.source.join(''));
    assert.ok(code.length >= 3, `${name}: ${code.length} code cells`);
    assert.ok(code[0]!.includes("from 'unitrace'"), `${name}: the first cell imports the library`);
    for (const c of code) assert.doesNotMatch(c, /from '\.\.?\//, `${name}: a notebook must not import files by path`);
    assert.ok(nb.cells.filter((c) => c.cell_type === 'markdown').length >= 3, `${name}: teaching text`);
  }
});

test('each notebook has 3 to 5 exercises, each with a folded solution that is not a code cell', () => {
  for (const name of NOTEBOOKS) {
    const nb = readNotebook(join('notebooks', `${name}.ipynb`));
    const md = nb.cells.filter((c) => c.cell_type === 'markdown').map((c) => c.source.join('')).join('\n');
    const exercises = md.slice(md.indexOf('## Exercises')).match(/^\*\*\d\. /gm) ?? [];
    assert.ok(exercises.length >= 3 && exercises.length <= 5, `${name}: ${exercises.length} exercises`);
    const solutions = md.match(/<details><summary>Solution<\/summary>/g) ?? [];
    assert.equal(solutions.length, exercises.length, `${name}: one solution per exercise`);
    const afterExercises = nb.cells.slice(nb.cells.findIndex((c) => c.source.join('').includes('## Exercises')));
    assert.ok(afterExercises.every((c) => c.cell_type === 'markdown'), `${name}: solutions must not run with the notebook`);
  }
  const code = (name: string) => readNotebook(join('notebooks', `${name}.ipynb`)).cells.filter((c) => c.cell_type === 'code').map((c) => c.source.join('')).join('\n');
  // the mechanics cells: label mask, parameter counts, one LoRA layer, one DPO pair
  assert.match(code('03-sft'), /train\.collateSft\(/);
  assert.match(code('03-sft'), /trainable \+= pair\.a\.size \+ pair\.b\.size/);
  assert.match(code('03-sft'), /model\.mergeAdapter\(/);
  assert.match(code('04-dpo'), /train\.dpoObjective\(/);
});

test('the kernelspec is relocatable: it names tslab relative to itself', () => {
  const spec = resolve('.jupyter', 'kernels', 'tslab', 'kernel.json');
  const argv0 = (JSON.parse(readFileSync(spec, 'utf8')) as { argv: string[] }).argv[0]!;
  assert.match(argv0, /^\{resource_dir\}\//);
  assert.ok(existsSync(resolve(argv0.replace('{resource_dir}', dirname(spec)))), argv0);
});

const jupyter = checkJupyter();
const skip = !jupyter.ok && /not installed/.test(jupyter.reason ?? '') ? `jupyter is missing: ${jupyter.reason}` : false;

describe('the smoke pipeline through Jupyter', { skip }, () => {
  const root = mkdtempSync(join(tmpdir(), 'unitrace-notebooks-'));
  const runDir = join(root, 'smoke');
  let pipeline: SpawnSyncReturns<string>;
  before(() => {
    assert.ok(jupyter.ok, jupyter.reason);
    pipeline = spawnSync(process.execPath, ['bin/unitrace.mjs', 'pipeline', '--preset', 'smoke', '--run-dir', runDir, '--set', `report.out=${join(root, 'report')}`], {
      encoding: 'utf8',
      env: { ...process.env, ANTHROPIC_API_KEY: '' },
      maxBuffer: 64 * 1024 * 1024,
    });
  }, { timeout: 20 * 60_000 });
  const executed = (name: string) => readNotebook(join(runDir, 'notebooks', `${name}.ipynb`));

  test('every notebook executes headless on the smoke preset through `unitrace pipeline`', () => {
    assert.equal(pipeline.status, 0, `pipeline failed:\n${pipeline.stdout.slice(-4000)}\n${pipeline.stderr.slice(-4000)}`);
    assert.match(pipeline.stdout, /executing the notebooks through Jupyter/);
    assert.deepEqual(readdirSync(join(runDir, 'notebooks')).sort(), NOTEBOOKS.map((n) => `${n}.ipynb`));
    for (const name of NOTEBOOKS) {
      const code = executed(name).cells.filter((c) => c.cell_type === 'code');
      assert.ok(code.every((c) => (c.outputs ?? []).every((o) => o.output_type !== 'error')), `${name} has an error output`);
      assert.ok(code.some((c) => (c.outputs ?? []).length > 0), `${name} produced no output`);
      assert.deepEqual(code.map((c) => c.execution_count), code.map((_, i) => i + 1), `${name}: execution counts`);
    }
    for (const stage of ['data', 'sft-original', 'sft-cot', 'sft-unified', 'dpo', 'eval', 'report'])
      assert.ok(existsSync(join(runDir, 'pipeline', `${stage}.done.json`)), `no marker for ${stage}`);
    assert.ok(existsSync(join(root, 'report', 'index.html')));
  });

  test('the by-hand cells agree with the library on the run\'s real data', () => {
    const sft = executed('03-sft').cells.map(text).join('\n');
    assert.match(sft, /predictions in the loss; the last label is/);
    const diff = Number(/max difference ([\d.e+-]+)/.exec(sft)?.[1]);
    assert.ok(diff < 1e-3, `LoRA layer by hand vs library: ${diff}`);
    assert.match(sft, /trainable \(LoRA A and B\) \| ([\d,]+) \|\n\| r x \(in \+ out\)[^|]*\| \1 \|/, 'trainable count equals r x (in + out)');
    const dpo = executed('04-dpo').cells.map(text).join('\n');
    assert.match(dpo, /\| sigmoid loss \| 0\.\d{5} \| 0\.\d{5} \|/);
    const pi = /\| log π_ref\(chosen\) \| (-[\d.]+) \|/.exec(dpo);
    const recorded = JSON.parse(readFileSync(join(runDir, 'dpo', 'reference-logps.json'), 'utf8')) as { chosen: number[] };
    assert.ok(pi && Math.abs(Number(pi[1]) - recorded.chosen[0]!) < 1e-3 * Math.abs(recorded.chosen[0]!), `reference log-prob by hand ${pi?.[1]} vs the trainer's ${recorded.chosen[0]}`);
  });

  test('the report of the real run: verdict categories and the offline judge is not the paper\'s', () => {
    const d = buildReportData(runDir);
    for (const c of d.findings.claims) assert.ok((VERDICTS as readonly string[]).includes(c.status), `${c.claim}: ${c.status}`);
    for (const c of d.findings.claims.filter((c) => /answer quality|DPO/.test(c.claim))) {
      assert.equal(c.status, 'not comparable', c.claim);
      assert.match(c.why!, /judge/);
    }
    assert.ok(d.findings.comparisons.length > 0, 'paired comparisons from the responses');
    const html = readFileSync(join(root, 'report', 'index.html'), 'utf8');
    assert.match(html, /<section id="differences" class="box"><h2>Differences from the paper<\/h2>/);
  });
});
