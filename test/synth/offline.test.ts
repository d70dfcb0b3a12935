import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { scoreCountdown } from '../../src/trace/countdown.js';
import { createSandboxPool } from '../../src/sandbox/index.js';
import { CORRUPTIONS, corruptTrace, FAMILY_NAMES, generateProblems, solveCountdown } from '../../src/synth/index.js';
import { filterTrace, type RejectionReason } from '../../src/synth/filter.js';
import { validateFormat } from '../../src/trace/validate.js';
import { Rng } from '../../src/util/rng.js';

describe('offline teacher', () => {
  it('has at least 8 families, including the ones the issue names', () => {
    assert.ok(FAMILY_NAMES.length >= 8);
    for (const f of ['arithmetic', 'geometry', 'units', 'percent', 'sequences', 'dates', 'logic', 'countdown']) assert.ok(FAMILY_NAMES.includes(f), f);
  });

  it('gives the same bytes for the same seed and different problems for another seed', () => {
    const a = JSON.stringify(generateProblems({ seed: 11, count: 40 }));
    const b = JSON.stringify(generateProblems({ seed: 11, count: 40 }));
    const c = JSON.stringify(generateProblems({ seed: 12, count: 40 }));
    assert.equal(a, b);
    assert.notEqual(a, c);
  });

  it('varies phrasing, names and magnitudes within each family', () => {
    for (const family of FAMILY_NAMES) {
      const ps = generateProblems({ seed: 5, count: 60, families: [family] });
      assert.equal(new Set(ps.map((p) => p.question)).size, 60, `${family}: distinct questions`);
      const openings = new Set(ps.map((p) => p.question.split(' ').slice(0, 2).join(' ')));
      assert.ok(openings.size >= 3, `${family}: only ${openings.size} openings`);
      const truths = new Set(ps.map((p) => String(p.groundTruth)));
      assert.ok(truths.size >= 20, `${family}: only ${truths.size} distinct answers`);
    }
  });

  it('renders strict, logic-valid, compact traces with a CoT-only and a direct response', () => {
    for (const p of generateProblems({ seed: 2, count: 160 })) {
      const v = validateFormat(p.trace);
      assert.ok(v.strict && v.logicValid, `${p.id}: ${v.errors.join('; ')}`);
      // About 3.5 characters per Qwen token: 1100 characters is roughly 300 tokens (countdown is the longest).
      assert.ok(p.trace.length < 1100, `${p.id}: ${p.trace.length} characters`);
      assert.ok(!/<(cot|logic|code|answer)>/.test(p.cotResponse), 'CoT-only response has no section tags');
      assert.ok(p.cotResponse.includes(p.answer) && p.direct === p.answer);
    }
  });

  it('solves Countdown with an expression that uses every number once', () => {
    for (const p of generateProblems({ seed: 3, count: 30, families: ['countdown'] })) {
      assert.ok(p.countdown);
      assert.equal(p.answer, solveCountdown(p.countdown.nums, p.countdown.target));
      assert.ok(scoreCountdown(p.answer, p.countdown).correct, p.answer);
    }
    assert.equal(solveCountdown([2, 2], 7), null);
  });

  describe('in the sandbox', () => {
    const sandbox = createSandboxPool({ size: 2 });
    after(() => sandbox.close());

    it('every trace of seed 1 runs and prints its ground truth; the filter keeps it', async () => {
      const ps = generateProblems({ seed: 1, count: 200 });
      const verdicts = await Promise.all(ps.map((p) => filterTrace(p.trace, p, sandbox)));
      const failed = verdicts.map((v, i) => (v.ok ? null : `${ps[i]!.id}: ${v.reason} ${v.detail}`)).filter(Boolean);
      assert.deepEqual(failed, []);
    });

    it('the filter rejects each corruption with its reason', async () => {
      const expected: Record<(typeof CORRUPTIONS)[number], RejectionReason[]> = {
        'wrong-arithmetic': ['wrong-printed-answer', 'code-fails'],
        'answer-disagrees': ['answer-disagrees'],
        'missing-section': ['not-strict'],
        'plain-answer': ['not-strict'],
      };
      const rng = new Rng(9);
      const ps = generateProblems({ seed: 4, count: 24, families: FAMILY_NAMES.filter((f) => f !== 'countdown') });
      for (const p of ps) {
        for (const kind of CORRUPTIONS) {
          const v = await filterTrace(corruptTrace(p, kind, rng), p, sandbox);
          assert.ok(!v.ok && expected[kind].includes(v.reason!), `${p.id} ${kind}: ${v.reason ?? 'kept'}`);
        }
      }
      const logicBroken = ps[0]!.trace.replace('DEFINE:', 'define:');
      assert.equal((await filterTrace(logicBroken, ps[0]!, sandbox)).reason, 'logic-invalid');
      const crashes = ps[0]!.trace.replace(/print\(/, 'print(1/0, ');
      assert.equal((await filterTrace(crashes, ps[0]!, sandbox)).reason, 'code-fails');
    });
  });
});
