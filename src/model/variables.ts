// Named tf.Variables, the shape shared by a model's weights (Hugging Face names) and a LoRA adapter's
// matrices (PEFT names): plain copies for saving or sending to workers, replacing values, counting, freeing.
import * as tf from '@tensorflow/tfjs-core';

export interface NamedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

export class NamedVariables {
  constructor(
    /** Every variable by name; this object owns them. */
    readonly weights: Map<string, tf.Variable>,
    /** Names the owner in error messages, e.g. 'Qwen2Model'. */
    private readonly owner: string,
  ) {}

  /** Plain copies of every variable by name. */
  namedWeights(): NamedWeight[] {
    return [...this.weights].map(([name, v]) => ({ name, shape: v.shape.slice(), data: v.dataSync() as Float32Array }));
  }

  /** Replaces a variable's values (e.g. after an optimizer step on the main thread). */
  setWeight(name: string, data: Float32Array): void {
    const v = this.weights.get(name);
    if (!v) throw new Error(`${this.owner}.setWeight: no parameter ${name}`);
    if (data.length !== v.size) throw new Error(`${this.owner}.setWeight: ${name} needs ${v.size} values, got ${data.length}`);
    tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
  }

  parameterCount(): number {
    let n = 0;
    for (const v of this.weights.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
    this.weights.clear();
  }
}
