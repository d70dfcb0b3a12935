// Named presets. `paper` is the paper's settings end to end (Claude teacher and judge, UltraFeedback,
// the real model: `unitrace pipeline` checks each is there before starting); `paper-offline` is the same
// hyper-parameters with the offline teacher, embedded instructions and offline judge; `demo` and `smoke`
// shrink the budget so the whole pipeline runs on a laptop (demo: minutes; smoke: about a minute, for tests).
// The base object below holds the paper's hyper-parameters with the offline pieces every preset shares.
import type { Config, DeepPartial, LoraConfig } from './schema.js';

const paperLora: LoraConfig = { r: 16, alpha: 32, dropout: 0.1, rslora: false, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] };

/** PyTorch's AdamW defaults, as TRL uses them. */
const paperAdam = { adamBeta1: 0.9, adamBeta2: 0.999, adamEpsilon: 1e-8 };

export const paper: Config = {
  preset: 'paper',
  seed: 42,
  run: { dir: 'runs', name: 'paper' },
  model: { source: 'Qwen2.5-0.5B' },
  engine: { backend: 'auto', workers: 0 },
  synth: {
    teacher: 'offline',
    claudeModel: 'claude-sonnet-5-5',
    count: 200,
    families: [],
    concurrency: 4,
    useBatchApi: false,
    cacheDir: '.cache/claude',
  },
  mix: { nOriginal: 300, nSynthetic: 200, nCot: 1000, original: 'embedded', evalPerFamily: 20, oodFamily: 'countdown', nPairs: 200 },
  sft: {
    epochs: 100,
    lr: 2e-5,
    warmupRatio: 0.05,
    batchSize: 8,
    gradAccum: 2,
    maxPromptTokens: 256,
    maxResponseTokens: 1024,
    weightDecay: 0,
    ...paperAdam,
    maxGradNorm: 1,
    mode: 'lora',
    lora: paperLora,
    checkpointEvery: 100,
    baselineEpochs: 100,
  },
  dpo: {
    loss: 'sigmoid',
    beta: 0.1,
    lr: 5e-7,
    warmupRatio: 0.1,
    batchSize: 4,
    gradAccum: 4,
    epochs: 3,
    maxPromptTokens: 256,
    maxResponseTokens: 1024,
    weightDecay: 0,
    ...paperAdam,
    maxGradNorm: 1,
    lora: paperLora,
    onPolicy: false,
    onPolicySamples: 4,
    checkpointEvery: 50,
  },
  eval: {
    maxNewTokens: 1024,
    temperature: 0,
    topP: 1,
    judge: 'auto',
    judgeModel: 'claude-sonnet-5-5',
    judgeConcurrency: 4,
    bootstrap: 1000,
    sandboxTimeoutMs: 5000,
    batchSize: 16,
  },
  report: { out: 'report' },
};

/** Overrides on top of `paper`. Tuned by the training stage so `npm start` fits the time budget. */
export const presetOverrides: Record<string, DeepPartial<Config>> = {
  // what the paper used that lives outside this kit: pass the file and folder with --set (docs in README)
  paper: { synth: { teacher: 'claude' }, eval: { judge: 'claude' }, mix: { original: 'ultrafeedback/train_sft.parquet' } },
  'paper-offline': { preset: 'paper-offline', run: { name: 'paper-offline' } },
  demo: {
    preset: 'demo',
    run: { name: 'demo' },
    model: { source: 'embedded' },
    sft: { lr: 2e-3, maxPromptTokens: 96, maxResponseTokens: 256, baselineEpochs: 10 },
    dpo: { lr: 5e-4, maxPromptTokens: 96, maxResponseTokens: 256 },
    mix: { evalPerFamily: 8 },
    eval: { maxNewTokens: 384, bootstrap: 500 },
  },
  smoke: {
    preset: 'smoke',
    run: { name: 'smoke' },
    model: { source: 'embedded' },
    synth: { count: 24 },
    mix: { nOriginal: 36, nSynthetic: 24, nCot: 40, evalPerFamily: 1, nPairs: 16 },
    sft: { epochs: 2, lr: 2e-3, gradAccum: 1, maxPromptTokens: 64, maxResponseTokens: 160, baselineEpochs: 1, checkpointEvery: 10 },
    dpo: { lr: 5e-4, epochs: 1, gradAccum: 1, checkpointEvery: 5, maxPromptTokens: 64, maxResponseTokens: 160 },
    eval: { maxNewTokens: 160, bootstrap: 200 },
  },
};

export const presetNames = Object.keys(presetOverrides);
