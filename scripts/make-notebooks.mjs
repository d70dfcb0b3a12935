#!/usr/bin/env node
// Writes notebooks/NN-name.ipynb from notebooks/src/NN-name.md, the reviewable source: markdown text
// becomes markdown cells, every ```ts fenced block becomes one code cell. `--check` fails when an .ipynb
// is out of date with its source (used by the tests), without writing anything.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'notebooks', 'src');

/** Splits a source file into cells. A line that is exactly ```ts opens a code cell, the next ``` closes it. */
export function parseSource(text, file) {
  const cells = [];
  let md = [];
  let code = null;
  const flushMd = () => {
    const body = md.join('\n').trim();
    // `<!-- cell -->` on its own line splits markdown into separate cells
    for (const part of body.split(/^<!-- cell -->$/m)) if (part.trim()) cells.push({ type: 'markdown', source: part.trim() });
    md = [];
  };
  text.split('\n').forEach((line, i) => {
    if (code === null && line.trim() === '```ts') {
      flushMd();
      code = [];
    } else if (code !== null && line.trim() === '```') {
      if (code.join('').trim() === '') throw new Error(`${file}:${i + 1}: empty code cell`);
      cells.push({ type: 'code', source: code.join('\n').replace(/\s+$/, '') });
      code = null;
    } else if (code !== null) code.push(line);
    else md.push(line);
  });
  if (code !== null) throw new Error(`${file}: unclosed \`\`\`ts block`);
  flushMd();
  return cells;
}

const lines = (s) => s.split('\n').map((l, i, a) => (i < a.length - 1 ? l + '\n' : l));

export function toNotebook(name, cells) {
  return {
    cells: cells.map((c, i) => {
      const id = createHash('sha256').update(`${name}:${i}`).digest('hex').slice(0, 12);
      return c.type === 'code'
        ? { cell_type: 'code', execution_count: null, id, metadata: {}, outputs: [], source: lines(c.source) }
        : { cell_type: 'markdown', id, metadata: {}, source: lines(c.source) };
    }),
    metadata: {
      kernelspec: { display_name: 'TypeScript (unitrace, tslab)', language: 'typescript', name: 'tslab' },
      language_info: { codemirror_mode: { mode: 'typescript', name: 'javascript', typescript: true }, file_extension: '.ts', mimetype: 'text/typescript', name: 'typescript', version: '5.0.4' },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

export function build({ check = false } = {}) {
  const stale = [];
  const written = [];
  for (const f of readdirSync(srcDir).filter((f) => /^\d\d-.*\.md$/.test(f)).sort()) {
    const name = f.replace(/\.md$/, '');
    const nb = JSON.stringify(toNotebook(name, parseSource(readFileSync(join(srcDir, f), 'utf8'), f)), null, 1) + '\n';
    const out = join(root, 'notebooks', `${name}.ipynb`);
    if (existsSync(out) && readFileSync(out, 'utf8') === nb) continue;
    if (check) stale.push(out);
    else (writeFileSync(out, nb), written.push(out));
  }
  return { stale, written };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check');
  const { stale, written } = build({ check });
  if (check && stale.length) {
    console.error(`out of date (run node scripts/make-notebooks.mjs): ${stale.join(', ')}`);
    process.exit(1);
  }
  for (const f of written) console.log(`wrote ${f}`);
}
