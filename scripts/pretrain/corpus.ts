// The embedded model's pretraining corpus: what a base model like Qwen2.5 has met before any of our
// fine-tuning. Word problems of every family, solved in plain words and, separately, as short Python
// programs that take their quantities from the text; logic statements; quantity extraction; plain
// Python exercises; XML-style tags; the instruction set; all as ChatML conversations, most of them under
// Qwen's default system prompt. Never the unified format (the four trace sections together) and never
// an evaluation prompt of any preset: `heldOutPrompts` lists those, `assertClean` checks both.
import { presetNames } from '../../src/config/presets.js';
import { resolveConfig } from '../../src/config/index.js';
import { generateInstructions } from '../../src/data/instructions.js';
import type { Message } from '../../src/data/types.js';
import { FAMILIES, FAMILY_NAMES } from '../../src/synth/families/index.js';
import { buildProblem, generateProblems } from '../../src/synth/offline.js';
import type { Problem } from '../../src/synth/types.js';
import { validateFormat } from '../../src/trace/validate.js';
import { sha256 } from '../../src/util/hash.js';
import { Rng } from '../../src/util/rng.js';
import { programExercise } from './programs.js';

/** Qwen2.5's default system prompt (its chat template inserts it when a conversation has none). */
export const QWEN_SYSTEM_PROMPT = 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.';

export interface CorpusRow {
  messages: Message[];
  id: string;
}

export interface CorpusOptions {
  seed: number;
  /** Problems per family. */
  problemsPerFamily: number;
  instructions: number;
  programs: number;
}

/** Held-out prompts are the first of each 'eval' stream; this many per family covers any preset's evalPerFamily. */
export const HELD_OUT_PER_FAMILY = 200;

/** Every evaluation prompt any preset can draw (problems per family and instructions), for every preset seed. */
export function heldOutPrompts(): Set<string> {
  const seeds = new Set(presetNames.map((name) => resolveConfig({ preset: name }).seed));
  const out = new Set<string>();
  for (const seed of seeds) {
    for (const f of FAMILY_NAMES) for (const p of generateProblems({ seed, count: HELD_OUT_PER_FAMILY, families: [f], stream: 'eval' })) out.add(p.question);
    for (const i of generateInstructions({ seed, count: HELD_OUT_PER_FAMILY, stream: 'eval' })) out.add(i.prompt);
  }
  return out;
}

/** Distinct problems of one family, stopping early when its space runs dry (small families repeat quickly). */
function familyProblems(family: (typeof FAMILIES)[number], rng: Rng, count: number, exclude: ReadonlySet<string>): Problem[] {
  const seen = new Set<string>();
  const out: Problem[] = [];
  for (let misses = 0; out.length < count && misses < 2000; ) {
    const spec = family.generate(rng);
    if (exclude.has(spec.question) || seen.has(spec.question)) {
      misses++;
      continue;
    }
    seen.add(spec.question);
    out.push(buildProblem(family.name, spec));
  }
  return out;
}

const fence = (code: string): string => '```python\n' + code + '\n```';

/** Tag names a base model has met, the trace's among them; used one or a few at a time, never all four in order. */
const TAGS = ['b', 'i', 'note', 'item', 'title', 'step', 'name', 'quote', 'cot', 'logic', 'code', 'answer'];

/** The ways one problem appears: each a (prompt, response) pair built from the problem's pieces. */
const problemViews: Array<[weight: number, make: (p: Problem, rng: Rng) => [string, string]]> = [
  [3, (p, rng) => [rng.pick([`Write a Python program that prints the answer to this problem.\n${p.question}`, `${p.question}\nSolve it with a short Python program.`, `Solve with Python code:\n${p.question}`]), fence(p.code.join('\n'))]],
  [2, (p) => [p.question, p.cotResponse]],
  [1.5, (p, rng) => [rng.pick([`State this problem formally, one DEFINE, GIVEN, REQUIRE or IMPLIES line per fact.\n${p.question}`, `${p.question}\nWrite the facts as logic statements.`]), p.logic.join('\n')]],
  [1, (p, rng) => [rng.pick([`List the quantities in this problem as one Python assignment.\n${p.question}`, `${p.question}\nWhat are the given values?`]), rng.next() < 0.5 ? p.code.find((l) => l.includes(' = ')) ?? p.code[0]! : p.logic[0]!]],
  [1, (p, rng) => [rng.pick([`${p.question}\nAnswer briefly.`, `${p.question}\nJust the answer, please.`]), p.direct]],
  [1, (p, rng) => [rng.pick([`${p.question}\nFirst say how you will solve it, then give the Python code.`, `Plan, then code:\n${p.question}`]), `${p.plan}\n\n${fence(p.code.join('\n'))}`]],
  [0.5, (p, rng) => {
    const tag = rng.pick(TAGS);
    return [`Wrap this text in <${tag}> tags.\n${p.plan}`, `<${tag}>\n${p.plan}\n</${tag}>`];
  }],
  [1, (p, rng) => {
    const pieces = [p.plan, p.logic.join('\n'), fence(p.code.join('\n')), p.direct];
    const chosen = rng.shuffle(pieces).slice(0, rng.int(2, 3));
    const tags = chosen.map(() => rng.pick(TAGS));
    const body = chosen.map((piece, k) => `<${tags[k]}>\n${piece}\n</${tags[k]}>`).join('\n\n');
    return [`Write these notes as a tagged document, in this order: ${tags.join(', ')}.\n${p.question}`, body];
  }],
];
const totalWeight = problemViews.reduce((s, [w]) => s + w, 0);
function pickView(rng: Rng): (typeof problemViews)[number][1] {
  let r = rng.next() * totalWeight;
  for (const [w, make] of problemViews) if ((r -= w) < 0) return make;
  return problemViews[0]![1];
}

/** A conversation; most carry Qwen's default system prompt, a few another or none, as in the wild. */
function conversation(rng: Rng, user: string, assistant: string): Message[] {
  const r = rng.next();
  const system = r < 0.75 ? QWEN_SYSTEM_PROMPT : r < 0.85 ? 'You are a helpful assistant.' : null;
  return [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user', content: user }, { role: 'assistant', content: assistant }];
}

export interface Corpus {
  rows: CorpusRow[];
  problems: Problem[];
  counts: Record<string, number>;
}

/** Builds the corpus, shuffled; same options, same rows. */
export function buildCorpus(opts: CorpusOptions, heldOut: ReadonlySet<string> = heldOutPrompts()): Corpus {
  const root = new Rng(opts.seed);
  const problems = FAMILIES.flatMap((f) => familyProblems(f, root.fork(`pretrain:${f.name}`), opts.problemsPerFamily, heldOut));
  const viewRng = root.fork('views');
  const chatRng = root.fork('chat');
  const rows: Array<Omit<CorpusRow, 'id'>> = [];
  const counts: Record<string, number> = {};
  for (const f of FAMILY_NAMES) counts[`problems:${f}`] = problems.filter((p) => p.family === f).length;
  for (const p of problems) {
    // Two views of every problem, one of them its program most of the time.
    const makes = [viewRng.next() < 0.6 ? problemViews[0]![1] : pickView(viewRng), pickView(viewRng)];
    for (const make of makes) {
      const [user, assistant] = make(p, viewRng);
      rows.push({ messages: conversation(chatRng, user, assistant) });
    }
  }
  counts.problemRows = rows.length;
  const instructions = generateInstructions({ seed: opts.seed, count: opts.instructions, exclude: heldOut, stream: 'pretrain' });
  for (const i of instructions) rows.push({ messages: conversation(chatRng, i.prompt, i.response) });
  counts.instructions = instructions.length;
  const progRng = root.fork('programs');
  for (let i = 0; i < opts.programs; i++) {
    const ex = programExercise(progRng);
    rows.push({ messages: conversation(chatRng, ex.prompt, fence(ex.code)) });
  }
  counts.programs = opts.programs;
  const shuffled = root.fork('order').shuffle(rows).map((r, i) => ({ ...r, id: `pretrain-${i}` }));
  assertClean(shuffled, heldOut);
  counts.rows = shuffled.length;
  return { rows: shuffled, problems, counts };
}

/** Throws when a row holds the unified format or any held-out evaluation prompt (compared by hash). */
export function assertClean(rows: readonly CorpusRow[], heldOut: ReadonlySet<string>): void {
  const heldHashes = new Set([...heldOut].map((q) => sha256(q)));
  for (const r of rows) {
    for (const m of r.messages) {
      if (m.role === 'assistant' && validateFormat(m.content).lenient) throw new Error(`pretraining row ${r.id} holds the unified format (all four sections)`);
      if (m.role !== 'user') continue;
      if (heldHashes.has(sha256(m.content))) throw new Error(`pretraining row ${r.id} is an evaluation prompt`);
      // Prompts that wrap a problem hold it as one line.
      for (const line of m.content.split('\n')) if (heldHashes.has(sha256(line))) throw new Error(`pretraining row ${r.id} contains an evaluation prompt`);
    }
  }
}
