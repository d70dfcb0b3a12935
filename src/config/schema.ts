// The one typed configuration. Every stage reads its settings from here; a run folder stores the
// fully resolved object as config.json so a run can be reproduced from that file alone.
import { z } from 'zod';

export const loraSchema = z.object({
  r: z.number().int().positive(),
  alpha: z.number().positive(),
  dropout: z.number().min(0).max(1),
  rslora: z.boolean(),
  /** Qwen2 linear layer names: q_proj k_proj v_proj o_proj gate_proj up_proj down_proj. */
  targetModules: z.array(z.string()).min(1),
});

export const configSchema = z.object({
  preset: z.string(),
  seed: z.number().int(),
  run: z.object({
    /** Folder holding every run's folder. */
    dir: z.string(),
    name: z.string(),
  }),
  model: z.object({
    /** 'embedded' (the tiny model under data/) or a Hugging Face model folder. */
    source: z.string(),
  }),
  engine: z.object({
    backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']),
    /** Data-parallel worker threads for training; 0 = one per core. */
    workers: z.number().int().min(0),
  }),
  synth: z.object({
    teacher: z.enum(['offline', 'claude']),
    claudeModel: z.string(),
    /** Synthetic unified traces kept after the quality filter. */
    count: z.number().int().positive(),
    families: z.array(z.string()),
    concurrency: z.number().int().positive(),
    useBatchApi: z.boolean(),
    cacheDir: z.string(),
  }),
  mix: z.object({
    nOriginal: z.number().int().min(0),
    nSynthetic: z.number().int().min(0),
    /** CoT-only traces added to the original data for the CoT baseline. */
    nCot: z.number().int().min(0),
    /** Original-data source: 'embedded' or a UltraFeedback file (parquet or JSONL). */
    original: z.string(),
    evalPerFamily: z.number().int().positive(),
    /** Family kept out of training and evaluated as out-of-distribution. */
    oodFamily: z.string(),
    /** Preference pairs for DPO. */
    nPairs: z.number().int().min(0),
  }),
  sft: z.object({
    epochs: z.number().positive(),
    lr: z.number().positive(),
    warmupRatio: z.number().min(0).max(1),
    batchSize: z.number().int().positive(),
    gradAccum: z.number().int().positive(),
    maxPromptTokens: z.number().int().positive(),
    maxResponseTokens: z.number().int().positive(),
    weightDecay: z.number().min(0),
    maxGradNorm: z.number().positive(),
    mode: z.enum(['lora', 'full']),
    lora: loraSchema,
    checkpointEvery: z.number().int().positive(),
    /** Epoch budget for the baseline SFT runs (original only, original + CoT); the paper uses sft.epochs. */
    baselineEpochs: z.number().positive(),
  }),
  dpo: z.object({
    loss: z.enum(['sigmoid', 'ipo', 'hinge', 'robust']),
    beta: z.number().positive(),
    /** TRL's label_smoothing: cDPO for sigmoid, Robust DPO for robust (must be < 0.5 there). */
    labelSmoothing: z.number().min(0).max(1),
    lr: z.number().positive(),
    warmupRatio: z.number().min(0).max(1),
    batchSize: z.number().int().positive(),
    gradAccum: z.number().int().positive(),
    epochs: z.number().positive(),
    maxGradNorm: z.number().positive(),
    lora: loraSchema,
    onPolicy: z.boolean(),
    /** On-policy pairs: responses sampled per prompt from the SFT model (one verified-correct vs one failing). */
    onPolicySamples: z.number().int().min(2),
    checkpointEvery: z.number().int().positive(),
  }),
  eval: z.object({
    maxNewTokens: z.number().int().positive(),
    temperature: z.number().min(0),
    topP: z.number().gt(0).max(1),
    judge: z.enum(['auto', 'offline', 'claude']),
    judgeModel: z.string(),
    bootstrap: z.number().int().positive(),
    sandboxTimeoutMs: z.number().int().positive(),
    /** Prompts generated together (one left-padded batch with a shared KV cache). */
    batchSize: z.number().int().positive(),
  }),
  report: z.object({
    out: z.string(),
  }),
});

export type Config = z.infer<typeof configSchema>;
export type LoraConfig = z.infer<typeof loraSchema>;

/** A partial config at any depth, as presets and overrides are written. */
export type DeepPartial<T> = T extends (infer U)[] ? U[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
