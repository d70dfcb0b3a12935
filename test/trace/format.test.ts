// Format verdicts (present, strict, lenient, logicValid), parsing of messy output, rendering, answers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  answerNumber,
  answersMatch,
  checkStrict,
  extractAnswer,
  extractPython,
  isLenient,
  isLogicValid,
  isStrict,
  parseNumber,
  parseTrace,
  present,
  renderTrace,
  summarizeVerdicts,
  tracePartsOf,
  TraceRenderError,
  validateFormat,
} from '../../src/trace/index.js';

const figure1 = readFileSync(new URL('../fixtures/trace/figure1.txt', import.meta.url), 'utf8');
const parts = { cot: 'Think.', logic: 'GIVEN: x = 2\nIMPLIES: y = x * 3', code: 'y = 2 * 3\nprint(y)', answer: '6' };

test('present(tag): a matched pair, tag names compared case-insensitively', () => {
  assert.equal(present('a <cot>x</cot> b', 'cot'), true);
  assert.equal(present('<COT>x</Cot>', 'cot'), true);
  assert.equal(present('<cot>x', 'cot'), false, 'unclosed');
  assert.equal(present('</cot> x <cot>', 'cot'), false, 'close before open');
  assert.equal(present('<cot>x</logic>', 'cot'), false);
  assert.equal(present('<code>print("<answer>")</code></answer>', 'answer'), true, 'an opening tag anywhere before a closing one');
});

test('strict: Figure 1 of the paper is strict, with or without one end-of-turn marker', () => {
  assert.equal(isStrict(figure1), true, checkStrict(figure1).reason);
  assert.equal(isStrict(`\n  ${figure1}<|im_end|>\n`), true);
  assert.equal(isStrict(`${figure1}<|endoftext|>`), true);
  assert.equal(isStrict(figure1.replace(/\n/g, '\r\n')), true, 'CRLF is whitespace');
  assert.equal(isStrict(`${figure1}<|im_end|><|im_end|>`), false, 'only one marker is removed');
});

test('strict: each violation is rejected with a reason', () => {
  const cases: [string, string, RegExp][] = [
    ['upper-case tag', figure1.replace('<cot>', '<COT>'), /<COT>/],
    ['text before', `Sure!\n${figure1}`, /text before <cot>/],
    ['text between', figure1.replace('</cot>', '</cot>\nNow the logic:'), /text between <\/cot> and <logic>/],
    ['text after', `${figure1}\nHope this helps.`, /text after <\/answer>/],
    ['wrong order', renderTrace(parts).replace(/<logic>[\s\S]*<\/logic>/, '').replace('<cot>', '<logic>GIVEN: a = 1</logic><cot>'), /expected <cot>/],
    ['empty part', figure1.replace(/<answer>[\s\S]*<\/answer>/, '<answer>  \n </answer>'), /<answer> is empty/],
    ['tag inside code', figure1.replace('print(f"Area = {area}")', 'print("<answer>")'), /<code> contains the section tag <answer>/],
    ['repeated section', `${figure1}\n<answer>again</answer>`, /extra section tag <answer>/],
    ['missing section', figure1.replace(/<logic>[\s\S]*<\/logic>/, ''), /expected <logic>/],
    ['unclosed', figure1.replace('</answer>', ''), /missing <\/answer>/],
  ];
  for (const [name, text, reason] of cases) {
    const c = checkStrict(text);
    assert.equal(c.ok, false, name);
    assert.match(c.reason!, reason, name);
  }
});

test('lenient: all four tags present, any order, any text around', () => {
  assert.equal(isLenient(figure1), true);
  assert.equal(isLenient('Sure. <ANSWER>6</ANSWER> <code>x</code> then <Logic>GIVEN: a</Logic> and <cot>c</cot> bye'), true);
  assert.equal(isLenient('<cot>c</cot><logic>l</logic><code>x</code><answer>6'), false, 'unclosed answer');
  assert.equal(isLenient('<cot>c</cot><logic>l</logic><code>x</code>'), false, 'missing answer');
});

test('logicValid: every non-empty line is KEYWORD: body', () => {
  assert.equal(isLogicValid(figure1), true);
  assert.equal(isLogicValid('<logic>\r\n  DEFINE: a = 1\r\n\r\n  IMPLIES: b\r\n</logic>'), true, 'CRLF, indentation and blank lines');
  assert.equal(isLogicValid('<logic>define: a = 1</logic>'), false, 'keyword must be upper case');
  assert.equal(isLogicValid('<logic>GIVEN:   </logic>'), false, 'empty body');
  assert.equal(isLogicValid('<logic>GIVEN: a\nso b follows</logic>'), false, 'free text line');
  assert.equal(isLogicValid('<logic>ASSUME: a</logic>'), false, 'unknown keyword');
  assert.equal(isLogicValid('<logic>\n \n</logic>'), false, 'no non-empty line');
  assert.equal(isLogicValid('<cot>x</cot>'), false, 'no logic section');
  assert.equal(isLogicValid('<LOGIC>GIVEN: a</LOGIC>'), true, 'the section may use upper-case tags');
});

test('messy output: repeated, nested, unclosed and upper-case tags get verdicts and reasons', () => {
  const repeated = validateFormat(`${figure1}\n${figure1}`);
  assert.equal(repeated.lenient, true);
  assert.equal(repeated.strict, false);
  assert.ok(repeated.errors.some((e) => /<cot> appears 2 times/.test(e)));

  // The unclosed <cot> is skipped, so the sections after it are still found.
  const unclosed = parseTrace('<cot>thinking... <logic>GIVEN: a</logic><code>print(1)</code><answer>1</answer>');
  assert.equal(unclosed.unclosed[0]!.name, 'cot');
  assert.equal(unclosed.sections.answer!.content, '1');

  // Tags printed by the code belong to the code, not to a new section.
  const nested = parseTrace('<code>print("<answer>no</answer>")</code>\n<answer>yes</answer>');
  assert.equal(nested.sections.code!.nestedTags, 2);
  assert.equal(extractAnswer('<code>print("<answer>no</answer>")</code>\n<answer>yes</answer>'), 'yes');

  const v = validateFormat('<Cot>a</COT><LOGIC>GIVEN: x</LOGIC><code>1</code><answer>2</answer>');
  assert.deepEqual([v.strict, v.lenient, v.logicValid], [false, true, true]);

  for (const bad of [null, 42, { response: 'x' }, ['a']]) {
    const r = validateFormat(bad);
    assert.equal(r.strict, false);
    assert.match(r.errors[0]!, /not a string/);
  }
});

test('messy output: 1 MB outputs and tag floods parse without error', () => {
  const big = `<cot>${'word '.repeat(200_000)}</cot>${'<answer>'.repeat(30_000)}${'</code>'.repeat(30_000)}<logic>GIVEN: a</logic>`;
  assert.ok(big.length > 1_000_000);
  const v = validateFormat(big);
  assert.deepEqual([v.strict, v.lenient, v.logicValid], [false, false, true]);
  assert.deepEqual(v.tags, { cot: true, logic: true, code: false, answer: false });
  const p = parseTrace(big);
  assert.equal(p.unclosed.length, 30_000);
  assert.equal(p.strayCloses.length, 30_000);
});

test('renderTrace lays out Figure 1 and round-trips through tracePartsOf', () => {
  const parsed = tracePartsOf(figure1)!;
  assert.equal(renderTrace(parsed), figure1.trim());
  const text = renderTrace(parts);
  assert.equal(isStrict(text), true);
  assert.deepEqual(tracePartsOf(text), { ...parts, code: 'y = 2 * 3\nprint(y)\n' });
  assert.equal(renderTrace({ ...parts, code: '```py\ny = 6\n```' }).includes('```python\ny = 6\n```'), true);
  assert.throws(() => renderTrace({ ...parts, answer: ' ' }), TraceRenderError);
  assert.throws(() => renderTrace({ ...parts, code: 'print("</code>")' }), /contains the section tag <\/code>/);
});

test('extractPython strips ```python, ```py and bare fences, CRLF and common indentation', () => {
  assert.equal(extractPython('\n```python\nx = 1\nprint(x)\n```\n'), 'x = 1\nprint(x)\n');
  assert.equal(extractPython('```py\r\nx = 1\r\n```'), 'x = 1\n');
  assert.equal(extractPython('```\nx = 1\n```'), 'x = 1\n');
  assert.equal(extractPython('    x = 1\n    if x:\n        print(x)'), 'x = 1\nif x:\n    print(x)\n');
  assert.equal(extractPython('```python\nx = 1'), 'x = 1\n', 'an unclosed fence keeps the code');
  assert.equal(extractPython('s = "```"\nprint(s)'), 's = "```"\nprint(s)\n', 'no fence, nothing removed');
});

test('answer helpers: extract, normalise numbers, compare with a tolerance', () => {
  assert.equal(extractAnswer(figure1)!.startsWith('The area of a triangle'), true);
  assert.equal(extractAnswer('<cot>x</cot>'), null);
  for (const [s, n] of [['30', 30], ['30.0', 30], ['30 square units', 30], ['$1,200.50', 1200.5], ['-$5', -5], ['3/4', 0.75], ['12.5%', 12.5], ['1e3', 1000], ['7 cm^2', 7]] as const) {
    assert.equal(parseNumber(s), n, s);
  }
  for (const s of ['abc', '10 and 20', '1,2', '', '--5']) assert.equal(parseNumber(s), null, s);
  assert.equal(answerNumber(extractAnswer(figure1)!), 30, 'the stated value, not the base or the divisor');
  assert.equal(answerNumber('The final answer is \\boxed{42}.'), 42);
  assert.equal(answerNumber('Steps...\n#### 1,234'), 1234);
  assert.equal(answerNumber('First 3 then 4 so 7'), 7);
  assert.equal(answersMatch(extractAnswer(figure1)!, 30), true);
  assert.equal(answersMatch('30.00001', '30'), true);
  assert.equal(answersMatch('31', 30), false);
  assert.equal(answersMatch('0.333', 1 / 3, { rel: 2e-3 }), true);
  assert.equal(answersMatch('0.333', 1 / 3), false);
  assert.equal(answersMatch('Yes, because it is even.', 'yes'), true);
  assert.equal(answersMatch('Yesterday', 'yes'), false);
  assert.equal(answersMatch('no numbers here', 5), false);
});

test('summarizeVerdicts gives rates, with codeRuns only when executed', () => {
  const a = validateFormat(figure1);
  const b = validateFormat('<cot>x</cot> only');
  const s = summarizeVerdicts([{ ...a, codeCompiles: true, codeRuns: true }, { ...b, codeCompiles: false, codeRuns: null }], { executed: true });
  assert.deepEqual(s, { n: 2, strict: 0.5, lenient: 0.5, logicValid: 0.5, codeCompiles: 0.5, codeRuns: 0.5, tags: { cot: 1, logic: 0.5, code: 0.5, answer: 0.5 } });
  assert.equal('codeRuns' in summarizeVerdicts([a], { executed: false }), false);
  assert.equal(summarizeVerdicts([], { executed: false }).strict, 0);
});
