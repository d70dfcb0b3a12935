// Supervised fine-tuning: LoRA (or full) training on chat examples, loss on the assistant responses.
import type { Config } from '../config/index.js';
import { sha256, sha256File, stableStringify } from '../util/hash.js';
import { collateSft, loadRows, tokenizeSftRow, truncationReport, type SftRow, type TokenizedSequence, type TruncationReport } from './collate.js';
import { boundSftRow } from './bound.js';
import { loopSettings, planSteps, trainLoop, type LoopResult } from './loop.js';
import { RunFolder, type MetricsRow } from './runfolder.js';
import { loadModel, resolveModelDir } from '../model/load.js';
import { loadTokenizer } from '../model/tokenizer.js';
import type { GradComputer } from './grad/types.js';
import { engineComputer, loopBindings, makeTrainable, type ComputerFactory, type Trainable } from './session.js';

export interface TrainRunOptions {
  /** Training data: a JSONL file, or rows already in memory. */
  data: string | readonly unknown[];
  /** The stage's run folder, e.g. runs/demo/sft-unified. */
  out: string;
  /** Continue from the newest checkpoint in `out` (a fresh start when there is none). */
  resume?: boolean;
  /** Replace an earlier run in `out` (otherwise an earlier run there is an error). */
  overwrite?: boolean;
  onStep?(row: MetricsRow, progress: { totalSteps: number; etaSeconds: number }): void;
  /** One-line notes: what was loaded, truncation, where results went. */
  onLog?(message: string): void;
  /** Gradient computer; default the engine's createGradComputer. */
  computer?: ComputerFactory;
  /** Stop after this many optimizer steps (the run stays resumable). */
  maxSteps?: number;
  /** Aborting stops after the current step, with a checkpoint to resume from. */
  signal?: AbortSignal;
}

export interface TrainRunResult extends LoopResult {
  out: string;
  /** The final adapter (LoRA) or model folder (full), present when the run finished. */
  result: string;
  truncation: TruncationReport;
  tokensPerEpoch: number;
}

/** Tokenizes rows given in memory the way loadRows does for a file. */
function tokenizeAll<T>(data: string | readonly unknown[], tokenize: (row: T, id: string) => unknown): unknown[] {
  if (typeof data === 'string') return loadRows<T>(data, tokenize as never);
  if (data.length === 0) throw new Error('no training examples');
  return data.map((row, i) => {
    const id = typeof (row as { id?: unknown }).id === 'string' ? (row as { id: string }).id : `row ${i + 1}`;
    try {
      return tokenize(row as T, id);
    } catch (e) {
      throw new Error(`example ${i + 1} (id ${id}): bad example: ${(e as Error).message}`);
    }
  });
}

export const dataHash = (data: string | readonly unknown[]): string => (typeof data === 'string' ? sha256File(data) : sha256(stableStringify(data)));

/**
 * Runs `work` in the run folder `opts.out`, locked for this process for the whole run (a folder another live
 * process uses is refused, naming it); the lock is released however `work` ends.
 */
export async function inRunFolder<T>(opts: Pick<TrainRunOptions, 'out' | 'resume' | 'overwrite' | 'onLog'>, work: (run: RunFolder) => Promise<T>): Promise<T> {
  const run = new RunFolder(opts.out);
  const lock = run.lock();
  try {
    if (lock.tookOverFrom) opts.onLog?.(`${opts.out}: taking over the lock of pid ${lock.tookOverFrom.pid} (started ${lock.tookOverFrom.started}), which is no longer running`);
    if (run.hasRun() && !opts.resume && !opts.overwrite) {
      throw new Error(`${opts.out} already holds a training run: pass --resume to continue it or --overwrite to replace it`);
    }
    return await work(run);
  } finally {
    run.unlock();
  }
}

export const runSft = (config: Config, opts: TrainRunOptions): Promise<TrainRunResult> => inRunFolder(opts, (run) => sftInFolder(run, config, opts));

async function sftInFolder(run: RunFolder, config: Config, opts: TrainRunOptions): Promise<TrainRunResult> {
  const sft = config.sft;
  const log = opts.onLog ?? (() => {});
  // Data first: a bad example should fail before any model is loaded.
  const dir = resolveModelDir(config.model.source);
  const tokenizer = loadTokenizer(dir);
  const limits = { maxPromptTokens: sft.maxPromptTokens, maxResponseTokens: sft.maxResponseTokens };
  const seqs = tokenizeAll<SftRow>(opts.data, (row, id) => tokenizeSftRow(tokenizer, boundSftRow(tokenizer, row, limits), limits, id)) as TokenizedSequence[];
  const truncation = truncationReport(seqs);
  const plan = planSteps(seqs.length, sft.batchSize, sft.gradAccum, sft.epochs);
  log(
    `sft: ${seqs.length} examples, ${truncation.tokens} tokens/epoch (${truncation.responseTokens} trained), ` +
      `${plan.totalSteps} steps (${plan.stepsPerEpoch}/epoch), ${sft.mode}` +
      (truncation.promptTruncated || truncation.responseTruncated ? `; truncated: ${truncation.promptTruncated} prompts, ${truncation.responseTruncated} responses` : ''),
  );

  const model = await loadModel(config.model.source, { backend: config.engine.backend });
  let trainable: Trainable | null = null;
  let computer: GradComputer | null = null;
  try {
    trainable = makeTrainable(model, dir, sft.mode, sft.lora, config.seed, config.model.source);
    // LoRA needs the base only for the adapter's shapes; the engine holds its own copy.
    if (trainable.mode === 'lora') model.dispose();
    computer = await (opts.computer ?? engineComputer)({
      modelSource: config.model.source,
      adapter: trainable.adapter ? { config: sft.lora, names: [...trainable.params.keys()] } : undefined,
      mode: sft.mode,
      objective: 'sft',
      objectiveOptions: {},
      workers: config.engine.workers,
      backend: config.engine.backend,
    });
    run.writeJson('config.json', config);
    const fingerprint = sha256(stableStringify({ stage: 'sft', sft, seed: config.seed, model: config.model.source, data: dataHash(opts.data) })).slice(0, 16);
    const result = await trainLoop({
      run,
      fingerprint,
      seed: config.seed,
      ...loopSettings(sft),
      lengths: seqs.map((s) => s.ids.length),
      makeBatch: (indices, seed) => collateSft(indices.map((i) => seqs[i]!), tokenizer.padId, seed),
      computer,
      ...loopBindings(trainable, opts),
    });
    const out = { ...result, out: opts.out, result: `${opts.out}/${trainable.exportName}`, truncation, tokensPerEpoch: truncation.tokens };
    run.writeJson('summary.json', { stage: 'sft', ...out, lastRow: result.lastRow });
    if (result.finished) log(`sft: done, ${result.steps} steps, final loss ${result.lastRow?.loss.toFixed(4)}; ${out.result}`);
    return out;
  } finally {
    await computer?.dispose();
    trainable?.adapter?.dispose();
    model.dispose();
  }
}
