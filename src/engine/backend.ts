// Picks and initialises the TensorFlow.js backend. Order for 'auto': tfjs-node-gpu, tfjs-node (both optional:
// used only when a user installed them; never dependencies), then wasm (SIMD), then the plain-JS cpu backend.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import './gradients.js';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { fromRoot } from '../util/paths.js';
import { useBatchedProducts } from './fast.js';
import { registerEngineKernels } from './kernels.js';
import { enableNativeMatmul, type NativeMatmulStatus } from './native.js';

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

/** Loads a native binding when installed; a variable specifier keeps bundlers from resolving it. */
async function tryNative(): Promise<boolean> {
  for (const name of NATIVE_PACKAGES) {
    try {
      await import(name);
      if (tf.findBackendFactory('tensorflow')) return true;
    } catch {
      // not installed (or its native library is missing): try the next one
    }
  }
  return false;
}

let initialised: string | null = null;
let wasmPathSet = false;
function prepareWasm(): void {
  if (wasmPathSet) return;
  // Absolute folder of the .wasm files, so the CommonJS bundle (dist/) finds them too.
  setWasmPaths(fromRoot('node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist') + '/');
  wasmPathSet = true;
}

async function activate(name: string): Promise<boolean> {
  if (name === 'wasm') prepareWasm();
  try {
    const ok = await tf.setBackend(name);
    if (ok) await tf.ready();
    return ok;
  } catch {
    return false;
  }
}

/**
 * Initialises the backend and returns its name ('tensorflow', 'wasm' or 'cpu').
 * `pref` (or $UNITRACE_BACKEND when pref is 'auto') forces one; a forced backend that cannot start is an error.
 */
export async function initBackend(pref: BackendPreference = 'auto'): Promise<string> {
  const env = process.env.UNITRACE_BACKEND as BackendPreference | undefined;
  const wanted = pref === 'auto' && env && env !== 'auto' ? env : pref;
  if (wanted !== 'auto') {
    if (wanted === 'tensorflow' && !(await tryNative())) {
      throw new Error('backend "tensorflow" requested but neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node loads');
    }
    if (!(await activate(wanted))) throw new Error(`backend "${wanted}" failed to initialise`);
  } else if (!((await tryNative()) && (await activate('tensorflow'))) && !(await activate('wasm'))) {
    if (!(await activate('cpu'))) throw new Error('no TensorFlow.js backend could be initialised');
  }
  tf.env().set('PROD', true); // silences tfjs's console advice about tfjs-node; no effect on results
  registerEngineKernels();
  initialised = tf.getBackend();
  // The optional native matmul addon (src/engine/native.ts) replaces wasm's BatchMatMul in this thread.
  matmul = initialised === 'wasm' ? enableNativeMatmul() : { enabled: false, path: `${initialised} backend's own` };
  useBatchedProducts(matmul.enabled);
  return initialised;
}

let matmul: NativeMatmulStatus = { enabled: false, path: 'no backend initialised' };

/** Which matrix product the active backend uses (e.g. 'openblas (SkylakeX)', or why wasm's own). */
export function matmulPath(): string {
  return matmul.path;
}

/** Like initBackend, but 'auto' keeps a backend that initBackend already chose in this thread. */
export async function ensureBackend(pref: BackendPreference = 'auto'): Promise<string> {
  if (pref === 'auto' && initialised && !process.env.UNITRACE_BACKEND) {
    if (tf.getBackend() !== initialised) await tf.setBackend(initialised);
    return initialised;
  }
  return initBackend(pref);
}
