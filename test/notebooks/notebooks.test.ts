// The notebooks as users get them: generated from notebooks/src/*.md, and executed headless through
// Jupyter with the project kernelspec on the smoke preset, by `unitrace pipeline` (what `npm start` runs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkJupyter } from '../../src/pipeline/jupyter.js';

const NOTEBOOKS = ['01-synthesis', '02-mixing', '03-sft', '04-dpo', '05-evaluation'];

interface Cell {
  cell_type: string;
  source: string[];
  outputs?: { output_type: string; ename?: string; name?: string; text?: string[] }[];
}

test('the .ipynb files are generated from their sources and import only the library', () => {
  const check = spawnSync(process.execPath, ['scripts/make-notebooks.mjs', '--check'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  for (const name of NOTEBOOKS) {
    const nb = JSON.parse(readFileSync(join('notebooks', `${name}.ipynb`), 'utf8')) as { cells: Cell[]; metadata: { kernelspec: { name: string } } };
    assert.equal(nb.metadata.kernelspec.name, 'tslab');
    const code = nb.cells.filter((c) => c.cell_type === 'code').map((c) => c.source.join(''));
    assert.ok(code.length >= 3, `${name}: ${code.length} code cells`);
    assert.ok(code[0]!.includes("from 'unitrace'"), `${name}: the first cell imports the library`);
    for (const c of code) assert.doesNotMatch(c, /from '\.\.?\//, `${name}: a notebook must not import files by path`);
    assert.ok(nb.cells.filter((c) => c.cell_type === 'markdown').length >= 3, `${name}: teaching text`);
  }
});

const jupyter = checkJupyter();
const skip = !jupyter.ok && /not installed/.test(jupyter.reason ?? '') ? `jupyter is missing: ${jupyter.reason}` : false;

test('every notebook executes headless on the smoke preset through `unitrace pipeline`', { skip, timeout: 20 * 60_000 }, () => {
  assert.ok(jupyter.ok, jupyter.reason);
  const root = mkdtempSync(join(tmpdir(), 'unitrace-notebooks-'));
  const runDir = join(root, 'smoke');
  const r = spawnSync(process.execPath, ['bin/unitrace.mjs', 'pipeline', '--preset', 'smoke', '--run-dir', runDir, '--set', `report.out=${join(root, 'report')}`], {
    encoding: 'utf8',
    env: { ...process.env, ANTHROPIC_API_KEY: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(r.status, 0, `pipeline failed:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  assert.match(r.stdout, /executing the notebooks through Jupyter/);
  const executed = readdirSync(join(runDir, 'notebooks')).sort();
  assert.deepEqual(executed, NOTEBOOKS.map((n) => `${n}.ipynb`));
  for (const f of executed) {
    const nb = JSON.parse(readFileSync(join(runDir, 'notebooks', f), 'utf8')) as { cells: Cell[] };
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    assert.ok(code.every((c) => (c.outputs ?? []).every((o) => o.output_type !== 'error')), `${f} has an error output`);
    assert.ok(code.some((c) => (c.outputs ?? []).length > 0), `${f} produced no output`);
  }
  for (const stage of ['data', 'sft-original', 'sft-cot', 'sft-unified', 'dpo', 'eval', 'report'])
    assert.ok(existsSync(join(runDir, 'pipeline', `${stage}.done.json`)), `no marker for ${stage}`);
  assert.ok(existsSync(join(root, 'report', 'index.html')));
});
