import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromRoot } from '../../src/util/paths.js';
import { loadUltraFeedback } from '../../src/data/index.js';

const fixture = (name: string): string => fromRoot('test', 'fixtures', 'data', name);

describe('UltraFeedback loaders', () => {
  it('reads ultrafeedback_binarized from parquet and JSONL into the same examples', async () => {
    const pq = await loadUltraFeedback(fixture('ultrafeedback_binarized.parquet'));
    const js = await loadUltraFeedback(fixture('ultrafeedback_binarized.jsonl'));
    assert.equal(pq.format, 'binarized');
    assert.equal(pq.sft.length, 12);
    assert.equal(pq.prefs.length, 12);
    assert.deepEqual(pq.errors, []);
    assert.deepEqual(pq.sft, js.sft);
    assert.deepEqual(pq.prefs, js.prefs);
    const ex = pq.sft[0]!;
    assert.deepEqual(ex.messages.map((m) => m.role), ['user', 'assistant']);
    assert.equal(ex.source, 'original');
    const pair = pq.prefs[0]!;
    assert.deepEqual(pair.prompt, [{ role: 'user', content: 'Name three primary colors.' }]);
    assert.deepEqual(pair.chosen, [{ role: 'assistant', content: 'Red, blue and yellow.' }]);
    assert.deepEqual(pair.rejected, [{ role: 'assistant', content: 'Green.' }]);
  });

  it('reads openbmb/UltraFeedback: best completion for SFT, best vs worst as a pair', async () => {
    const d = await loadUltraFeedback(fixture('openbmb_ultrafeedback.jsonl'));
    assert.equal(d.format, 'openbmb');
    assert.equal(d.sft.length, 6);
    assert.equal(d.sft[0]!.messages[1]!.content, 'Red, blue and yellow.');
    assert.equal(d.prefs[0]!.rejected[0]!.content, 'Green.');
  });

  it('reports a malformed line and a row of unknown shape with file and line, and keeps the rest', async () => {
    const file = fixture('malformed.jsonl');
    const d = await loadUltraFeedback(file);
    assert.equal(d.sft.length, 3);
    assert.deepEqual(d.errors.map((e) => e.line), [3, 5]);
    assert.match(d.errors[0]!.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3: invalid JSON`));
    assert.match(d.errors[1]!.message, /malformed\.jsonl:5: row has neither/);
  });
});
