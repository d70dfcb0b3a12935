// Compatibility with the data stage: the offline teacher's own responses to held-out items score as
// correct under every metric, so a model that imitates them perfectly would too.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { evalItemOf } from '../../src/data/mix.js';
import { generateInstructions } from '../../src/data/instructions.js';
import { summarize } from '../../src/eval/metrics.js';
import { scoreOutputs, type Output } from '../../src/eval/results.js';
import type { EvalItem } from '../../src/eval/types.js';
import { createSandboxPool } from '../../src/sandbox/pool.js';
import { FAMILY_NAMES } from '../../src/synth/families/index.js';
import { generateProblems } from '../../src/synth/offline.js';

const sandbox = createSandboxPool({ size: 1, timeoutMs: 5000 });
after(() => sandbox.close());

test("the offline teacher's traces and answers to eval items are scored correct", async () => {
  const problems = generateProblems({ seed: 11, count: 2 * FAMILY_NAMES.length, stream: 'eval' });
  const items = problems.map((p) => evalItemOf(p, p.family === 'countdown') as EvalItem);
  const instr = generateInstructions({ seed: 11, count: 6, stream: 'eval' });
  const instrItems: EvalItem[] = instr.map((it) => ({ id: it.id, prompt: [{ role: 'user', content: it.prompt }], family: 'instruction', ood: false, kind: 'instruction', check: it.check }));

  const traces: Output[] = problems.map((p, i) => ({ item: items[i]!, response: p.trace }));
  const rows = await scoreOutputs([...traces, ...instr.map((it, i) => ({ item: instrItems[i]!, response: it.response }))], { sandbox, timeoutMs: 5000 });
  const bad = rows.filter((r) => r.kind === 'trace' && !(r.strict && r.logicValid && r.codeRuns && r.programCorrect && r.statedCorrect && r.agree));
  assert.deepEqual(bad.map((r) => ({ id: r.id, program: r.programAnswer, stated: r.statedAnswer, errors: r.errors })), []);
  const s = summarize(rows, 50, 1);
  for (const k of ['strict', 'logicValid', 'codeRuns', 'programAccuracy', 'statedAccuracy', 'agreement', 'finalAccuracy']) assert.equal(s.all[k]!.mean, 1, k);
  // TinyZero's compute_score reads only the last line: a trace's answer sits on lines of its own, so it scores 0.
  assert.deepEqual([s.ood.countdownAccuracy!.mean, s.ood.countdownAccuracy!.n], [0, 2]);
  assert.equal(s.ood.countdownScore!.mean, 0);
  assert.equal(s.families.countdown!.statedAccuracy!.mean, 1);
  assert.deepEqual([s.all.instructionPass!.mean, s.all.instructionPass!.n], [1, 6]);

  // Plain direct answers are correct by finalAccuracy (no <answer> section, whole response), not by format;
  // Countdown needs an answer, as TinyZero.
  const direct = await scoreOutputs(problems.map((p, i) => ({ item: items[i]!, response: p.direct })));
  assert.deepEqual(direct.filter((r) => r.finalCorrect !== (r.family !== 'countdown')).map((r) => [r.id, r.response]), []);
  assert.ok(direct.every((r) => !r.lenient && r.statedCorrect === false));
});
