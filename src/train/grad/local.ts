// Gradients of a training objective over the trainable parameters, in this thread: the in-process
// computer that createGradComputer uses with one worker, and what each worker thread runs.
import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend, matmulPath } from '../../engine/backend.js';
import type { LoraAdapter } from '../../model/lora.js';
import type { Qwen2Model } from '../../model/qwen2.js';
import type { MicroBatch, ObjectiveOptions } from '../types.js';
import type { GradComputer, GradComputerSpec, GradResult } from './types.js';

type ObjectiveFn = (model: Qwen2Model, adapter: LoraAdapter | null, batch: MicroBatch, training: boolean, options?: ObjectiveOptions) => { loss: tf.Scalar; metrics: Record<string, tf.Scalar> };

export class LocalGradComputer implements GradComputer {
  readonly workers = 1;
  readonly matmul = matmulPath();
  private constructor(
    readonly backend: string,
    private readonly model: Qwen2Model,
    private readonly adapter: LoraAdapter | null,
    private readonly params: Map<string, tf.Variable>,
    private readonly objective: ObjectiveFn,
    private readonly options: ObjectiveOptions,
  ) {}

  static async create(spec: GradComputerSpec): Promise<LocalGradComputer> {
    const backend = await ensureBackend(spec.backend);
    const [{ loadModel }, { createLora }, { objectives }, { Rng }] = await Promise.all([
      import('../../model/load.js'),
      import('../../model/lora.js'),
      import('../objectives.js'),
      import('../../util/rng.js'),
    ]);
    const model = await loadModel(spec.modelSource, { backend: spec.backend });
    let adapter: LoraAdapter | null = null;
    let params: Map<string, tf.Variable>;
    if (spec.mode === 'lora') {
      if (!spec.adapter) throw new Error('createGradComputer: mode "lora" needs spec.adapter');
      // Initial values are placeholders: the trainer pushes the real ones with setTrainable.
      adapter = createLora(model, spec.adapter.config, new Rng(0));
      params = adapter.weights;
      const missing = spec.adapter.names.filter((n) => !params.has(n));
      if (missing.length) throw new Error(`createGradComputer: adapter has no parameter ${missing.slice(0, 3).join(', ')}`);
    } else {
      params = model.weights;
      for (const v of params.values()) v.trainable = true;
    }
    return new LocalGradComputer(backend, model, adapter, params, objectives[spec.objective] as ObjectiveFn, spec.objectiveOptions ?? {});
  }

  async setTrainable(values: Map<string, Float32Array>): Promise<void> {
    for (const [name, data] of values) {
      const v = this.params.get(name);
      if (!v) throw new Error(`setTrainable: no trainable parameter ${name}`);
      if (data.length !== v.size) throw new Error(`setTrainable: ${name} needs ${v.size} values, got ${data.length}`);
      tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
    }
  }

  async compute(batch: MicroBatch): Promise<GradResult> {
    const kept: Record<string, tf.Scalar> = {};
    const vars = [...this.params.values()];
    const { value, grads } = tf.variableGrads(() => {
      const r = this.objective(this.model, this.adapter, batch, true, this.options);
      for (const [k, t] of Object.entries(r.metrics)) kept[k] = tf.keep(t);
      return r.loss;
    }, vars);
    try {
      const out = new Map<string, Float32Array>();
      for (const [name, v] of this.params) {
        const g = grads[v.name];
        // A parameter the loss does not reach (e.g. a LoRA B's partner before B moves) has gradient 0.
        out.set(name, g ? ((await g.data()) as Float32Array) : new Float32Array(v.size));
      }
      const metrics: Record<string, number> = {};
      for (const [k, t] of Object.entries(kept)) metrics[k] = (await t.data())[0]!;
      return { loss: (await value.data())[0]!, grads: out, metrics, tokens: batch.tokens };
    } finally {
      tf.dispose([value, ...Object.values(grads), ...Object.values(kept)]);
    }
  }

  async dispose(): Promise<void> {
    this.adapter?.dispose();
    this.model.dispose();
  }
}
