// Direct preference optimisation: a fresh LoRA on top of the SFT model (its adapter merged into the
// base first), the merged SFT model as the frozen reference. Reference log-probs are computed once,
// cached in the run folder, and passed in every batch, so the reference model need not stay in memory.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Config } from '../config/index.js';
import { loadModel, resolveModelDir, saveModel } from '../model/load.js';
import { loadAdapter, mergeAdapter } from '../model/lora.js';
import type { Qwen2Model } from '../model/qwen2.js';
import { loadTokenizer, type Tokenizer } from '../model/tokenizer.js';
import { sha256, sha256File, stableStringify } from '../util/hash.js';
import { parseJsonl, readTextFile, toJsonl } from '../util/jsonl.js';
import { boundPairRow } from './bound.js';
import { writeFileAtomic } from './checkpoint.js';
import { collateDpo, tokenizePairRow, truncationReport, type PairRow, type TokenizedPair, type TokenLimits } from './collate.js';
import { onPolicyPairs, type PairSource } from './onpolicy.js';
import { loopSettings, planSteps, trainLoop, type LoopResult } from './loop.js';
import { sequenceLogProbs } from './objectives.js';
import type { RunFolder } from './runfolder.js';
import { copyTokenizerFiles, engineComputer, loopBindings, makeTrainable, type Trainable } from './session.js';
import { dataHash, inRunFolder, type TrainRunOptions, type TrainRunResult } from './sft.js';

export interface DpoRunOptions extends TrainRunOptions {
  /** The SFT adapter folder (PEFT) to merge into the base model; omit when the model already is the SFT model. */
  sftAdapter?: string;
}

export interface DpoRunResult extends TrainRunResult {
  /** The model the DPO adapter applies to (the base with the SFT adapter merged). */
  baseModel: string;
}

/** Summed response log-probs of chosen and rejected under `model` without an adapter, in pair order. */
export function referenceLogProbs(model: Qwen2Model, pairs: readonly TokenizedPair[], padId: number, batchPairs: number): { chosen: Float32Array; rejected: Float32Array } {
  const chosen = new Float32Array(pairs.length);
  const rejected = new Float32Array(pairs.length);
  for (let start = 0; start < pairs.length; start += batchPairs) {
    const group = pairs.slice(start, start + batchPairs);
    const batch = collateDpo(group, new Float32Array(group.length), new Float32Array(group.length), padId, 0);
    const lp = tf.tidy(() => sequenceLogProbs(model, null, batch, false)); // [2*pairs], interleaved
    const values = lp.dataSync();
    lp.dispose();
    group.forEach((_, i) => {
      chosen[start + i] = values[2 * i]!;
      rejected[start + i] = values[2 * i + 1]!;
    });
  }
  return { chosen, rejected };
}

/** Pair rows from a JSONL file (errors name file:line) or from memory, each with an id. */
function readPairRows(data: string | readonly unknown[]): (PairSource & { line?: number })[] {
  if (typeof data !== 'string') return data.map((row, i) => ({ ...(row as PairRow), id: typeof (row as PairRow).id === 'string' ? (row as PairRow).id! : `pair ${i + 1}` }));
  let text: string;
  try {
    text = readTextFile(data);
  } catch (e) {
    throw new Error(`${data}: cannot read preference pairs (${(e as Error).message})`);
  }
  return parseJsonl<PairRow>(text, data).map((r) => {
    if (r.error) throw r.error;
    if (!r.value || typeof r.value !== 'object' || !Array.isArray(r.value.prompt) || !Array.isArray(r.value.chosen) || !Array.isArray(r.value.rejected))
      throw new Error(`${data}:${r.line}: bad example: a preference row needs prompt, chosen and rejected message lists`);
    return { ...r.value, id: typeof r.value.id === 'string' ? r.value.id : `${data}:${r.line}`, line: r.line };
  });
}

/** Execution feedback: strict format, code that runs in the sandbox, and the right final answer. */
function executionVerifier(timeoutMs: number): (src: PairSource, response: string) => Promise<boolean> {
  return async (src, response) => {
    if (src.groundTruth === undefined) return false;
    const [{ scoreResponse }, { defaultSandbox }] = await Promise.all([import('../eval/verdicts.js'), import('../sandbox/index.js')]);
    const item = { id: src.id, prompt: src.prompt, family: src.family ?? 'unknown', ood: false, groundTruth: src.groundTruth, kind: 'trace' as const };
    const v = await scoreResponse(item, response, { sandbox: defaultSandbox(), timeoutMs });
    return v.strict && v.codeRuns === true && v.finalCorrect === true;
  };
}

/** Replaces the offline pairs with on-policy ones (cached in the run folder, so a resume samples nothing). */
async function onPolicyRows(config: Config, model: Qwen2Model, tokenizer: Tokenizer, rows: PairSource[], opts: DpoRunOptions, dir: string, log: (m: string) => void): Promise<PairSource[]> {
  const file = join(dir, 'on-policy-pairs.jsonl');
  const key = sha256(stableStringify({ seed: config.seed, model: config.model.source, samples: config.dpo.onPolicySamples, eval: config.eval, sftAdapter: opts.sftAdapter ? sha256File(join(opts.sftAdapter, 'adapter_model.safetensors')) : null, data: dataHash(opts.data) })).slice(0, 16);
  const keyFile = `${file}.key`;
  if (opts.resume && existsSync(file) && existsSync(keyFile) && readFileSync(keyFile, 'utf8').trim() === key) return readPairRows(file);
  const t0 = performance.now();
  const { pairs, report } = await onPolicyPairs(model, tokenizer, rows, {
    samples: config.dpo.onPolicySamples,
    temperature: config.eval.temperature > 0 ? config.eval.temperature : 0.8,
    topP: config.eval.topP < 1 ? config.eval.topP : 0.95,
    maxNewTokens: config.eval.maxNewTokens,
    seed: config.seed,
    verify: executionVerifier(config.eval.sandboxTimeoutMs),
    onProgress: (done, total) => (done % 10 === 0 || done === total) && log(`dpo: on-policy sampling ${done}/${total}`),
  });
  writeFileAtomic(file, toJsonl(pairs));
  writeFileAtomic(keyFile, key + '\n');
  writeFileAtomic(join(dir, 'on-policy-report.json'), JSON.stringify(report, null, 2) + '\n');
  log(
    `dpo: on-policy pairs in ${((performance.now() - t0) / 1000).toFixed(0)} s: ${report.sampled} sampled, ${report.offlineChosen} with the offline chosen, ` +
      `${report.offlinePair} offline; ${report.samplesCorrect}/${report.samplesTotal} samples verified correct`,
  );
  return pairs;
}

/** Tokenizes pair rows; errors name the file and line (or the pair's index when rows were sampled). */
function tokenizePairs(tokenizer: Tokenizer, rows: readonly (PairSource & { line?: number })[], limits: TokenLimits, file: string | null): TokenizedPair[] {
  return rows.map((row, i) => {
    try {
      return tokenizePairRow(tokenizer, boundPairRow(tokenizer, row, limits), limits, row.id);
    } catch (e) {
      const where = file && row.line !== undefined ? `${file}:${row.line}` : `pair ${i + 1}`;
      throw new Error(`${where} (id ${row.id}): bad example: ${(e as Error).message}`);
    }
  });
}

/**
 * The model DPO trains on and compares with: the base with the SFT adapter merged in (saved under
 * base-model/ so workers can load it, rewritten only when the adapter's content changed), or the base itself.
 */
async function mergedBase(config: Config, model: Qwen2Model, modelDir: string, run: RunFolder, opts: DpoRunOptions, log: (m: string) => void): Promise<{ baseModel: string; sftHash: string | null }> {
  if (!opts.sftAdapter) return { baseModel: config.model.source, sftHash: null };
  // By content, so a retrained SFT adapter at the same path invalidates the merged model and caches.
  const sftHash = sha256File(join(opts.sftAdapter, 'adapter_model.safetensors')).slice(0, 16);
  const sft = loadAdapter(opts.sftAdapter, model);
  mergeAdapter(model, sft);
  sft.dispose();
  const baseModel = join(opts.out, 'base-model');
  const stamp = JSON.stringify({ source: config.model.source, sftAdapter: sftHash });
  const stampFile = join(baseModel, 'unitrace-merge.json');
  if (!(existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp)) {
    await run.writeFolderAtomic('base-model', (d) => {
      saveModel(model, d);
      copyTokenizerFiles(modelDir, d);
      writeFileSync(join(d, 'unitrace-merge.json'), stamp);
    });
    log(`dpo: merged ${opts.sftAdapter} into ${config.model.source} -> ${baseModel}`);
  }
  return { baseModel, sftHash };
}

/** Reference log-probs of every pair, cached in the run folder under the run's fingerprint. */
function cachedReference(model: Qwen2Model, pairs: readonly TokenizedPair[], padId: number, batchPairs: number, dir: string, fingerprint: string, log: (m: string) => void): { chosen: Float32Array; rejected: Float32Array } {
  const refFile = join(dir, 'reference-logps.json');
  const cached = existsSync(refFile) ? (JSON.parse(readFileSync(refFile, 'utf8')) as { fingerprint: string; chosen: number[]; rejected: number[] }) : null;
  if (cached && cached.fingerprint === fingerprint && cached.chosen.length === pairs.length) return { chosen: Float32Array.from(cached.chosen), rejected: Float32Array.from(cached.rejected) };
  const t0 = performance.now();
  const ref = referenceLogProbs(model, pairs, padId, Math.max(1, batchPairs));
  writeFileAtomic(refFile, JSON.stringify({ fingerprint, chosen: Array.from(ref.chosen), rejected: Array.from(ref.rejected) }) + '\n');
  log(`dpo: reference log-probs for ${pairs.length} pairs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return ref;
}

/** DPO in named steps: read and tokenize pairs, merge the SFT model, (sample on-policy pairs,) reference log-probs, train. */
export const runDpo = (config: Config, opts: DpoRunOptions): Promise<DpoRunResult> => inRunFolder(opts, (run) => dpoInFolder(run, config, opts));

async function dpoInFolder(run: RunFolder, config: Config, opts: DpoRunOptions): Promise<DpoRunResult> {
  const dpo = config.dpo;
  const log = opts.onLog ?? (() => {});
  // Data first: a malformed row should fail before any model is loaded.
  let rows = readPairRows(opts.data);
  const limits = { maxPromptTokens: dpo.maxPromptTokens, maxResponseTokens: dpo.maxResponseTokens };
  const dir = resolveModelDir(config.model.source);
  const tokenizer = loadTokenizer(dir);
  const file = typeof opts.data === 'string' ? opts.data : null;
  let pairs = tokenizePairs(tokenizer, rows, limits, file);
  if (pairs.length === 0) throw new Error(`${file ? `${file}: ` : ''}no preference pairs (the file has no record)`);

  const model = await loadModel(config.model.source, { backend: config.engine.backend });
  let trainable: Trainable | null = null;
  try {
    const { baseModel, sftHash } = await mergedBase(config, model, dir, run, opts, log);
    trainable = makeTrainable(model, dir, 'lora', dpo.lora, config.seed, baseModel);
    if (dpo.onPolicy) {
      rows = await onPolicyRows(config, model, tokenizer, rows, opts, run.dir, log);
      pairs = tokenizePairs(tokenizer, rows, limits, null);
    }
    const truncation = truncationReport(pairs.flatMap((p) => [p.chosen, p.rejected]));
    const plan = planSteps(pairs.length, dpo.batchSize, dpo.gradAccum, dpo.epochs);
    log(`dpo: ${pairs.length} pairs, ${truncation.tokens} tokens/epoch, ${plan.totalSteps} steps, loss ${dpo.loss}, beta ${dpo.beta}`);
    run.writeJson('config.json', config);
    const fingerprint = sha256(stableStringify({ stage: 'dpo', dpo, limits, seed: config.seed, model: config.model.source, sftAdapter: sftHash, data: dataHash(opts.data) })).slice(0, 16);
    const ref = cachedReference(model, pairs, tokenizer.padId, dpo.batchSize, opts.out, fingerprint, log);
    // The reference pass and sampling are done: the engine holds its own copy of the base from here on.
    model.dispose();
    const result = await trainPairs(config, opts, trainable, baseModel, pairs, ref, tokenizer.padId, fingerprint, run);
    const out = { ...result, out: opts.out, result: join(opts.out, trainable.exportName), truncation, tokensPerEpoch: truncation.tokens, baseModel };
    run.writeJson('summary.json', { stage: 'dpo', ...out, lastRow: result.lastRow });
    if (result.finished) log(`dpo: done, ${result.steps} steps, margin ${result.lastRow?.['rewards/margins']?.toFixed(4)}; adapter ${out.result} on ${baseModel}`);
    return out;
  } finally {
    trainable?.adapter?.dispose();
    model.dispose();
  }
}

/** The optimizer loop over the pairs, with the reference log-probs riding along in every batch. */
async function trainPairs(
  config: Config,
  opts: DpoRunOptions,
  trainable: Trainable,
  baseModel: string,
  pairs: readonly TokenizedPair[],
  ref: { chosen: Float32Array; rejected: Float32Array },
  padId: number,
  fingerprint: string,
  run: RunFolder,
): Promise<LoopResult> {
  const dpo = config.dpo;
  const computer = await (opts.computer ?? engineComputer)({
    modelSource: baseModel,
    adapter: { config: dpo.lora, names: [...trainable.params.keys()] },
    mode: 'lora',
    objective: 'dpo',
    objectiveOptions: { beta: dpo.beta, loss: dpo.loss, labelSmoothing: dpo.labelSmoothing },
    workers: config.engine.workers,
    backend: config.engine.backend,
  });
  try {
    return await trainLoop({
      run,
      fingerprint,
      seed: config.seed,
      ...loopSettings(dpo),
      lengths: pairs.map((p) => Math.max(p.chosen.ids.length, p.rejected.ids.length)),
      makeBatch: (indices, seed) =>
        collateDpo(
          indices.map((i) => pairs[i]!),
          Float32Array.from(indices, (i) => ref.chosen[i]!),
          Float32Array.from(indices, (i) => ref.rejected[i]!),
          padId,
          seed,
        ),
      computer,
      ...loopBindings(trainable, opts),
    });
  } finally {
    await computer.dispose();
  }
}
