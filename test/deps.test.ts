// The module layering of src/ (docs/ARCHITECTURE.md, "Layers"), drawn from the imports by scripts/deps.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backArrows, check, circles, importEdges, MAX_BACK_ARROWS } from '../scripts/deps.js';

test('src/ imports run down the layers: no back arrow, no circle, the engine below the model', () => {
  const edges = importEdges();
  assert.ok(edges.length > 300, `only ${edges.length} imports found: the import scanner is broken`);
  const { problems, back } = check(edges);
  assert.deepEqual(problems, []);
  assert.ok(back.length <= MAX_BACK_ARROWS);
});

test('the checker catches a back arrow, a circle and an engine file reaching into training', () => {
  const edges = [
    { from: 'engine/ops.ts', to: 'train/loop.ts', line: 3 },
    { from: 'model/a.ts', to: 'model/b.ts', line: 1 },
    { from: 'model/b.ts', to: 'model/a.ts', line: 1 },
    { from: 'trace/x.ts', to: 'eval/y.ts', line: 7 },
  ];
  assert.equal(backArrows(edges).length, 2);
  assert.deepEqual(circles(edges), [['model/a.ts', 'model/b.ts']]);
  const { problems } = check(edges);
  assert.ok(problems.some((p) => /2 imports run back up/.test(p) && p.includes('src/trace/x.ts:7 -> src/eval/y.ts')));
  assert.ok(problems.some((p) => p === 'import circle: src/model/a.ts <-> src/model/b.ts'));
  assert.ok(problems.some((p) => p.startsWith('src/engine/ops.ts:3: the engine imports src/train/loop.ts')));
});
