#!/usr/bin/env -S npx tsx
// Builds the embedded default model, data/tiny-qwen2/: a small Qwen2-architecture model whose vocabulary
// is the slice of Qwen ids our corpus uses, trained from random initialisation by our own trainer.
//
//   npx tsx scripts/train-embedded-model.ts                 # the committed model (see data/tiny-qwen2/README.md)
//   npx tsx scripts/train-embedded-model.ts --resume        # continue a killed run from its newest checkpoint
//   npx tsx scripts/train-embedded-model.ts --export-latest # write data/tiny-qwen2 from the newest checkpoint
//   npx tsx scripts/train-embedded-model.ts --help
//
// It plays the role of the paper's base model (Qwen2.5-0.5B): the corpus (scripts/pretrain/corpus.ts)
// teaches plain-word solutions, short Python programs that copy a problem's quantities, logic
// statements, tags and instruction following, but never the unified trace format (teaching that is the
// SFT stage's job), and never an evaluation prompt of any preset, so the reference model is not
// contaminated.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveConfig } from '../src/config/index.js';
import { makeConfig, parameterCount, readConfig as readModelConfig, type Qwen2Config as ModelConfig } from '../src/model/config.js';
import { writeRandomCheckpoint } from '../src/model/load.js';
import { buildPrunedVocab, loadTokenizer, saveTokenizerFiles } from '../src/model/tokenizer.js';
import { FAMILY_NAMES } from '../src/synth/families/index.js';
import { generateProblems } from '../src/synth/offline.js';
import { listCheckpoints } from '../src/train/checkpoint.js';
import { runSft } from '../src/train/sft.js';
import { dataDir } from '../src/util/paths.js';
import { sha256, stableStringify } from '../src/util/hash.js';
import { Rng } from '../src/util/rng.js';
import { buildCorpus, QWEN_SYSTEM_PROMPT } from './pretrain/corpus.js';

const { values: args } = parseArgs({
  options: {
    help: { type: 'boolean' },
    'problems-per-family': { type: 'string', default: '2100' },
    instructions: { type: 'string', default: '3000' },
    programs: { type: 'string', default: '5500' },
    epochs: { type: 'string', default: '0.75' },
    lr: { type: 'string', default: '2e-3' },
    hidden: { type: 'string', default: '128' },
    layers: { type: 'string', default: '4' },
    heads: { type: 'string', default: '4' },
    'kv-heads': { type: 'string', default: '2' },
    intermediate: { type: 'string', default: '512' },
    'checkpoint-every': { type: 'string', default: '250' },
    seed: { type: 'string', default: '7' },
    work: { type: 'string', default: 'runs/_embedded-model' },
    out: { type: 'string', default: join(dataDir, 'tiny-qwen2') },
    resume: { type: 'boolean' },
    'export-latest': { type: 'boolean' },
    'init-from': { type: 'string' },
  },
});

if (args.help) {
  console.log(`Builds data/tiny-qwen2 (the embedded default model) from random init on the project's own corpus.
Options (defaults in brackets):
  --problems-per-family N  problems drawn from each synthesis family [2100]
  --instructions N         embedded instruction examples [3000]     --programs N  plain Python exercises [5500]
  --epochs E               passes over the corpus [0.75]             --lr X        peak learning rate [2e-3]
  --hidden H --layers L --heads A --kv-heads K --intermediate I     model shape [128, 4, 4, 2, 512]
  --checkpoint-every S     optimizer steps between checkpoints [250]
  --seed S [7]   --work DIR  run folder [runs/_embedded-model]   --out DIR [data/tiny-qwen2]
  --resume                 continue from the newest checkpoint in --work (same options)
  --export-latest          write --out from the newest checkpoint (a run stopped early) and exit
  --init-from DIR          continue pretraining from a model folder built by this script (a later stage:
                           its vocabulary and shape are kept, the optimizer and schedule start afresh, and
                           DIR's pretrain.json is kept in the new one as the earlier stage)`);
  process.exit(0);
}

const int = (name: keyof typeof args) => Number.parseInt(String(args[name]), 10);
const seed = int('seed');
const work = args.work!;
const initDir = join(work, 'init');
const trainDir = join(work, 'train');
const started = Date.now();

const corpusOptions = { seed, problemsPerFamily: int('problems-per-family'), instructions: int('instructions'), programs: int('programs') };
const corpus = buildCorpus(corpusOptions);
const rows = corpus.rows;

const initFrom = args['init-from'];
const resuming = args.resume === true || args['export-latest'] === true;
if (!resuming) {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(initDir, { recursive: true });
  if (initFrom !== undefined) {
    // A later stage: the earlier model is copied first, so --out may be the very folder it came from.
    if (!existsSync(join(initFrom, 'vocab_map.json'))) throw new Error(`${initFrom}: not a model folder with a pruned vocabulary (vocab_map.json)`);
    cpSync(initFrom, initDir, { recursive: true });
  } else {
    const vocab = prunedVocabulary();
    writeRandomCheckpoint(initDir, shapeFor(vocab.length), new Rng(seed).fork('init'));
    writeFileSync(join(initDir, 'vocab_map.json'), JSON.stringify(vocab) + '\n');
    saveTokenizerFiles(loadTokenizer(initDir), initDir);
  }
} else if (!existsSync(join(initDir, 'config.json'))) {
  throw new Error(`${initDir}: no initial model to resume from; start without --resume`);
}
const config = readModelConfig(initDir);
const vocabSize = config.vocabSize;
const earlierStage = existsSync(join(initDir, 'pretrain.json')) ? (JSON.parse(readFileSync(join(initDir, 'pretrain.json'), 'utf8')) as Record<string, unknown>) : null;
console.log(`corpus: ${rows.length} examples ${JSON.stringify(corpus.counts)}; vocabulary ${vocabSize} Qwen ids; ${parameterCount(config)} parameters${earlierStage ? `; continuing from ${initFrom ?? initDir}` : ''}`);

/**
 * The vocabulary covers the corpus and every trace the pipeline will train on (format tokens included),
 * so no token the SFT stage needs is missing; ids the corpus never uses keep their random init.
 */
function prunedVocabulary(): number[] {
  const base = loadTokenizer();
  const preset = resolveConfig({ preset: 'paper' });
  return buildPrunedVocab(
    [
      ...rows.flatMap((r) => r.messages.map((m) => m.content)),
      ...generateProblems({ seed: preset.seed, count: 2000, stream: 'train' }).map((p) => p.trace),
      ...corpus.problems.map((p) => p.trace),
      base.applyChatTemplate([{ role: 'system', content: QWEN_SYSTEM_PROMPT }, { role: 'user', content: 'x' }], { addGenerationPrompt: true }),
    ],
    base,
  );
}

function shapeFor(vocabSize: number): ModelConfig {
  return makeConfig({
    vocabSize,
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
}

const trainConfig = resolveConfig({
  preset: 'demo',
  overrides: [
    {
      seed,
      model: { source: initDir },
      sft: {
        mode: 'full',
        epochs: Number(args.epochs),
        lr: Number(args.lr),
        warmupRatio: 0.02,
        weightDecay: 0.01,
        batchSize: 16,
        gradAccum: 1,
        maxPromptTokens: 160,
        maxResponseTokens: 256,
        checkpointEvery: int('checkpoint-every'),
      },
    },
  ],
});

let modelDir: string;
let summary: string;
if (args['export-latest']) {
  const steps = listCheckpoints(join(trainDir, 'checkpoints'));
  const last = steps[steps.length - 1];
  if (last === undefined) throw new Error(`${trainDir}/checkpoints: no checkpoint to export`);
  modelDir = join(trainDir, 'checkpoints', `step-${String(last).padStart(8, '0')}`, 'model');
  summary = `stopped at its checkpoint of step ${last}`;
} else {
  // Ctrl-C or a kill stops after the current step with a checkpoint, so --resume loses nothing.
  const abort = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => abort.abort());
  const result = await runSft(trainConfig, {
    data: rows,
    out: trainDir,
    resume: args.resume === true,
    overwrite: !args.resume,
    signal: abort.signal,
    onLog: (m) => console.log(m),
    onStep: (row, p) => {
      if (row.step % 25 === 0 || row.step === p.totalSteps)
        console.log(
          `step ${row.step}/${p.totalSteps} epoch ${row.epoch.toFixed(3)} loss ${row.loss.toFixed(4)} lr ${row.lr.toExponential(2)} ` +
            `${Math.round(row.tokensPerSecond)} tok/s tokens ${row.tokens} eta ${Math.round(p.etaSeconds)} s`,
        );
    },
  });
  if (!result.finished) {
    console.log(`stopped at step ${result.steps}/${result.totalSteps}; continue with --resume (same options) or write the model with --export-latest`);
    process.exit(0);
  }
  modelDir = result.result;
  summary = `${result.steps} steps, ${result.tokensSeen} tokens in ${Math.round(result.trainSeconds)} s of training, final loss ${result.lastRow?.loss.toFixed(4) ?? 'n/a'}`;
}

const out = args.out!;
rmSync(out, { recursive: true, force: true });
cpSync(modelDir, out, { recursive: true });
// The recipe, so a test can rebuild the very corpus and check it for leaks (test/data/pretrain-corpus.test.ts).
const recipe = {
  corpus: corpusOptions,
  rows: rows.length,
  counts: corpus.counts,
  sha256: sha256(stableStringify(rows)),
  shape: config,
  parameters: parameterCount(config),
  training: { ...trainConfig.sft, result: summary },
  // The stage this one continued from (--init-from), with its own corpus, so the leak test checks both.
  ...(earlierStage ? { earlierStage } : {}),
};
writeFileSync(join(out, 'pretrain.json'), JSON.stringify(recipe, null, 2) + '\n');
const c = corpus.counts;
const earlierRebuild = existsSync(join(initDir, 'README.md')) ? /^Rebuild: `([^`]+)`/m.exec(readFileSync(join(initDir, 'README.md'), 'utf8'))?.[1] : undefined;
const stageNote = earlierStage
  ? `\nIt was trained in two stages. The first, from random initialisation, is recorded as \`earlierStage\` in
\`pretrain.json\` (${String((earlierStage.training as { result?: string } | undefined)?.result ?? 'see there')}; rebuilt by
\`${earlierRebuild ?? 'see its recipe'}\`). This stage continued it on a fresh corpus (seed ${seed}) with a new
optimizer and learning-rate schedule.\n`
  : '';
const command = `npx tsx scripts/train-embedded-model.ts ${process.argv.slice(2).filter((a) => a !== '--resume' && a !== '--export-latest').join(' ')}`.trim();
writeFileSync(
  join(out, 'README.md'),
  `# tiny-qwen2: the embedded default model

A ${parameterCount(config)}-parameter Qwen2-architecture model (hidden ${config.hiddenSize}, ${config.numHiddenLayers} layers,
${config.numAttentionHeads} heads / ${config.numKeyValueHeads} kv heads, intermediate ${config.intermediateSize}, tied embeddings) with a pruned
vocabulary of ${vocabSize} Qwen token ids (\`vocab_map.json\`: model id i is Qwen id map[i], so text round-trips through
the real Qwen tokenizer). It plays the part of Qwen2.5's pretraining and is trained by our own trainer (full
fine-tuning, 2 data-parallel workers, seed ${seed}, ${args.epochs} epoch(s), peak lr ${args.lr}, batch 16).
${stageNote}
Corpus (\`scripts/pretrain/corpus.ts\`, ${rows.length} ChatML conversations, ${c.problemRows} of them about
${corpus.problems.length} word problems of all ${FAMILY_NAMES.length} synthesis families, ${c.instructions} from the instruction
set, ${c.programs} plain Python exercises; 85% under a system prompt, most of them Qwen's default one):
- each problem shown twice, in two of: a short Python program that takes its quantities from the text (the offline
  teacher's style), the worked solution in plain words, DEFINE/GIVEN/REQUIRE/IMPLIES statements, the quantities as
  one assignment, the answer alone, a plan then the program, tag-wrapping, a tagged document of two or three pieces;
- the instruction set (src/data/instructions.ts, its own stream) and plain Python exercises (scripts/pretrain/programs.ts).

It has never seen the unified trace format (the four sections together) nor any evaluation prompt of any preset:
\`buildCorpus\` refuses both, and test/data/pretrain-corpus.test.ts rebuilds this corpus from \`pretrain.json\`
and checks it against every preset's evaluation set by hash. With ${args.epochs} epoch(s) it saw about
${Math.min(rows.length, Math.round(rows.length * Number(args.epochs)))} of the ${rows.length} shuffled conversations.

Training: ${summary}.

Rebuild: \`${command}\`${earlierStage ? ' after the first stage' : ''} (see --help; --resume continues a killed run, --export-latest writes this folder from the
newest checkpoint).
`,
);
console.log(`wrote ${out} (${summary}) in ${Math.round((Date.now() - started) / 1000)} s`);
