// The run's training settings as `trl sft` / `trl dpo` YAML configs (TRL 1.13: ScriptArguments +
// SFTConfig/DPOConfig + ModelConfig + DatasetMixtureConfig, one flat YAML map). Paths are relative to
// the export folder, where run.sh and the README's commands run.
import type { Config, LoraConfig } from '../config/index.js';
import { planSteps } from '../train/loop.js';
import { warmupSteps } from '../train/optimizer.js';
import type { YamlValue } from './yaml.js';

export const SFT_STAGES = ['sft-original', 'sft-cot', 'sft-unified'] as const;
export type SftStage = (typeof SFT_STAGES)[number];
export const STAGES = [...SFT_STAGES, 'dpo'] as const;
export type Stage = (typeof STAGES)[number];

/** Where each stage's TRL output goes, relative to the export folder. */
export const outputDir = (stage: Stage): string => `out/${stage}`;
/** The unified SFT adapter merged into the base: DPO's starting point and its reference. */
export const MERGED_SFT_DIR = 'out/sft-unified-merged';

type Yaml = { [key: string]: YamlValue | undefined };

function lora(c: LoraConfig): Yaml {
  return {
    '# LoRA (PEFT)': '',
    use_peft: true,
    lora_r: c.r,
    lora_alpha: c.alpha,
    lora_dropout: c.dropout,
    lora_target_modules: c.targetModules,
    use_rslora: c.rslora,
    lora_task_type: 'CAUSAL_LM',
  };
}

/** Settings both trainers share: AdamW as unitrace's, full float32, a log row and metrics every step. */
function common(seed: number, checkpointEvery: number): Yaml {
  return {
    '# optimizer and precision as unitrace trains (AdamW 0.9/0.999/1e-8, float32)': '',
    optim: 'adamw_torch',
    adam_beta1: 0.9,
    adam_beta2: 0.999,
    adam_epsilon: 1e-8,
    lr_scheduler_type: 'linear',
    bf16: false,
    fp16: false,
    gradient_checkpointing: false,
    seed,
    data_seed: seed,
    '# one log row per optimizer step, checkpoints at unitrace\'s cadence (the last step always saves)': '',
    logging_steps: 1,
    save_strategy: 'steps',
    save_steps: checkpointEvery,
    report_to: 'none',
  };
}

export interface StageData {
  /** The stage's training file, relative to the export folder, and its number of rows. */
  file: string;
  rows: number;
}

export interface TrlStageConfig {
  stage: Stage;
  command: 'sft' | 'dpo';
  yaml: Yaml;
  /** Optimizer steps unitrace plans for this stage (TRL plans the same on one device). */
  totalSteps: number;
  /** Global batch: per-device batch x accumulation on one device. */
  batchSize: number;
  gradAccum: number;
}

/** SFT stage: prompt-completion rows, loss on the completion only, one length limit (prompt + response). */
export function sftStageConfig(config: Config, stage: SftStage, data: StageData, model: string): TrlStageConfig {
  const s = config.sft;
  if (s.mode !== 'lora') throw new Error(`export: sft.mode is ${s.mode}; the TRL export covers LoRA runs (sft.mode=lora)`);
  const plan = planSteps(data.rows, s.batchSize, s.gradAccum, s.epochs);
  return {
    stage,
    command: 'sft',
    totalSteps: plan.totalSteps,
    batchSize: s.batchSize,
    gradAccum: s.gradAccum,
    yaml: {
      [`# trl sft --config ${stage}.yaml   (unitrace run ${config.run.name}, preset ${config.preset})`]: '',
      model_name_or_path: model,
      dtype: 'float32',
      datasets: [{ path: 'json', data_files: data.file, split: 'train', columns: ['prompt', 'completion'] }],
      output_dir: outputDir(stage),
      '# schedule': '',
      num_train_epochs: s.epochs,
      learning_rate: s.lr,
      [`# warmup: ceil(${s.warmupRatio} x ${plan.totalSteps} steps)`]: '',
      warmup_steps: warmupSteps(plan.totalSteps, s.warmupRatio),
      per_device_train_batch_size: s.batchSize,
      gradient_accumulation_steps: s.gradAccum,
      max_grad_norm: s.maxGradNorm,
      weight_decay: s.weightDecay,
      '# data: loss on the completion only; one limit for prompt + response': '',
      max_length: s.maxPromptTokens + s.maxResponseTokens,
      truncation_mode: 'keep_start',
      completion_only_loss: true,
      packing: false,
      ...common(config.seed, s.checkpointEvery),
      ...lora(s.lora),
    },
  };
}

/** DPO stage: LoRA on the merged unified SFT model, which (adapter disabled) is also the reference. */
export function dpoStageConfig(config: Config, data: StageData): TrlStageConfig {
  const d = config.dpo;
  if (d.onPolicy) throw new Error('export: dpo.onPolicy samples its pairs from the SFT model inside unitrace; export the run with dpo.onPolicy=false');
  const plan = planSteps(data.rows, d.batchSize, d.gradAccum, d.epochs);
  return {
    stage: 'dpo',
    command: 'dpo',
    totalSteps: plan.totalSteps,
    batchSize: d.batchSize,
    gradAccum: d.gradAccum,
    yaml: {
      [`# trl dpo --config dpo.yaml   (after sft-unified and the merge in run.sh; unitrace run ${config.run.name})`]: '',
      '# the policy starts from the merged SFT model; with a LoRA and no ref_model TRL uses it, adapter disabled, as the reference': '',
      model_name_or_path: MERGED_SFT_DIR,
      dtype: 'float32',
      datasets: [{ path: 'json', data_files: data.file, split: 'train', columns: ['prompt', 'chosen', 'rejected'] }],
      output_dir: outputDir('dpo'),
      '# objective': '',
      loss_type: [d.loss],
      beta: d.beta,
      '# unitrace computes the reference log-probs once before training, as this does': '',
      precompute_ref_log_probs: true,
      '# unitrace trains DPO with the LoRA dropout on; TRL turns dropout off by default': '',
      disable_dropout: false,
      '# schedule': '',
      num_train_epochs: d.epochs,
      learning_rate: d.lr,
      [`# warmup: ceil(${d.warmupRatio} x ${plan.totalSteps} steps)`]: '',
      warmup_steps: warmupSteps(plan.totalSteps, d.warmupRatio),
      per_device_train_batch_size: d.batchSize,
      gradient_accumulation_steps: d.gradAccum,
      max_grad_norm: d.maxGradNorm,
      weight_decay: 0,
      '# data: one limit for prompt + response (unitrace limits each side with the sft limits)': '',
      max_length: config.sft.maxPromptTokens + config.sft.maxResponseTokens,
      truncation_mode: 'keep_start',
      ...common(config.seed, d.checkpointEvery),
      ...lora(d.lora),
    },
  };
}

/**
 * Per-device batch and accumulation on `devices` GPUs that keep the global batch (batch x accumulation)
 * of one device; null when it cannot be kept exactly.
 */
export function splitBatch(batchSize: number, gradAccum: number, devices: number): { perDevice: number; gradAccum: number } | null {
  const global = batchSize * gradAccum;
  if (global % devices !== 0) return null;
  const perGpu = global / devices;
  for (let accum = 1; accum <= perGpu; accum++) if (perGpu % accum === 0 && perGpu / accum <= batchSize) return { perDevice: perGpu / accum, gradAccum: accum };
  return null;
}
