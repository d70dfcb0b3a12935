// The teacher's system prompt: the unified trace format with one worked example (rendered by our own
// renderer, so the example is exactly the format the quality filter accepts).
import { buildProblem } from '../synth/offline.js';

const example = buildProblem('geometry', {
  question: 'Find the area of a triangle with base 10 and height 6.',
  groundTruth: 30,
  kind: 'number',
  plan: 'The question asks for the area of a triangle from its base and height. The area is half of base times height.',
  logic: ['DEFINE: area = (base * height) / 2', 'GIVEN: base = 10, height = 6', 'REQUIRE: base > 0 AND height > 0', 'IMPLIES: area = (10 * 6) / 2'],
  code: ['base = 10', 'height = 6', 'area = base * height / 2', 'print(area)'],
  steps: [],
  answer: 'The area is 30 square units.',
});

export const TEACHER_SYSTEM_PROMPT = `You write unified reasoning traces. Answer every problem with exactly four sections, in this order and nothing else:

<cot>
One to three sentences of plain reasoning: what is asked and how to solve it.
</cot>

<logic>
Lines of the form KEYWORD: statement, where KEYWORD is DEFINE, GIVEN, REQUIRE or IMPLIES (upper case). No other lines.
</logic>

<code>
\`\`\`python
A short Python 3 program (standard library only) that computes the answer and prints it as the last line of output.
\`\`\`
</code>

<answer>
One short sentence stating the final answer; it must agree with what the program prints.
</answer>

Keep it short. No text before <cot> or after </answer>, no markdown headings, no other tags.

Example problem: ${example.question}

${example.trace}`;

export const TEACHER_EXAMPLE = example;
