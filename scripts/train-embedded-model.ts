#!/usr/bin/env -S npx tsx
// Builds the embedded default model, data/tiny-qwen2/: a tiny Qwen2-architecture model whose vocabulary
// is the slice of Qwen ids our corpus uses, trained from random initialisation by our own trainer.
//
//   npx tsx scripts/train-embedded-model.ts            # the committed model (about 7 minutes on 2 cores)
//   npx tsx scripts/train-embedded-model.ts --help
//
// It plays the role of the paper's base model (Qwen2.5-0.5B): it has learnt to answer questions in plain
// words, to write short Python programs, logic statements and XML-style tags, and to follow simple
// instructions, but it has never seen the unified trace format (<cot>, <logic>, <code>, <answer> in that
// order, every time): teaching that is the SFT stage's job. Held-out evaluation prompts of the presets
// (seed 42) are excluded, so the reference model is not contaminated.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveConfig } from '../src/config/index.js';
import { generateInstructions } from '../src/data/instructions.js';
import type { Message } from '../src/data/types.js';
import { makeConfig, parameterCount } from '../src/model/config.js';
import { writeRandomCheckpoint } from '../src/model/load.js';
import { buildPrunedVocab, loadTokenizer, saveTokenizerFiles } from '../src/model/tokenizer.js';
import { FAMILY_NAMES } from '../src/synth/families/index.js';
import { validateFormat } from '../src/trace/validate.js';
import { generateProblems } from '../src/synth/offline.js';
import { runSft } from '../src/train/sft.js';
import { dataDir } from '../src/util/paths.js';
import { Rng } from '../src/util/rng.js';

const { values: args } = parseArgs({
  options: {
    help: { type: 'boolean' },
    problems: { type: 'string', default: '1200' },
    instructions: { type: 'string', default: '1200' },
    epochs: { type: 'string', default: '3' },
    lr: { type: 'string', default: '3e-3' },
    hidden: { type: 'string', default: '96' },
    layers: { type: 'string', default: '3' },
    heads: { type: 'string', default: '4' },
    'kv-heads': { type: 'string', default: '2' },
    intermediate: { type: 'string', default: '256' },
    seed: { type: 'string', default: '7' },
    work: { type: 'string', default: 'runs/_embedded-model' },
    out: { type: 'string', default: join(dataDir, 'tiny-qwen2') },
  },
});

if (args.help) {
  console.log(`Builds data/tiny-qwen2 (the embedded default model) from random init on the project's own corpus.
Options (defaults in brackets):
  --problems N       problems drawn from the synthesis families [1200]
  --instructions N   embedded instruction examples [1200]
  --epochs E         passes over the corpus [3]     --lr X      peak learning rate [3e-3]
  --hidden H --layers L --heads A --kv-heads K --intermediate I   model shape [96, 3, 4, 2, 256]
  --seed S           [7]    --work DIR  scratch run folder [runs/_embedded-model]    --out DIR [data/tiny-qwen2]`);
  process.exit(0);
}

const int = (name: keyof typeof args) => Number.parseInt(String(args[name]), 10);
const seed = int('seed');

// Held-out prompts of the presets' evaluation sets (the mixing stage draws them from stream 'eval').
const preset = resolveConfig({ preset: 'paper' });
const heldOutProblems = new Set(
  FAMILY_NAMES.flatMap((f) => generateProblems({ seed: preset.seed, count: 50, families: [f], stream: 'eval' }).map((p) => p.question)),
);
const heldOutInstructions = new Set(generateInstructions({ seed: preset.seed, count: 50, stream: 'eval' }).map((i) => i.prompt));

// The corpus: plain-word solutions, direct answers, Python programs and instruction following.
const problems = generateProblems({ seed, count: int('problems'), exclude: heldOutProblems, stream: 'pretrain' });
const instructions = generateInstructions({ seed, count: int('instructions'), exclude: heldOutInstructions, stream: 'pretrain' });
const chat = (user: string, assistant: string): { messages: Message[]; id: string } => ({
  messages: [
    { role: 'user', content: user },
    { role: 'assistant', content: assistant },
  ],
  id: '',
});
// Like any real base model it has met Markdown code fences, logic notation and XML-style tags (the tag
// names include the trace's among others), each on its own: never the four sections together.
const TAGS = ['b', 'i', 'note', 'item', 'title', 'step', 'name', 'quote', 'cot', 'logic', 'code', 'answer'];
const tagRng = new Rng(seed).fork('tags');
/** Two to four pieces of a problem's material, each in a randomly named tag, blank lines between. */
function taggedDocument(p: (typeof problems)[number]): { messages: Message[]; id: string } {
  const pieces = [p.plan, p.logic.join('\n'), '```python\n' + p.code.join('\n') + '\n```', p.direct];
  const chosen = tagRng.shuffle(pieces).slice(0, tagRng.int(2, 4));
  const tags = chosen.map(() => tagRng.pick(TAGS));
  const body = chosen.map((piece, k) => `<${tags[k]}>\n${piece}\n</${tags[k]}>`).join('\n\n');
  return chat(`Write these notes as a tagged document, in this order: ${tags.join(', ')}.\n${p.question}`, body);
}
const rows = [
  ...problems.flatMap((p) => {
    const tag = tagRng.pick(TAGS);
    return [
      chat(p.question, p.cotResponse),
      chat(`${p.question}\nAnswer briefly.`, p.direct),
      chat(`Write a Python program that prints the answer to this problem.\n${p.question}`, '```python\n' + p.code.join('\n') + '\n```'),
      chat(`State this problem formally, one DEFINE, GIVEN, REQUIRE or IMPLIES line per fact.\n${p.question}`, p.logic.join('\n')),
      chat(`Wrap this text in <${tag}> tags.\n${p.plan}`, `<${tag}>\n${p.plan}\n</${tag}>`),
      taggedDocument(p),
    ];
  }),
  ...instructions.map((i) => chat(i.prompt, i.response)),
].map((r, i) => ({ ...r, id: `pretrain-${i}` }));
// The claim above, checked: no example holds all four trace sections.
const leaked = rows.filter((r) => validateFormat(r.messages[1]!.content).lenient);
if (leaked.length) throw new Error(`${leaked.length} pretraining examples hold the unified format (first: ${leaked[0]!.id})`);
const ordered = new Rng(seed).shuffle(rows);

// The vocabulary covers the corpus and every trace the pipeline will train on (format tokens included),
// so no token the SFT stage needs is missing; ids the corpus never uses keep their random init.
const base = loadTokenizer();
const vocabTexts = [
  ...rows.flatMap((r) => r.messages.map((m) => m.content)),
  ...generateProblems({ seed: preset.seed, count: 2000, stream: 'train' }).map((p) => p.trace),
  ...problems.map((p) => p.trace),
  base.applyChatTemplate([{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content: 'x' }], { addGenerationPrompt: true }),
];
const vocab = buildPrunedVocab(vocabTexts, base);
const config = makeConfig({
  vocabSize: vocab.length,
  hiddenSize: int('hidden'),
  intermediateSize: int('intermediate'),
  numHiddenLayers: int('layers'),
  numAttentionHeads: int('heads'),
  numKeyValueHeads: int('kv-heads'),
  ropeTheta: 1_000_000,
  rmsNormEps: 1e-6,
  tieWordEmbeddings: true,
  maxPositionEmbeddings: 2048,
});
console.log(`corpus: ${rows.length} examples; vocabulary ${vocab.length} Qwen ids; ${parameterCount(config)} parameters`);

const work = args.work!;
rmSync(work, { recursive: true, force: true });
const initDir = join(work, 'init');
mkdirSync(initDir, { recursive: true });
writeRandomCheckpoint(initDir, config, new Rng(seed).fork('init'));
writeFileSync(join(initDir, 'vocab_map.json'), JSON.stringify(vocab) + '\n');
saveTokenizerFiles(loadTokenizer(initDir), initDir);

const trainConfig = resolveConfig({
  preset: 'demo',
  overrides: [
    {
      seed,
      model: { source: initDir },
      sft: {
        mode: 'full',
        epochs: int('epochs'),
        lr: Number(args.lr),
        warmupRatio: 0.02,
        weightDecay: 0.01,
        batchSize: 16,
        gradAccum: 1,
        maxPromptTokens: 128,
        maxResponseTokens: 256,
        checkpointEvery: 200,
      },
    },
  ],
});
const started = Date.now();
const result = await runSft(trainConfig, {
  data: ordered,
  out: join(work, 'train'),
  overwrite: true,
  onLog: (m) => console.log(m),
  onStep: (row, p) => {
    if (row.step % 25 === 0 || row.step === p.totalSteps)
      console.log(`step ${row.step}/${p.totalSteps} epoch ${row.epoch.toFixed(2)} loss ${row.loss.toFixed(4)} ${Math.round(row.tokensPerSecond)} tok/s eta ${Math.round(p.etaSeconds)} s`);
  },
});
if (!existsSync(result.result)) throw new Error(`training did not produce ${result.result}`);

const out = args.out!;
rmSync(out, { recursive: true, force: true });
cpSync(result.result, out, { recursive: true });
writeFileSync(
  join(out, 'README.md'),
  `# tiny-qwen2: the embedded default model

A ${parameterCount(config)}-parameter Qwen2-architecture model (hidden ${config.hiddenSize}, ${config.numHiddenLayers} layers,
${config.numAttentionHeads} heads / ${config.numKeyValueHeads} kv heads, intermediate ${config.intermediateSize}) with a pruned vocabulary of
${vocab.length} Qwen token ids (\`vocab_map.json\`: model id i is Qwen id map[i]). Trained from random initialisation by
\`scripts/train-embedded-model.ts\` (seed ${seed}, ${int('epochs')} epochs, full fine-tuning, lr ${args.lr}) on ${rows.length}
project-written examples: plain-word solutions, direct answers, fenced Python programs, DEFINE/GIVEN/REQUIRE/IMPLIES
statements and tag-wrapping exercises for the synthesis families, and the embedded instruction set. It has never seen
the unified trace format (the four sections together). Evaluation prompts of seed ${preset.seed} are excluded.
Training took ${Math.round((Date.now() - started) / 1000)} s; final loss ${result.lastRow?.loss.toFixed(4) ?? "n/a"}.

Rebuild: \`npx tsx scripts/train-embedded-model.ts\` (see --help).
`,
);
console.log(`wrote ${out} in ${Math.round((Date.now() - started) / 1000)} s`);
