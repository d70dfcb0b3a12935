// AdamW over plain Float32Arrays on the main thread (the engine hands gradients back as Float32Arrays),
// global gradient-norm clipping, gradient accumulation and the learning-rate schedule.

export type ParamMap = Map<string, Float32Array>;

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const defaultAdamW: AdamWOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

/** Moments and step count: everything needed to continue exactly where a run stopped. */
export interface AdamWState {
  step: number;
  m: ParamMap;
  v: ParamMap;
}

/**
 * Decoupled weight decay (Loshchilov & Hutter) with PyTorch's bias correction. `decays(name)` says which
 * parameters decay (by convention not biases and norms).
 */
export class AdamW {
  readonly m: ParamMap = new Map();
  readonly v: ParamMap = new Map();
  step = 0;

  constructor(
    params: ParamMap,
    readonly options: AdamWOptions = defaultAdamW,
    readonly decays: (name: string) => boolean = () => true,
  ) {
    for (const [name, p] of params) {
      this.m.set(name, new Float32Array(p.length));
      this.v.set(name, new Float32Array(p.length));
    }
  }

  /** One update in place. */
  apply(params: ParamMap, grads: ParamMap, lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.options;
    this.step++;
    const bc1 = 1 - Math.pow(beta1, this.step);
    const bc2 = Math.sqrt(1 - Math.pow(beta2, this.step));
    const stepSize = lr / bc1;
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g) throw new Error(`AdamW: no gradient for trainable parameter ${name}`);
      if (g.length !== p.length) throw new Error(`AdamW: gradient of ${name} has ${g.length} values, parameter ${p.length}`);
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      const decay = weightDecay > 0 && this.decays(name) ? 1 - lr * weightDecay : 1;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]!;
        const mi = (m[i] = beta1 * m[i]! + (1 - beta1) * gi);
        const vi = (v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi);
        p[i] = p[i]! * decay - (stepSize * mi) / (Math.sqrt(vi) / bc2 + eps);
      }
    }
  }

  state(): AdamWState {
    return { step: this.step, m: this.m, v: this.v };
  }

  load(state: AdamWState): void {
    for (const [name, m] of this.m) {
      const sm = state.m.get(name);
      const sv = state.v.get(name);
      if (!sm || !sv || sm.length !== m.length || sv.length !== m.length) throw new Error(`optimizer state does not match parameter ${name}`);
      m.set(sm);
      this.v.get(name)!.set(sv);
    }
    this.step = state.step;
  }
}

/** L2 norm over every gradient together. */
export function globalNorm(grads: ParamMap): number {
  let sum = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) sum += g[i]! * g[i]!;
  return Math.sqrt(sum);
}

/** Scales gradients in place so their global norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(grads: ParamMap, maxNorm: number): number {
  const norm = globalNorm(grads);
  if (!Number.isFinite(norm)) throw new Error(`gradient norm is ${norm}: the loss diverged (lower the learning rate)`);
  if (norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-6);
    for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i]! *= scale;
  }
  return norm;
}

/**
 * Sums weight * grads over micro-batches; `mean()` divides by the total weight. The buffers are reused
 * step after step (no allocation per step), so a mean is valid until the next `add`.
 */
export class GradAccumulator {
  private sum: ParamMap | null = null;
  private weight = 0;
  private stale = false;

  add(grads: ParamMap, weight: number): void {
    if (!this.sum) this.sum = new Map([...grads].map(([k, g]) => [k, new Float32Array(g.length)]));
    if (this.stale) {
      for (const s of this.sum.values()) s.fill(0);
      this.stale = false;
    }
    for (const [name, g] of grads) {
      const s = this.sum.get(name);
      if (!s || s.length !== g.length) throw new Error(`gradient accumulation: unexpected parameter ${name}`);
      for (let i = 0; i < g.length; i++) s[i]! += g[i]! * weight;
    }
    this.weight += weight;
  }

  /** The weighted mean, and a reset for the next optimizer step. */
  mean(): ParamMap {
    if (!this.sum || this.stale || this.weight <= 0) throw new Error('gradient accumulation: no micro-batch with a trained token');
    const inv = 1 / this.weight;
    for (const s of this.sum.values()) for (let i = 0; i < s.length; i++) s[i]! *= inv;
    this.weight = 0;
    this.stale = true;
    return this.sum;
  }
}

/** Linear warmup over `warmupSteps` to `lr`, then linear decay towards 0 at `totalSteps`. step is 0-based. */
export function linearSchedule(lr: number, totalSteps: number, warmupSteps: number): (step: number) => number {
  return (step) => {
    if (step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
    return (lr * Math.max(0, totalSteps - step)) / Math.max(1, totalSteps - warmupSteps);
  };
}

/** Warmup steps as Hugging Face counts them: ceil(ratio * total). */
export const warmupSteps = (totalSteps: number, ratio: number): number => Math.ceil(totalSteps * ratio);
