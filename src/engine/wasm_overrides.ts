// Replacements for wasm-backend kernels that copy far more than they return (measured in a training
// step, bench/NOTES.md): Identity copies the whole tensor (tfjs clones every tensor a gradient saves),
// Slice and Unpack first copy the whole input out of the heap for every slice, ArgMax is a slow scalar
// scan. The replacements share memory (Identity, by reference count as the cpu backend does) or read
// the heap in place.
import * as tf from '@tensorflow/tfjs-core';

interface WasmData { memoryOffset: number; refCount: number }
interface WasmBackend {
  dataIdMap: { get(id: unknown): WasmData };
  wasm: { HEAPU8: Uint8Array };
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  incRef(id: unknown): void;
}

function heapView(be: WasmBackend, t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const off = be.dataIdMap.get(t.dataId).memoryOffset;
  const buf = be.wasm.HEAPU8.buffer;
  if (t.dtype === 'int32') return new Int32Array(buf, off, n);
  if (t.dtype === 'bool') return new Uint8Array(buf, off, n);
  return new Float32Array(buf, off, n);
}

function override(name: string, make: (original: tf.KernelFunc) => tf.KernelFunc): void {
  const orig = tf.getKernel(name, 'wasm');
  if (!orig || (orig as { unitrace?: boolean }).unitrace) return;
  tf.unregisterKernel(name, 'wasm');
  const config = { ...orig, kernelFunc: make(orig.kernelFunc), unitrace: true };
  tf.registerKernel(config as tf.KernelConfig);
}

/** Copies the box begin..begin+size of x into a fresh output, one contiguous inner run at a time. */
function sliceInPlace(be: WasmBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = be.makeOutput(size, x.dtype);
  const src = heapView(be, x);
  const dst = heapView(be, out);
  const rank = x.shape.length;
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1]! * x.shape[i + 1]!;
  // Merge the trailing dimensions the box covers completely into one contiguous run.
  let inner = rank - 1;
  let run = size[rank - 1]!;
  while (inner > 0 && size[inner] === x.shape[inner] && begin[inner] === 0) {
    inner--;
    run *= size[inner]!;
  }
  const outer = size.slice(0, inner);
  const rows = outer.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(inner).fill(0);
  let base = 0;
  for (let d = 0; d <= inner; d++) base += begin[d]! * strides[d]!;
  for (let r = 0; r < rows; r++) {
    let off = base;
    for (let d = 0; d < inner; d++) off += idx[d]! * strides[d]!;
    dst.set(src.subarray(off, off + run), r * run);
    for (let d = inner - 1; d >= 0; d--) {
      if (++idx[d]! < outer[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

let done = false;
export function overrideWasmKernels(): void {
  if (done || !tf.getKernel('Slice', 'wasm')) return;
  done = true;
  override('Identity', (orig) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return orig(args);
    (args.backend as unknown as WasmBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
  override('Slice', (orig) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return orig(args);
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    return sliceInPlace(args.backend as unknown as WasmBackend, x, b, s);
  });
  override('Unpack', (orig) => (args) => {
    const x = args.inputs.value as tf.TensorInfo;
    if (x.dtype === 'string') return orig(args);
    let axis = (args.attrs as unknown as { axis: number }).axis;
    if (axis < 0) axis += x.shape.length;
    const outShape = x.shape.filter((_, i) => i !== axis);
    const size = x.shape.slice();
    size[axis] = 1;
    const be = args.backend as unknown as WasmBackend;
    return Array.from({ length: x.shape[axis]! }, (_, i) => {
      const begin = x.shape.map((_, d) => (d === axis ? i : 0));
      const o = sliceInPlace(be, x, begin, size);
      return { dataId: o.dataId, dtype: o.dtype, shape: outShape };
    });
  });
  override('ArgMax', (orig) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const axisAttr = (args.attrs as unknown as { axis: number | number[] }).axis;
    const axis = Array.isArray(axisAttr) ? axisAttr[0]! : axisAttr;
    const rank = x.shape.length;
    if (x.dtype !== 'float32' || (axis !== -1 && axis !== rank - 1) || (Array.isArray(axisAttr) && axisAttr.length !== 1)) return orig(args);
    const be = args.backend as unknown as WasmBackend;
    const v = x.shape[rank - 1]!;
    const out = be.makeOutput(x.shape.slice(0, -1), 'int32');
    const src = heapView(be, x) as Float32Array;
    const dst = heapView(be, out) as Int32Array;
    for (let r = 0; r < dst.length; r++) {
      const row = r * v;
      let best = 0;
      let m = src[row]!;
      for (let j = 1; j < v; j++) {
        const xj = src[row + j]!;
        if (xj > m) {
          m = xj;
          best = j;
        }
      }
      dst[r] = best;
    }
    return out;
  });
}
