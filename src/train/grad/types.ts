// The one gradient-computer contract: what trainLoop, the benchmark and the data-parallel workers share.
// createGradComputer (./parallel.ts) returns one, in-process (./local.ts) or over worker threads.
import type { BackendPreference } from '../../engine/backend.js';
import type { LoraConfig } from '../../config/schema.js';
import type { MicroBatch, ObjectiveOptions } from '../types.js';

export interface GradComputerSpec {
  /** Model folder or 'embedded' (each worker loads its own copy). */
  modelSource: string;
  /** LoRA settings and the PEFT names of the trainable matrices (mode 'lora'). */
  adapter?: { config: LoraConfig; names: string[] };
  mode: 'lora' | 'full';
  objective: 'sft' | 'dpo';
  objectiveOptions?: ObjectiveOptions;
  /** Data-parallel worker threads; 1 runs in-process, 0 one per core. */
  workers: number;
  backend: BackendPreference;
}

export interface GradResult {
  loss: number;
  grads: Map<string, Float32Array>;
  metrics: Record<string, number>;
  tokens: number;
}

export interface GradComputer {
  compute(batch: MicroBatch): Promise<GradResult>;
  /** New values of the trainable parameters (all of them, by name); call before the first compute. */
  setTrainable(params: Map<string, Float32Array>): Promise<void>;
  dispose(): Promise<void>;
  /** Worker threads in use (1 = in-process), the backend they run and its matrix product. */
  readonly workers: number;
  readonly backend: string;
  readonly matmul: string;
}
