// The one typed configuration. Every stage reads its settings from here; a run folder stores the
// fully resolved object as config.json so a run can be reproduced from that file alone. Every object is
// strict (an unknown key is an error, see ./keys.ts) and every field carries the one-line description that
// `unitrace config --explain` prints.
import { z } from 'zod';

/** Qwen2's linear layers a LoRA adapter may target (PEFT's target_modules names). */
export const LORA_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraModule = (typeof LORA_MODULES)[number];

const d = <T extends z.ZodType>(schema: T, description: string): T => schema.describe(description);
const count = () => z.number().int().positive();

/** PEFT's LoraConfig, in unitrace's names. */
export const loraSchema = z.strictObject({
  r: d(count(), 'LoRA rank: A is [r, in], B is [out, r] (PEFT r)'),
  alpha: d(z.number().positive(), 'scaling numerator: the update is B A x * alpha / r (PEFT lora_alpha)'),
  dropout: d(z.number().min(0).max(1), "dropout on the adapter's input while training (PEFT lora_dropout)"),
  rslora: d(z.boolean(), 'rank-stabilised scaling alpha / sqrt(r) instead of alpha / r (PEFT use_rslora)'),
  targetModules: d(z.array(z.enum(LORA_MODULES)).min(1), `linear layers that get an adapter, among ${LORA_MODULES.join(' ')} (PEFT target_modules)`),
});

/** What SFT and DPO share: the optimizer, schedule, batching, token limits, clipping and checkpoints (TRL's TrainingArguments). */
const trainingFields = {
  epochs: d(z.number().positive(), 'passes over the training set (fractions allowed; TRL num_train_epochs)'),
  lr: d(z.number().positive(), 'peak learning rate of the linear warm-up and decay schedule'),
  warmupRatio: d(z.number().min(0).max(1), 'fraction of the steps spent warming the learning rate up from 0'),
  batchSize: d(count(), 'examples (DPO: pairs) per micro-batch'),
  gradAccum: d(count(), 'micro-batches whose gradients are averaged into one optimizer step'),
  maxGradNorm: d(z.number().positive(), 'global gradient norm clipped to this before each step'),
  weightDecay: d(z.number().min(0), "AdamW's decoupled weight decay"),
  adamBeta1: d(z.number().min(0).lt(1), "AdamW's first-moment decay (TRL adam_beta1)"),
  adamBeta2: d(z.number().min(0).lt(1), "AdamW's second-moment decay (TRL adam_beta2)"),
  adamEpsilon: d(z.number().positive(), "AdamW's denominator epsilon (TRL adam_epsilon)"),
  maxPromptTokens: d(count(), "prompt tokens kept per example (its end; TRL max_prompt_length)"),
  maxResponseTokens: d(count(), 'response tokens kept per example (its start; TRL max_completion_length)'),
  checkpointEvery: d(count(), 'optimizer steps between checkpoints (a killed run resumes from the last)'),
  lora: d(loraSchema, 'the LoRA adapter trained in this stage'),
};

export const trainingSchema = z.strictObject(trainingFields);

export const sftSchema = z.strictObject({
  ...trainingFields,
  mode: d(z.enum(['lora', 'full']), 'train a LoRA adapter, or every weight of the model'),
  /** Epoch budget for the baseline SFT runs (original only, original + CoT); the paper uses sft.epochs. */
  baselineEpochs: d(z.number().positive(), 'epochs of the two baseline SFT runs (original only, original + CoT)'),
});

export const dpoSchema = z.strictObject({
  ...trainingFields,
  loss: d(z.enum(['sigmoid', 'ipo', 'hinge']), "DPO loss (TRL loss_type)"),
  beta: d(z.number().positive(), 'strength of the pull towards the reference model (TRL beta)'),
  onPolicy: d(z.boolean(), 'replace the offline pairs with pairs sampled from the SFT model and checked by execution'),
  /** On-policy pairs: responses sampled per prompt from the SFT model (one verified-correct vs one failing). */
  onPolicySamples: d(z.number().int().min(2), 'responses sampled per prompt for on-policy pairs'),
});

export const configSchema = z.strictObject({
  preset: d(z.string(), 'name of the preset this config started from'),
  seed: d(z.number().int(), 'seed of every random choice: data, initialisation, batch order, dropout, sampling'),
  run: d(
    z.strictObject({
      dir: d(z.string(), "folder holding every run's folder"),
      name: d(z.string(), 'this run\'s folder name inside run.dir'),
    }),
    'where the run folder is',
  ),
  model: d(
    z.strictObject({
      source: d(z.string(), "'embedded' (the tiny model under data/) or a Hugging Face Qwen2 folder"),
    }),
    'the base model',
  ),
  engine: d(
    z.strictObject({
      backend: d(z.enum(['auto', 'tensorflow', 'wasm', 'cpu']), 'TensorFlow.js backend (auto: tensorflow when installed, else wasm)'),
      workers: d(z.number().int().min(0), 'data-parallel worker threads for training; 0 = one per core'),
    }),
    'the compute engine',
  ),
  synth: d(
    z.strictObject({
      teacher: d(z.enum(['offline', 'claude']), 'who writes the unified traces'),
      claudeModel: d(z.string(), 'Claude model of the claude teacher'),
      count: d(count(), 'synthetic unified traces kept after the quality filter'),
      families: d(z.array(z.string()), 'problem families to draw from (empty: all)'),
      concurrency: d(count(), 'Claude requests in flight while synthesising'),
      useBatchApi: d(z.boolean(), "send the teacher's requests through the Message Batches API"),
      cacheDir: d(z.string(), 'folder of cached Claude responses (teacher and judge)'),
    }),
    'trace synthesis',
  ),
  mix: d(
    z.strictObject({
      nOriginal: d(z.number().int().min(0), 'original (non-trace) examples in the SFT mix'),
      nSynthetic: d(z.number().int().min(0), 'unified traces in the SFT mix'),
      nCot: d(z.number().int().min(0), 'CoT-only traces added to the original data for the CoT baseline'),
      original: d(z.string(), "original-data source: 'embedded' or an UltraFeedback file (parquet or JSONL)"),
      evalPerFamily: d(count(), 'held-out evaluation problems per family'),
      oodFamily: d(z.string(), 'family kept out of training and evaluated as out-of-distribution'),
      nPairs: d(z.number().int().min(0), 'preference pairs for DPO'),
    }),
    'the training and evaluation sets',
  ),
  sft: d(sftSchema, 'supervised fine-tuning'),
  dpo: d(dpoSchema, 'direct preference optimisation on top of the SFT model'),
  eval: d(
    z.strictObject({
      maxNewTokens: d(count(), 'tokens generated per answer at most'),
      temperature: d(z.number().min(0), 'sampling temperature (0: greedy)'),
      topP: d(z.number().gt(0).max(1), 'nucleus sampling mass'),
      judge: d(z.enum(['auto', 'offline', 'claude']), 'who scores answers (auto: Claude when ANTHROPIC_API_KEY is set)'),
      judgeModel: d(z.string(), 'Claude model of the judge'),
      judgeConcurrency: d(count(), 'judge requests in flight'),
      bootstrap: d(count(), 'bootstrap resamples for confidence intervals'),
      sandboxTimeoutMs: d(count(), 'wall-clock limit of one Python program in the sandbox (ms)'),
      /** Prompts generated together (one left-padded batch with a shared KV cache). */
      batchSize: d(count(), 'prompts generated together in one left-padded batch'),
    }),
    'evaluation',
  ),
  report: d(
    z.strictObject({
      out: d(z.string(), 'folder of the rendered report'),
    }),
    'the report',
  ),
});

export type Config = z.infer<typeof configSchema>;
export type LoraConfig = z.infer<typeof loraSchema>;
/** The settings SFT and DPO share (either section is one). */
export type TrainingConfig = z.infer<typeof trainingSchema>;

/** A partial config at any depth, as presets and overrides are written. */
export type DeepPartial<T> = T extends (infer U)[] ? U[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
