// Kernels written in TypeScript over the backend's own memory: what the wasm backend lacks
// (UnsortedSegmentSum, the gradient of gather) and the fused kernels of ./fast.ts. Each kernel is one
// `compute(inputs, outputs, attrs)` over flat typed arrays, registered for both the wasm and cpu backends.
import * as tf from '@tensorflow/tfjs-core';
import { overrideWasmKernels } from './wasm_overrides.js';

type Flat = Float32Array | Int32Array;
type Attrs = Record<string, unknown>;

export interface FlatKernel {
  name: string;
  /** Output shapes/dtypes from the input shapes and attributes. */
  outputs(shapes: number[][], attrs: Attrs): { shape: number[]; dtype: 'float32' | 'int32' }[];
  compute(inputs: Flat[], outputs: Flat[], attrs: Attrs, shapes: number[][]): void;
  /** Names of the inputs, in the order compute receives them. */
  inputNames: string[];
  /** Backends to register for (default both). 'cpu' is skipped where the cpu backend has its own kernel. */
  backends?: ('wasm' | 'cpu')[];
}

interface WasmData { memoryOffset: number }
interface WasmBackend {
  dataIdMap: { get(id: unknown): WasmData };
  wasm: { HEAPU8: Uint8Array };
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
}
interface CpuBackend {
  data: { get(id: unknown): { values: Flat }; has(id: unknown): boolean };
  makeTensorInfo(shape: number[], dtype: string, values: Flat): tf.TensorInfo;
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

function view(buffer: ArrayBuffer, offset: number, dtype: string, n: number): Flat {
  return dtype === 'int32' ? new Int32Array(buffer, offset, n) : new Float32Array(buffer, offset, n);
}

function wasmKernel(k: FlatKernel): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const be = backend as unknown as WasmBackend;
    const ins = k.inputNames.map((n) => inputs[n] as tf.TensorInfo);
    const shapes = ins.map((t) => t.shape);
    const a = (attrs ?? {}) as Attrs;
    // Allocate every output before taking views: an allocation can grow (and detach) the wasm memory.
    const outs = k.outputs(shapes, a).map((o) => be.makeOutput(o.shape, o.dtype));
    const buffer = be.wasm.HEAPU8.buffer as ArrayBuffer;
    const inViews = ins.map((t) => view(buffer, be.dataIdMap.get(t.dataId).memoryOffset, t.dtype, size(t.shape)));
    const outViews = outs.map((t) => view(buffer, be.dataIdMap.get(t.dataId).memoryOffset, t.dtype, size(t.shape)));
    k.compute(inViews, outViews, a, shapes);
    return outs.length === 1 ? outs[0]! : outs;
  };
}

function cpuKernel(k: FlatKernel): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const be = backend as unknown as CpuBackend;
    const ins = k.inputNames.map((n) => inputs[n] as tf.TensorInfo);
    const shapes = ins.map((t) => t.shape);
    const a = (attrs ?? {}) as Attrs;
    const specs = k.outputs(shapes, a);
    const outViews = specs.map((o) => (o.dtype === 'int32' ? new Int32Array(size(o.shape)) : new Float32Array(size(o.shape))));
    const inViews = ins.map((t, i) => {
      if (!be.data.has(t.dataId)) throw new Error(`${k.name}: input ${k.inputNames[i]} ${JSON.stringify(t.shape)} was disposed`);
      const v = be.data.get(t.dataId).values;
      return v instanceof Float32Array || v instanceof Int32Array ? v : Float32Array.from(v as ArrayLike<number>);
    });
    k.compute(inViews, outViews, a, shapes);
    const outs = specs.map((o, i) => be.makeTensorInfo(o.shape, o.dtype, outViews[i]!));
    return outs.length === 1 ? outs[0]! : outs;
  };
}

export function registerFlatKernel(k: FlatKernel): void {
  for (const backendName of k.backends ?? ['wasm', 'cpu']) {
    if (tf.getKernel(k.name, backendName)) continue;
    tf.registerKernel({ kernelName: k.name, backendName, kernelFunc: backendName === 'wasm' ? wasmKernel(k) : cpuKernel(k) });
  }
}

/** out[segmentIds[i], ...] += x[i, ...]: the gradient of gather (embedding), missing from the wasm backend. */
const unsortedSegmentSum: FlatKernel = {
  name: tf.UnsortedSegmentSum,
  inputNames: ['x', 'segmentIds'],
  backends: ['wasm'],
  outputs: ([x], attrs) => [{ shape: [attrs.numSegments as number, ...x!.slice(1)], dtype: 'float32' }],
  compute([x, ids], [out], _attrs, [xShape]) {
    const o = out as Float32Array;
    const src = x as Float32Array;
    const row = size(xShape!.slice(1));
    const segments = o.length / Math.max(row, 1);
    o.fill(0);
    for (let i = 0; i < ids!.length; i++) {
      const seg = ids![i]!;
      if (seg < 0 || seg >= segments) continue; // TensorFlow drops out-of-range ids
      const at = seg * row;
      const from = i * row;
      for (let j = 0; j < row; j++) o[at + j]! += src[from + j]!;
    }
  },
};

const extra: FlatKernel[] = [];
/** Lets ./fast.ts add its fused kernels to the set registered by registerEngineKernels. */
export function addEngineKernel(k: FlatKernel): void {
  extra.push(k);
  if (registered) registerFlatKernel(k);
}

let registered = false;
export function registerEngineKernels(): void {
  if (registered) return;
  registered = true;
  overrideWasmKernels();
  registerFlatKernel(unsortedSegmentSum);
  for (const k of extra) registerFlatKernel(k);
}
