// The embedded model's pretraining corpus (scripts/pretrain/corpus.ts) must never hold the unified
// format nor any evaluation prompt of any preset. The recipe of the committed model is read from
// data/tiny-qwen2/pretrain.json and its corpus rebuilt; the held-out prompts are taken from the very
// evaluation sets buildDatasets writes for each preset, so a change in how the mix draws them is caught.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { presetNames } from '../../src/config/presets.js';
import { resolveConfig } from '../../src/config/index.js';
import { buildDatasets, DATA_FILES, type EvalItem } from '../../src/data/index.js';
import { validateFormat } from '../../src/trace/validate.js';
import { sha256, stableStringify } from '../../src/util/hash.js';
import { readJsonl } from '../../src/util/jsonl.js';
import { dataDir } from '../../src/util/paths.js';
import { assertClean, buildCorpus, heldOutPrompts, type CorpusOptions } from '../../scripts/pretrain/corpus.js';

const tmp = mkdtempSync(join(tmpdir(), 'unitrace-pretrain-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** sha256 of every user prompt in every preset's evaluation set, as the mixing stage writes it. */
async function evalPromptHashes(): Promise<Set<string>> {
  const out = new Set<string>();
  for (const name of presetNames) {
    // A preset's UltraFeedback or Claude data is not ours to leak; the problems and instructions held out are
    // the same whatever the original data and teacher, so every preset is built with the embedded ones.
    const config = resolveConfig({ preset: name, overrides: [{ mix: { original: 'embedded' }, synth: { teacher: 'offline' } }] });
    const dir = join(tmp, name);
    await buildDatasets(config, { outDir: dir });
    for (const item of readJsonl<EvalItem>(join(dir, DATA_FILES.eval))) for (const m of item.prompt) if (m.role === 'user') out.add(sha256(m.content));
  }
  return out;
}

const recipeFile = join(dataDir, 'tiny-qwen2', 'pretrain.json');
interface Recipe {
  corpus: CorpusOptions;
  rows: number;
  sha256: string;
  earlierStage?: Recipe;
}

describe('pretraining corpus of the embedded model', () => {
  it('holds no evaluation prompt of any preset and never the four trace sections together, in every stage', { skip: !existsSync(recipeFile) && `${recipeFile} is absent` }, async () => {
    const evalHashes = await evalPromptHashes();
    assert.ok(evalHashes.size > 100, `expected the presets' evaluation prompts, got ${evalHashes.size}`);
    // A model continued with --init-from keeps the earlier stage's recipe: each stage's corpus is rebuilt and checked.
    let stages = 0;
    for (let recipe: Recipe | undefined = JSON.parse(readFileSync(recipeFile, 'utf8')) as Recipe; recipe; recipe = recipe.earlierStage) {
      stages++;
      const corpus = buildCorpus(recipe.corpus);
      assert.equal(corpus.rows.length, recipe.rows, `stage ${stages}: the committed recipe rebuilds a corpus of the recorded size`);
      assert.equal(sha256(stableStringify(corpus.rows)), recipe.sha256, `stage ${stages}: the committed recipe rebuilds the very corpus the model was trained on`);
      let userTexts = 0;
      for (const row of corpus.rows) {
        for (const m of row.messages) {
          if (m.role === 'assistant') assert.equal(validateFormat(m.content).lenient, false, `${row.id} holds all four trace sections`);
          if (m.role !== 'user') continue;
          userTexts++;
          for (const text of [m.content, ...m.content.split('\n')]) assert.ok(!evalHashes.has(sha256(text)), `stage ${stages}, ${row.id} contains an evaluation prompt: ${text}`);
        }
      }
      assert.equal(userTexts, corpus.rows.length);
    }
    assert.ok(stages >= 1);
  });

  it('assertClean rejects a row holding an evaluation prompt or a unified trace', () => {
    const heldOut = heldOutPrompts();
    const question = [...heldOut][0]!;
    const row = (user: string, assistant: string) => ({ id: 'r', messages: [{ role: 'user' as const, content: user }, { role: 'assistant' as const, content: assistant }] });
    assert.throws(() => assertClean([row(`Solve with Python code:\n${question}`, 'x')], heldOut), /evaluation prompt/);
    const trace = '<cot>\nplan\n</cot>\n\n<logic>\nGIVEN: a = 1\n</logic>\n\n<code>\n```python\nprint(1)\n```\n</code>\n\n<answer>\n1\n</answer>';
    assert.throws(() => assertClean([row('What is 1?', trace)], heldOut), /unified format/);
    assert.doesNotThrow(() => assertClean([row('What is 1?', '1')], heldOut));
  });
});
