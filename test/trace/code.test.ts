// codeCompiles and codeRuns, through the sandbox; one single-worker pool for the file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { createSandboxPool, type SandboxPool } from '../../src/sandbox/index.js';
import { checkCode, validateTrace } from '../../src/trace/index.js';

const figure1 = readFileSync(new URL('../fixtures/trace/figure1.txt', import.meta.url), 'utf8');
const withCode = (code: string): string => figure1.replace(/<code>[\s\S]*<\/code>/, `<code>\n${code}\n</code>`);
let pool: SandboxPool;

before(async () => {
  pool = createSandboxPool({ size: 1, timeoutMs: 30_000 });
  await pool.warm();
});
after(async () => {
  await pool.close();
});

test('Figure 1 is strict, logicValid, compiles and runs with stdout "Area = 30.0"', async () => {
  const v = await validateTrace(figure1, { sandbox: pool, execute: true });
  assert.deepEqual([v.strict, v.lenient, v.logicValid, v.codeCompiles, v.codeRuns], [true, true, true, true, true]);
  assert.equal(v.stdout, 'Area = 30.0\n');
  assert.deepEqual(v.errors, []);
});

test('codeCompiles: ```python, ```py, bare and no fence compile; syntax errors and foreign fences do not', async () => {
  for (const code of ['```python\nx = 1\n```', '```py\nx = 1\n```', '```\nx = 1\n```', 'x = 1', '  x = 1\n  print(x)']) {
    const c = await checkCode(withCode(code), pool);
    assert.equal(c.codeCompiles, true, code);
    assert.equal(c.codeRuns, null, 'not executed');
  }
  const bad = await checkCode(withCode('```python\ndef f(:\n    pass\n```'), pool);
  assert.equal(bad.codeCompiles, false);
  assert.match(bad.errors[0]!, /does not compile: SyntaxError.*line 1/);
  const js = await checkCode(withCode('```javascript\nconsole.log(1)\n```'), pool);
  assert.equal(js.codeCompiles, false);
  assert.match(js.errors[0]!, /fenced as ```javascript/);
  const none = await checkCode('<cot>a</cot><answer>b</answer>', pool, { execute: true });
  assert.deepEqual([none.codeCompiles, none.codeRuns], [false, false]);
  const empty = await checkCode(withCode('```python\n```'), pool);
  assert.equal(empty.codeCompiles, false);
});

test('codeRuns: to the end or sys.exit(0) within the limit; exceptions, exit codes and timeouts fail', async () => {
  const run = async (code: string, timeoutMs?: number): Promise<boolean | null> =>
    (await checkCode(withCode(code), pool, { execute: true, timeoutMs })).codeRuns;
  assert.equal(await run('print(6 * 7)'), true);
  assert.equal(await run('import sys\nprint(1)\nsys.exit(0)'), true);
  assert.equal(await run('raise ValueError("no")'), false);
  assert.equal(await run('import sys\nsys.exit(2)'), false);
  assert.equal(await run('while True:\n    pass', 1500), false);
  assert.equal(await run('x = (1'), false, 'does not compile, so does not run');
  const v = await validateTrace(withCode('print(1/0)'), { sandbox: pool, execute: true });
  assert.equal(v.codeCompiles, true);
  assert.equal(v.codeRuns, false);
  assert.ok(v.errors.some((e) => /does not run: error \(ZeroDivisionError/.test(e)));
});

test('a <code> section that prints section tags still runs; the trace is then not strict', async () => {
  const v = await validateTrace(withCode('print("<answer>30</answer>")'), { sandbox: pool, execute: true });
  assert.equal(v.strict, false);
  assert.equal(v.codeRuns, true);
  assert.equal(v.stdout, '<answer>30</answer>\n');
});
