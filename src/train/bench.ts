// The training-speed benchmark behind `unitrace bench`: a random-init Qwen2 model from a config.json,
// random tokens, the real gradient computer (in-process or worker threads) and AdamW on the main thread.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendPreference } from '../engine/backend.js';
import type { Qwen2Config } from '../model/config.js';
import { createGradComputer, resolveWorkers } from './grad/parallel.js';
import type { SftBatch } from './types.js';

export interface TrainBenchOptions {
  /** Hugging Face config.json object. */
  modelConfig: Record<string, unknown>;
  batch: number;
  seq: number;
  mode: 'lora' | 'full';
  steps: number;
  warmup: number;
  workers: number;
  backend: BackendPreference;
  loraRank?: number;
  seed?: number;
  onStep?: (step: number, seconds: number, loss: number, warmup: boolean) => void;
}

export interface TrainBenchResult {
  tokensPerSecond: number;
  gflops: number;
  backend: string;
  /** The matrix product in use: the native addon's ('openblas (SkylakeX)', 'avx2-fma') or why wasm's own. */
  matmul: string;
  workers: number;
  secondsPerStep: number;
  /** CPU time of the whole process (all threads) per timed step: robust to other load on the machine. */
  cpuSecondsPerStep: number;
  tokensPerCpuSecond: number;
  stepSeconds: number[];
  flopsPerStep: number;
  trainableParameters: number;
  mode: 'lora' | 'full';
  batch: number;
  seq: number;
  steps: number;
  warmup: number;
  losses: number[];
}

const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj'] as const;

/**
 * Model FLOPs of one training step (multiply-adds count 2): every linear layer forward, its input gradient
 * (except where nothing trainable lies below) and its weight gradient when trained; attention scores and
 * weighted sums over the full T x T square (as PyTorch computes them), three times for forward + backward.
 */
export function trainStepFlops(c: Qwen2Config, batch: number, seq: number, mode: 'lora' | 'full', r: number): number {
  const n = batch * seq;
  const H = c.hiddenSize;
  const q = c.numAttentionHeads * c.headDim;
  const kv = c.numKeyValueHeads * c.headDim;
  const layer = [
    [H, q],
    [H, kv],
    [H, kv],
    [q, H],
    [H, c.intermediateSize],
    [H, c.intermediateSize],
    [c.intermediateSize, H],
  ];
  let flops = 0;
  for (let l = 0; l < c.numHiddenLayers; l++) {
    for (const [i, o] of layer) flops += 2 * n * i! * o! * (mode === 'full' ? 3 : 2);
    if (mode === 'lora') for (const [i, o] of layer.slice(0, 4)) flops += 2 * n * r * (i! + o!) * 3;
    flops += 3 * 4 * batch * c.numAttentionHeads * seq * seq * c.headDim;
  }
  flops += 2 * n * H * c.vocabSize * (mode === 'full' ? 3 : 2); // lm_head
  return flops;
}

function randomBatch(vocab: number, batch: number, seq: number, seed: number): SftBatch {
  let s = seed >>> 0 || 1;
  const next = () => ((s = (s * 1664525 + 1013904223) >>> 0), s / 2 ** 32);
  const n = batch * seq;
  const ids = Int32Array.from({ length: n + batch }, () => Math.floor(next() * vocab));
  const inputIds = new Int32Array(n);
  const labels = new Int32Array(n);
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < seq; t++) {
      inputIds[b * seq + t] = ids[b * (seq + 1) + t]!;
      labels[b * seq + t] = ids[b * (seq + 1) + t + 1]!;
    }
  return { kind: 'sft', inputIds, labels, weights: new Float32Array(n).fill(1), rowLengths: new Int32Array(batch).fill(seq), batch, seqLen: seq, tokens: n, seed };
}

export async function runTrainBench(o: TrainBenchOptions): Promise<TrainBenchResult> {
  const [{ parseConfig, weightShapes }, { writeRandomCheckpoint, randomWeights }, { peftKey, moduleWeightName }, { AdamW }, { Rng }] = await Promise.all([
    import('../model/config.js'),
    import('../model/load.js'),
    import('../model/lora.js'),
    import('./optimizer.js'),
    import('../util/rng.js'),
  ]);
  const config = parseConfig(o.modelConfig, 'model config');
  const r = o.loraRank ?? 16;
  const seed = o.seed ?? 0;
  const rng = new Rng(seed);
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-bench-'));
  try {
    writeRandomCheckpoint(dir, config, rng.fork('weights'));
    const params = new Map<string, Float32Array>();
    const loraConfig = { r, alpha: 2 * r, dropout: 0, rslora: false, targetModules: [...LORA_TARGETS] };
    if (o.mode === 'lora') {
      const shapes = weightShapes(config);
      const init = rng.fork('lora');
      for (let l = 0; l < config.numHiddenLayers; l++)
        for (const m of LORA_TARGETS) {
          const [out, inp] = shapes.get(moduleWeightName(l, m))! as [number, number];
          const bound = 1 / Math.sqrt(inp);
          params.set(peftKey(l, m, 'A'), Float32Array.from({ length: r * inp }, () => (2 * init.next() - 1) * bound));
          params.set(peftKey(l, m, 'B'), new Float32Array(out * r));
        }
    } else {
      for (const w of randomWeights(config, rng.fork('weights'))) params.set(w.name, w.data);
    }
    const computer = await createGradComputer({
      modelSource: dir,
      adapter: o.mode === 'lora' ? { config: loraConfig, names: [...params.keys()] } : undefined,
      mode: o.mode,
      objective: 'sft',
      objectiveOptions: {},
      workers: resolveWorkers(o.workers),
      backend: o.backend,
    });
    try {
      const adam = new AdamW(params);
      await computer.setTrainable(params);
      const stepSeconds: number[] = [];
      const losses: number[] = [];
      let cpuMicros = 0;
      for (let step = 0; step < o.warmup + o.steps; step++) {
        const batch = randomBatch(config.vocabSize, o.batch, o.seq, seed * 1000 + step + 1);
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const res = await computer.compute(batch);
        adam.apply(params, res.grads, 1e-4);
        await computer.setTrainable(params);
        const sec = (performance.now() - t0) / 1000;
        const warm = step < o.warmup;
        const cpu = process.cpuUsage(c0);
        if (!warm) {
          stepSeconds.push(sec);
          cpuMicros += cpu.user + cpu.system;
        }
        losses.push(res.loss);
        o.onStep?.(step, sec, res.loss, warm);
      }
      const secondsPerStep = stepSeconds.reduce((a, b) => a + b, 0) / Math.max(1, stepSeconds.length);
      const flopsPerStep = trainStepFlops(config, o.batch, o.seq, o.mode, r);
      const cpuSecondsPerStep = cpuMicros / 1e6 / Math.max(1, stepSeconds.length);
      return {
        tokensPerSecond: (o.batch * o.seq) / secondsPerStep,
        gflops: flopsPerStep / secondsPerStep / 1e9,
        backend: computer.backend,
        matmul: computer.matmul,
        workers: computer.workers,
        secondsPerStep,
        cpuSecondsPerStep,
        tokensPerCpuSecond: (o.batch * o.seq) / cpuSecondsPerStep,
        stepSeconds,
        flopsPerStep,
        trainableParameters: [...params.values()].reduce((a, p) => a + p.length, 0),
        mode: o.mode,
        batch: o.batch,
        seq: o.seq,
        steps: o.steps,
        warmup: o.warmup,
        losses,
      };
    } finally {
      await computer.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
