import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkInstruction, generateInstructions, INSTRUCTION_KINDS } from '../../src/data/index.js';

describe('embedded instruction set', () => {
  it('has at least 6 kinds and 1,000 distinct prompts for one seed, deterministic', () => {
    assert.ok(INSTRUCTION_KINDS.length >= 6);
    const items = generateInstructions({ seed: 1, count: 1200 });
    assert.equal(new Set(items.map((i) => i.prompt)).size, 1200);
    assert.equal(new Set(items.map((i) => i.kind)).size, INSTRUCTION_KINDS.length);
    assert.equal(JSON.stringify(generateInstructions({ seed: 1, count: 50 })), JSON.stringify(items.slice(0, 50)));
    assert.notEqual(JSON.stringify(generateInstructions({ seed: 2, count: 50 })), JSON.stringify(items.slice(0, 50)));
  });

  it('every reference response passes its own checker and responses stay short', () => {
    for (const it of generateInstructions({ seed: 7, count: 800 })) {
      const r = checkInstruction(it.check, it.response);
      assert.ok(r.pass, `${it.kind}: ${it.prompt} -> ${it.response}: ${r.reason}`);
      assert.ok(it.response.length < 200);
    }
  });

  it('never produces an excluded prompt', () => {
    const held = generateInstructions({ seed: 3, count: 40, stream: 'eval' });
    const train = generateInstructions({ seed: 3, count: 400, exclude: new Set(held.map((h) => h.prompt)) });
    const heldSet = new Set(held.map((h) => h.prompt));
    assert.ok(train.every((t) => !heldSet.has(t.prompt)));
  });

  it('checkers reject wrong responses', () => {
    assert.equal(checkInstruction({ type: 'exact', value: 'ABC DEF', caseSensitive: true }, 'abc def').pass, false);
    assert.equal(checkInstruction({ type: 'exact', value: 'ABC DEF', caseSensitive: true }, '  ABC   DEF. ').pass, true);
    assert.equal(checkInstruction({ type: 'number', value: 7 }, 'There are 8.').pass, false);
    assert.equal(checkInstruction({ type: 'number', value: 7 }, 'The answer is 7.').pass, true);
    assert.equal(checkInstruction({ type: 'label', value: 'positive', options: ['positive', 'negative'] }, 'positive or negative').pass, false);
    assert.equal(checkInstruction({ type: 'label', value: 'positive', options: ['positive', 'negative'] }, 'Negative.').pass, false);
    assert.equal(checkInstruction({ type: 'label', value: 'positive', options: ['positive', 'negative'] }, 'Positive.').pass, true);
    assert.equal(checkInstruction({ type: 'list', value: ['a', 'b'], ordered: true, separator: ',' }, 'b, a').pass, false);
    assert.equal(checkInstruction({ type: 'list', value: ['a', 'b'], ordered: false, separator: '\n' }, 'b\na').pass, true);
    assert.equal(checkInstruction({ type: 'json', value: { a: 1 } }, 'Here: {"a": 2}').pass, false);
    assert.equal(checkInstruction({ type: 'json', value: { a: 1 } }, 'Here: {"a": 1}').pass, true);
    assert.match(checkInstruction({ type: 'json', value: { a: 1 } }, '{a: 1}').reason ?? '', /invalid JSON/);
  });
});
