// The native decoder (native/decode.cc): a Qwen2 model's weights copied once into native memory, outside
// the wasm heap, and packed there into the layout its products read (panels of 16 output features,
// native/decode_kernels.h). They are passed in as Hugging Face's [out, in] rows, q/k/v and gate/up fused
// into one matrix each, bfloat16 whenever every value of a matrix is a bfloat16 (a bf16 checkpoint) and
// float32 otherwise (F32/F16 checkpoints, merged LoRA weights), so storage is always lossless.
import { closeSync, openSync, readSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { loadNativeDecoder, nativeAddonProblem, type NativeAddon, type NativeDecoderInfo, type NativeHandle } from '../engine/native.js';
import { readConfig, weightShapes, type Qwen2Config } from './config.js';
import { resolveModelDir } from './folder.js';
import { moduleWeightName, type LoraAdapter, type LoraModule } from './lora.js';
import type { Qwen2Model } from './qwen2.js';
import { Checkpoint, decodeToF32 } from './safetensors.js';

/** A weight by Hugging Face name: float32 values, or bfloat16 bits. */
type WeightSource = (name: string) => Float32Array | Uint16Array;

export type LogitsMode = 'argmax' | 'last' | 'all';

/** Why the native decoder cannot run here ('' when it can). */
export function nativeDecoderProblem(): string {
  if (process.env.UNITRACE_NATIVE === '0') return 'UNITRACE_NATIVE=0';
  return loadNativeDecoder() ? '' : nativeAddonProblem();
}

export class NativeDecoder {
  private handle: NativeHandle | null;
  readonly info: NativeDecoderInfo;

  private constructor(
    private readonly addon: NativeAddon,
    readonly config: Qwen2Config,
    weight: WeightSource,
  ) {
    const c = config;
    const dims = Int32Array.of(c.hiddenSize, c.intermediateSize, c.numHiddenLayers, c.numAttentionHeads, c.numKeyValueHeads, c.headDim, c.vocabSize, c.tieWordEmbeddings ? 1 : 0);
    this.handle = addon.decoderCreate(dims, c.rmsNormEps, c.ropeTheta);
    const set = (part: Parameters<NativeAddon['decoderSet']>[1], layer: number, data: Float32Array | Uint16Array) => addon.decoderSet(this.handle!, part, layer, data);
    set('embed', 0, weight('model.embed_tokens.weight'));
    if (!c.tieWordEmbeddings) set('lmHead', 0, weight('lm_head.weight'));
    set('norm', 0, asF32(weight('model.norm.weight')));
    for (let l = 0; l < c.numHiddenLayers; l++) {
      const p = `model.layers.${l}.`;
      const a = (m: string) => weight(`${p}self_attn.${m}`);
      set('inputNorm', l, asF32(weight(`${p}input_layernorm.weight`)));
      set('postNorm', l, asF32(weight(`${p}post_attention_layernorm.weight`)));
      set('qkv', l, concatRows([a('q_proj.weight'), a('k_proj.weight'), a('v_proj.weight')]));
      set('qkvBias', l, asF32(concatRows([a('q_proj.bias'), a('k_proj.bias'), a('v_proj.bias')])));
      set('o', l, a('o_proj.weight'));
      set('gateUp', l, concatRows([weight(`${p}mlp.gate_proj.weight`), weight(`${p}mlp.up_proj.weight`)]));
      set('down', l, weight(`${p}mlp.down_proj.weight`));
    }
    this.info = addon.decoderInfo(this.handle);
  }

  /** The native decoder, or an Error saying why it is unavailable. */
  private static addon(): NativeAddon {
    const problem = nativeDecoderProblem();
    if (problem) throw new Error(`native decoder unavailable: ${problem}`);
    return loadNativeDecoder()!;
  }

  /** From a loaded model's weights, with a LoRA adapter merged in float32 (W + scaling * B @ A). */
  static fromModel(model: Qwen2Model, lora?: LoraAdapter): NativeDecoder {
    const merged = new Map<string, LoraModule>();
    if (lora)
      for (let l = 0; l < model.config.numHiddenLayers; l++)
        for (const m of lora.config.targetModules as LoraModule[]) if (lora.pair(l, m)) merged.set(moduleWeightName(l, m), m);
    return new NativeDecoder(NativeDecoder.addon(), model.config, (name) => {
      const v = model.weights.get(name);
      if (!v) throw new Error(`NativeDecoder: the model has no weight ${name}`);
      const module = merged.get(name);
      if (!module || !lora) return packBf16(v.dataSync() as Float32Array);
      const layer = Number(/layers\.(\d+)\./.exec(name)![1]);
      const pair = lora.pair(layer, module)!;
      const w = tf.tidy(() => tf.add(v, tf.mul(tf.matMul(pair.b, pair.a), lora.scaling)));
      const data = w.dataSync() as Float32Array;
      w.dispose();
      return packBf16(data);
    });
  }

  /** Straight from a model folder: bfloat16 tensors are copied as they are, never widened in JavaScript. */
  static fromCheckpoint(source: string): NativeDecoder {
    const dir = resolveModelDir(source);
    const config = readConfig(dir);
    const ckpt = Checkpoint.open(dir);
    const shapes = weightShapes(config);
    return new NativeDecoder(NativeDecoder.addon(), config, (name) => {
      const info = ckpt.info(name);
      const shape = shapes.get(name);
      if (shape && (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])))
        throw new Error(`tensor ${name} in ${info.file}: shape ${JSON.stringify(info.shape)}, expected ${JSON.stringify(shape)}`);
      const bytes = readBytes(info.file, info.begin, info.end);
      return info.dtype === 'BF16' ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2) : decodeToF32(bytes, info.dtype);
    });
  }

  /** A KV cache with `slots` independent sequences. */
  createCache(slots: number): DecoderCache {
    return new DecoderCache(this.addon, this.addon.cacheCreate(this.live(), slots), slots);
  }

  /**
   * One forward: row r feeds counts[r] tokens continuing slot slots[r]'s sequence. 'argmax' returns each row's
   * greedy id [B]; 'last' each row's last logits [B, V]; 'all' the logits of every token [sum counts, V].
   */
  forward(cache: DecoderCache, slots: Int32Array, counts: Int32Array, tokens: Int32Array, mode: 'argmax'): Int32Array;
  forward(cache: DecoderCache, slots: Int32Array, counts: Int32Array, tokens: Int32Array, mode: 'last' | 'all'): Float32Array;
  forward(cache: DecoderCache, slots: Int32Array, counts: Int32Array, tokens: Int32Array, mode: LogitsMode): Int32Array | Float32Array {
    const rows = mode === 'all' ? tokens.length : slots.length;
    const out = mode === 'argmax' ? new Int32Array(rows) : new Float32Array(rows * this.config.vocabSize);
    this.addon.decoderForward(this.live(), cache.handle, slots, counts, tokens, mode, out);
    return out;
  }

  /** Seconds for the addon's threads to read weightBytes once (best of 3): the memory bound of a step. */
  readSeconds(): number {
    return this.addon.decoderReadSeconds(this.live());
  }

  dispose(): void {
    if (this.handle) this.addon.decoderDispose(this.handle);
    this.handle = null;
  }

  private live(): NativeHandle {
    if (!this.handle) throw new Error('NativeDecoder: used after dispose()');
    return this.handle;
  }
}

export class DecoderCache {
  constructor(
    private readonly addon: NativeAddon,
    readonly handle: NativeHandle,
    readonly slots: number,
  ) {}

  /** Empties a slot for the next sequence. */
  reset(slot: number): void {
    this.addon.cacheReset(this.handle, slot);
  }

  dispose(): void {
    this.addon.cacheDispose(this.handle);
  }
}

/** The bfloat16 bits when every value is a bfloat16 (low 16 bits zero), else the values unchanged. */
export function packBf16(data: Float32Array): Float32Array | Uint16Array {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  for (let i = 0; i < bits.length; i++) if ((bits[i]! & 0xffff) !== 0) return data;
  const out = new Uint16Array(data.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i]! >>> 16;
  return out;
}

function asF32(data: Float32Array | Uint16Array): Float32Array {
  if (data instanceof Float32Array) return data;
  const out = new Uint32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! << 16;
  return new Float32Array(out.buffer);
}

/** Row-wise concatenation of [rows_i, cols] matrices; bfloat16 only when every part is. */
function concatRows(parts: (Float32Array | Uint16Array)[]): Float32Array | Uint16Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const allBf16 = parts.every((p) => p instanceof Uint16Array);
  const out = allBf16 ? new Uint16Array(total) : new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(allBf16 ? p : asF32(p), at);
    at += p.length;
  }
  return out;
}

function readBytes(file: string, begin: number, end: number): Uint8Array {
  const bytes = new Uint8Array(end - begin);
  const fd = openSync(file, 'r');
  try {
    for (let got = 0; got < bytes.length; ) {
      const n = readSync(fd, bytes, got, bytes.length - got, begin + got);
      if (n === 0) throw new Error(`${file}: ended ${bytes.length - got} bytes early`);
      got += n;
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}
