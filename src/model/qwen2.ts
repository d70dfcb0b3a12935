// The Qwen2 decoder in TensorFlow.js, built only from the engine ops. Weights are tf.Variables keyed
// by their Hugging Face names, so checkpoints load and save unchanged and trainers address them by name.
import * as tf from '@tensorflow/tfjs-core';
import { applyRope, attention, dropout, embedding, linear, rmsNorm, ropeCosSin, swiglu } from '../engine/ops.js';
import type { Qwen2Config } from './config.js';
import { weightShapes } from './config.js';
import { NamedVariables } from './variables.js';
import type { LoraModule } from '../config/schema.js';

/** Per-layer key/value tensors kept between generation steps; [B,S,Hkv*D] each. */
export class KvCache {
  keys: (tf.Tensor3D | null)[];
  values: (tf.Tensor3D | null)[];
  /** Positions already cached (S). */
  length = 0;

  constructor(numLayers: number) {
    this.keys = new Array(numLayers).fill(null);
    this.values = new Array(numLayers).fill(null);
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t?.dispose();
    this.keys.fill(null);
    this.values.fill(null);
    this.length = 0;
  }
}

/** What the forward pass needs of a LoRA adapter (src/model/lora.ts `LoraAdapter` is one). */
export interface ForwardAdapter {
  readonly scaling: number;
  readonly config: { readonly dropout: number };
  /** A [r,in], B [out,r] of a layer's module, when the adapter targets it. */
  pair(layer: number, module: LoraModule): { a: tf.Variable; b: tf.Variable } | undefined;
}

export interface ForwardOptions {
  lora?: ForwardAdapter;
  /** Extended in place with this call's keys and values. */
  cache?: KvCache;
  /** [B, pastLength + T]: 1 for real tokens, 0 for padding (over cached and new positions). */
  keyMask?: tf.Tensor2D;
  /** int32 [B,T] rotary positions; default pastLength + 0..T-1 on every row. */
  positions?: tf.Tensor2D;
  /** Enables LoRA dropout. */
  training?: boolean;
  /** Seed for dropout masks (per micro-batch, so a resumed run draws the same masks). */
  seed?: number;
  /** Only the last position's logits ([B,1,V]): what generation needs. */
  lastOnly?: boolean;
}

interface Layer {
  inputNorm: tf.Variable;
  q: tf.Variable;
  qBias: tf.Variable;
  k: tf.Variable;
  kBias: tf.Variable;
  v: tf.Variable;
  vBias: tf.Variable;
  o: tf.Variable;
  postNorm: tf.Variable;
  gate: tf.Variable;
  up: tf.Variable;
  down: tf.Variable;
}

/** Weights are the NamedVariables by Hugging Face name (lm_head.weight absent when tied). */
export class Qwen2Model extends NamedVariables {
  private readonly layers: Layer[];

  /** Takes ownership of the tensors: each becomes a (non-trainable by default) variable. */
  constructor(
    readonly config: Qwen2Config,
    tensors: Map<string, tf.Tensor>,
  ) {
    super(new Map(), 'Qwen2Model');
    const shapes = weightShapes(config);
    for (const name of tensors.keys()) if (!shapes.has(name)) throw new Error(`Qwen2Model: unexpected weight ${name}`);
    for (const [name, shape] of shapes) {
      const t = tensors.get(name);
      if (!t) throw new Error(`Qwen2Model: missing weight ${name} ${JSON.stringify(shape)}`);
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
        throw new Error(`Qwen2Model: weight ${name} has shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(shape)}`);
      this.weights.set(name, tf.variable(t, false));
      t.dispose();
    }
    const w = (n: string) => this.weights.get(n)!;
    this.layers = Array.from({ length: config.numHiddenLayers }, (_, i) => {
      const p = `model.layers.${i}.`;
      return {
        inputNorm: w(`${p}input_layernorm.weight`),
        q: w(`${p}self_attn.q_proj.weight`),
        qBias: w(`${p}self_attn.q_proj.bias`),
        k: w(`${p}self_attn.k_proj.weight`),
        kBias: w(`${p}self_attn.k_proj.bias`),
        v: w(`${p}self_attn.v_proj.weight`),
        vBias: w(`${p}self_attn.v_proj.bias`),
        o: w(`${p}self_attn.o_proj.weight`),
        postNorm: w(`${p}post_attention_layernorm.weight`),
        gate: w(`${p}mlp.gate_proj.weight`),
        up: w(`${p}mlp.up_proj.weight`),
        down: w(`${p}mlp.down_proj.weight`),
      };
    });
  }

  /** The output projection [V,H] (the embedding matrix when tied). */
  get lmHead(): tf.Variable {
    return this.weights.get(this.config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight')!;
  }

  /** Logits [B,T,V] (or [B,1,V] with lastOnly) for ids int32 [B,T]. */
  forward(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => {
      let h = this.hidden(ids, opts); // [B,T,H]
      if (opts.lastOnly) h = tf.slice(h, [0, h.shape[1] - 1, 0], [-1, 1, -1]);
      return this.logits(h);
    });
  }

  /** lm_head over hidden states [B,T,H] -> [B,T,V]. */
  logits(hidden: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const [b, t, H] = hidden.shape;
      const out = linear(tf.reshape(hidden, [b * t, H]), this.lmHead as tf.Tensor2D); // [N,V]
      return tf.reshape(out, [b, t, this.config.vocabSize]);
    });
  }

  /** Final-norm hidden states [B,T,H] (before lm_head), for losses that avoid [B,T,V] at once. */
  hidden(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    const c = this.config;
    const [b, t] = ids.shape;
    const cache = opts.cache;
    const past = cache?.length ?? 0;
    if (cache && cache.keys.length !== c.numHiddenLayers) throw new Error('KvCache was made for a different number of layers');
    if (opts.keyMask && (opts.keyMask.shape[0] !== b || opts.keyMask.shape[1] !== past + t))
      throw new Error(`keyMask shape ${JSON.stringify(opts.keyMask.shape)}, expected [${b}, ${past + t}]`);
    const out = tf.tidy(() => {
      const positions = opts.positions ?? tf.tile(tf.expandDims(tf.range(past, past + t, 1, 'int32'), 0), [b, 1]); // [B,T]
      const { cos, sin } = ropeCosSin(positions as tf.Tensor2D, c.headDim, c.ropeTheta); // [B,T,D]
      const qDim = c.numAttentionHeads * c.headDim;
      const kvDim = c.numKeyValueHeads * c.headDim;
      let x = embedding(this.weights.get('model.embed_tokens.weight') as tf.Tensor2D, tf.reshape(ids, [b * t]) as tf.Tensor1D); // [N,H]
      const lora = opts.lora;
      let dropoutCall = 0;
      const proj = (layer: number, module: LoraModule, input: tf.Tensor2D, w: tf.Variable, bias?: tf.Variable): tf.Tensor2D => {
        const y = linear(input, w as tf.Tensor2D, bias as tf.Tensor1D | undefined);
        const pair = lora?.pair(layer, module);
        if (!pair || !lora) return y;
        const p = lora.config.dropout;
        // A seeded call draws the same masks again (resumed runs); without a seed, fresh masks each call.
        const seed = opts.seed === undefined ? undefined : opts.seed * 7919 + dropoutCall++;
        const xin = opts.training && p > 0 ? dropout(input, p, seed) : input;
        const delta = linear(linear(xin, pair.a as tf.Tensor2D), pair.b as tf.Tensor2D); // [N,out]
        return tf.add(y, tf.mul(delta, lora.scaling));
      };
      for (let i = 0; i < c.numHiddenLayers; i++) {
        const L = this.layers[i]!;
        const hn = rmsNorm(x, L.inputNorm as tf.Tensor1D, c.rmsNormEps); // [N,H]
        const q = applyRope(tf.reshape(proj(i, 'q_proj', hn, L.q, L.qBias), [b, t, qDim]), cos, sin, c.numAttentionHeads, c.headDim); // [B,T,Hq*D]
        let k = applyRope(tf.reshape(proj(i, 'k_proj', hn, L.k, L.kBias), [b, t, kvDim]), cos, sin, c.numKeyValueHeads, c.headDim); // [B,T,Hkv*D]
        let v = tf.reshape(proj(i, 'v_proj', hn, L.v, L.vBias), [b, t, kvDim]) as tf.Tensor3D;
        if (cache) {
          const pk = cache.keys[i];
          const pv = cache.values[i];
          if (pk && pv) {
            k = tf.concat([pk, k], 1); // [B,S,Hkv*D]
            v = tf.concat([pv, v], 1);
          }
          pk?.dispose();
          pv?.dispose();
          cache.keys[i] = tf.keep(k);
          cache.values[i] = tf.keep(v);
        }
        const a = attention(q, k, v, opts.keyMask, { numHeads: c.numAttentionHeads, numKvHeads: c.numKeyValueHeads, headDim: c.headDim, pastLength: past }); // [B,T,Hq*D]
        x = tf.add(x, proj(i, 'o_proj', tf.reshape(a, [b * t, qDim]), L.o));
        const hp = rmsNorm(x, L.postNorm as tf.Tensor1D, c.rmsNormEps);
        const act = swiglu(proj(i, 'gate_proj', hp, L.gate), proj(i, 'up_proj', hp, L.up)); // [N,I]
        x = tf.add(x, proj(i, 'down_proj', act, L.down));
      }
      x = rmsNorm(x, this.weights.get('model.norm.weight') as tf.Tensor1D, c.rmsNormEps);
      return tf.reshape(x, [b, t, c.hiddenSize]) as tf.Tensor3D;
    });
    if (cache) cache.length = past + t;
    return out;
  }
}
