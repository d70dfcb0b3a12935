// createGradComputer (docs/ARCHITECTURE.md, "Gradients and data parallelism"): one micro-batch's
// gradients over the trainable parameters, in-process (workers: 1) or split by rows over N worker
// threads, each with its own backend and model copy. Shard results are averaged weighted by each shard's
// weight sum (DPO: its pairs), so 1 and N workers agree within float tolerance.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../util/worker.js';
import { batchWeight, sliceRows, type MicroBatch } from '../types.js';
import { LocalGradComputer } from './local.js';
import type { GradComputer, GradComputerSpec, GradResult } from './types.js';

export type { GradComputer, GradComputerSpec, GradResult } from './types.js';

/** Messages to a train worker, and its replies (one request in flight per worker). */
export type WorkerRequest =
  | { type: 'init'; spec: GradComputerSpec }
  | { type: 'setTrainable'; params: [string, Float32Array][] }
  | { type: 'compute'; batch: MicroBatch }
  | { type: 'dispose' };
export type WorkerReply =
  | { type: 'ready'; backend: string; matmul: string }
  | { type: 'ok' }
  | { type: 'result'; loss: number; grads: [string, Float32Array][]; metrics: Record<string, number>; tokens: number }
  | { type: 'error'; message: string };

export function resolveWorkers(workers: number): number {
  return workers > 0 ? Math.floor(workers) : Math.max(1, availableParallelism());
}

export async function createGradComputer(spec: GradComputerSpec): Promise<GradComputer> {
  const n = resolveWorkers(spec.workers);
  if (n === 1) return LocalGradComputer.create(spec);
  return ThreadedGradComputer.create(spec, n);
}

/** Contiguous row ranges for up to n shards (DPO keeps chosen/rejected pairs together). */
export function shardRows(batch: MicroBatch, n: number): [number, number][] {
  const unit = batch.kind === 'dpo' ? 2 : 1;
  const units = batch.batch / unit;
  const shards = Math.max(1, Math.min(n, units));
  const out: [number, number][] = [];
  for (let i = 0; i < shards; i++) {
    const from = Math.floor((i * units) / shards) * unit;
    const to = Math.floor(((i + 1) * units) / shards) * unit;
    out.push([from, to]);
  }
  return out;
}

/** Weighted average of shard results; weights are the shards' weight sums (equal when all are zero). */
export function combineShards(results: GradResult[], weights: number[]): GradResult {
  const total = weights.reduce((a, b) => a + b, 0);
  const w = total > 0 ? weights.map((x) => x / total) : weights.map(() => 1 / weights.length);
  const grads = new Map<string, Float32Array>();
  for (const name of results[0]!.grads.keys()) {
    const acc = new Float32Array(results[0]!.grads.get(name)!.length);
    results.forEach((r, i) => {
      const g = r.grads.get(name)!;
      const wi = w[i]!;
      for (let j = 0; j < acc.length; j++) acc[j]! += wi * g[j]!;
    });
    grads.set(name, acc);
  }
  const metrics: Record<string, number> = {};
  for (const key of Object.keys(results[0]!.metrics)) metrics[key] = results.reduce((s, r, i) => s + w[i]! * (r.metrics[key] ?? 0), 0);
  return {
    loss: results.reduce((s, r, i) => s + w[i]! * r.loss, 0),
    grads,
    metrics,
    tokens: results.reduce((s, r) => s + r.tokens, 0),
  };
}

class TrainWorker {
  private pending: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(
    readonly index: number,
    private readonly worker: Worker,
  ) {
    worker.on('message', (reply: WorkerReply) => {
      const p = this.pending;
      this.pending = null;
      if (!p) return;
      if (reply.type === 'error') p.reject(new Error(`train worker ${index}: ${reply.message}`));
      else p.resolve(reply);
    });
    const fail = (e: Error) => {
      this.failure = e;
      this.pending?.reject(e);
      this.pending = null;
    };
    worker.on('error', (e) => fail(new Error(`train worker ${index} crashed: ${e.message}`)));
    worker.on('exit', (code) => fail(new Error(`train worker ${index} exited (code ${code})`)));
  }

  request(msg: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new Error(`train worker ${this.index}: a request is already in flight`));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(msg, transfer);
    });
  }

  async terminate(): Promise<void> {
    this.failure = new Error(`train worker ${this.index} was disposed`);
    await this.worker.terminate();
  }
}

class ThreadedGradComputer implements GradComputer {
  private constructor(
    private readonly pool: TrainWorker[],
    readonly backend: string,
    readonly matmul: string,
  ) {}

  get workers(): number {
    return this.pool.length;
  }

  static async create(spec: GradComputerSpec, n: number): Promise<ThreadedGradComputer> {
    const pool = Array.from({ length: n }, (_, i) => new TrainWorker(i, startWorker('train')));
    try {
      const replies = await Promise.all(pool.map((w) => w.request({ type: 'init', spec: { ...spec, workers: 1 } })));
      const first = replies[0]!;
      return first.type === 'ready' ? new ThreadedGradComputer(pool, first.backend, first.matmul) : new ThreadedGradComputer(pool, 'unknown', 'unknown');
    } catch (e) {
      await Promise.all(pool.map((w) => w.terminate()));
      throw e;
    }
  }

  async setTrainable(params: Map<string, Float32Array>): Promise<void> {
    const entries = [...params];
    await Promise.all(this.pool.map((w) => w.request({ type: 'setTrainable', params: entries })));
  }

  async compute(batch: MicroBatch): Promise<GradResult> {
    const ranges = shardRows(batch, this.pool.length);
    const shards = ranges.map(([a, b]) => sliceRows(batch, a, b));
    const replies = await Promise.all(shards.map((s, i) => this.pool[i]!.request({ type: 'compute', batch: s })));
    const results = replies.map((r): GradResult => {
      if (r.type !== 'result') throw new Error(`train worker: unexpected reply ${r.type}`);
      return { loss: r.loss, grads: new Map(r.grads), metrics: r.metrics, tokens: r.tokens };
    });
    return results.length === 1 ? results[0]! : combineShards(results, shards.map(batchWeight));
  }

  async dispose(): Promise<void> {
    await Promise.all(this.pool.map((w) => w.terminate()));
  }
}
