// Generation and scoring for one model (evaluateModel) and for every model of a run (evaluateRun):
// the base model as the reference, the three SFT runs and unified + DPO, judged against the reference.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirs } from '../util/files.js';
import type { Config } from '../config/index.js';
import type { LoraAdapter } from '../model/lora.js';
import type { Qwen2Model } from '../model/qwen2.js';
import type { Tokenizer } from '../model/tokenizer.js';
import type { CodeSandbox } from '../sandbox/types.js';
import { sha256, sha256File, stableStringify } from '../util/hash.js';
import { claudeClientFor } from './judge/client.js';
import { createJudge, judgeResponses, type ChatClient, type JudgeChoice } from './judge/index.js';
import { readEvalItems } from './items.js';
import type { ScoredResponse } from './metrics.js';
import { buildSummary, modelEntry, scoreOutputs, writeResponses, writeSummary, type Decoding, type EvalSummary } from './results.js';
import type { EvalItem } from './types.js';

export const EVAL_MODELS = ['reference', 'sft-original', 'sft-cot', 'sft-unified', 'sft-unified-dpo'] as const;
export type EvalModelName = (typeof EVAL_MODELS)[number];

export interface EvalProgress {
  model: string;
  stage: 'load' | 'generate' | 'score' | 'judge' | 'done' | 'skip';
  done: number;
  total: number;
  message?: string;
}

export interface Generated {
  id: string;
  text: string;
  tokens: number;
  finishReason: string;
}

export interface EvaluateModelOptions {
  model: Qwen2Model;
  adapter?: LoraAdapter | null;
  tokenizer: Tokenizer;
  items: readonly EvalItem[];
  config: Config;
  /** Name used in progress events. */
  name?: string;
  /** Runs the code sections; evaluateModel opens (and closes) its own pool when omitted. */
  sandbox?: CodeSandbox;
  onProgress?: (e: EvalProgress) => void;
}

export interface EvaluateModelResult {
  rows: ScoredResponse[];
  generations: Generated[];
  decoding: Decoding;
}

export function decodingOf(config: Config): Decoding {
  return { maxNewTokens: config.eval.maxNewTokens, temperature: config.eval.temperature, topP: config.eval.topP, seed: config.seed, batchSize: config.eval.batchSize };
}

/** Generates a response to every item with the model's generate(), then scores each one. */
export async function evaluateModel(opts: EvaluateModelOptions): Promise<EvaluateModelResult> {
  const name = opts.name ?? 'model';
  const decoding = decodingOf(opts.config);
  const generations = await generateAll(opts, decoding, name);
  const rows = await scoreGenerations(opts.items, generations, opts.config, { name, sandbox: opts.sandbox, onProgress: opts.onProgress });
  return { rows, generations, decoding };
}

/** Scores generated texts (code run in the sandbox; a pool is opened and closed here when none is given). */
export async function scoreGenerations(
  items: readonly EvalItem[],
  generations: readonly Generated[],
  config: Config,
  opts: { name: string; sandbox?: CodeSandbox; onProgress?: (e: EvalProgress) => void },
): Promise<ScoredResponse[]> {
  const byId = new Map(generations.map((g) => [g.id, g]));
  const outputs = items.map((item) => {
    const g = byId.get(item.id);
    if (!g) throw new Error(`evaluate ${opts.name}: no generation for item ${item.id}`);
    return { item, response: g.text, tokens: g.tokens, finishReason: g.finishReason };
  });
  const ownPool = opts.sandbox ? null : (await import('../sandbox/pool.js')).createSandboxPool({ timeoutMs: config.eval.sandboxTimeoutMs });
  try {
    return await scoreOutputs(outputs, {
      sandbox: opts.sandbox ?? ownPool!,
      timeoutMs: config.eval.sandboxTimeoutMs,
      onProgress: (done, total) => opts.onProgress?.({ model: opts.name, stage: 'score', done, total }),
    });
  } finally {
    await ownPool?.close();
  }
}

async function generateAll(opts: EvaluateModelOptions, decoding: Decoding, name: string): Promise<Generated[]> {
  const { generate, promptIds } = await import('../model/generate.js');
  const batchSize = decoding.batchSize;
  // Shortest prompts first, so each batch pads little; results go back to item order.
  const order = opts.items
    .map((item, i) => ({ i, ids: promptIds(opts.tokenizer, item.prompt) }))
    .sort((a, b) => a.ids.length - b.ids.length || a.i - b.i);
  const out: Generated[] = new Array(opts.items.length);
  opts.onProgress?.({ model: name, stage: 'generate', done: 0, total: order.length });
  for (let start = 0; start < order.length; start += batchSize) {
    const chunk = order.slice(start, start + batchSize);
    const gens = await generate(
      opts.model,
      opts.tokenizer,
      chunk.map((c) => c.ids),
      {
        maxNewTokens: decoding.maxNewTokens,
        temperature: decoding.temperature,
        topP: decoding.topP,
        // One stream per batch, so sampling does not depend on what other batches generated.
        seed: decoding.seed + start,
        batchSize,
        ...(opts.adapter ? { lora: opts.adapter } : {}),
      },
    );
    gens.forEach((g, k) => {
      const { i } = chunk[k]!;
      out[i] = { id: opts.items[i]!.id, text: g.text, tokens: g.ids.length, finishReason: g.finishReason };
    });
    opts.onProgress?.({ model: name, stage: 'generate', done: Math.min(start + batchSize, order.length), total: order.length });
  }
  return out;
}

/** How each model of a run is built: a base folder, an adapter to merge first, an adapter to apply. */
export interface ModelSpec {
  name: EvalModelName;
  /** Model folder (or 'embedded'). */
  base: string;
  /** Merged into the base before `adapter` is applied (DPO trains on the merged SFT model). */
  mergeFirst: string | null;
  adapter: string | null;
  /** Why the model cannot be evaluated (a stage has not run), else null. */
  missing: string | null;
}

/** Adapter folders follow the training contract: runs/<name>/<stage>/adapter (or model/ for full fine-tuning). */
export function modelSpecs(config: Config, runDir: string): ModelSpec[] {
  const stage = (s: string): { base: string; adapter: string | null; missing: string | null } => {
    const adapter = join(runDir, s, 'adapter');
    const full = join(runDir, s, 'model');
    if (existsSync(join(adapter, 'adapter_config.json'))) return { base: config.model.source, adapter, missing: null };
    if (existsSync(join(full, 'config.json'))) return { base: full, adapter: null, missing: null };
    return { base: config.model.source, adapter: null, missing: `no adapter in ${adapter} (stage ${s} has not finished)` };
  };
  const specs: ModelSpec[] = [{ name: 'reference', base: config.model.source, mergeFirst: null, adapter: null, missing: null }];
  for (const s of ['sft-original', 'sft-cot', 'sft-unified'] as const) specs.push({ name: s, mergeFirst: null, ...stage(s) });
  const unified = stage('sft-unified');
  const dpo = stage('dpo');
  specs.push({
    name: 'sft-unified-dpo',
    base: unified.adapter ? config.model.source : unified.base,
    mergeFirst: unified.adapter,
    adapter: dpo.adapter,
    missing: unified.missing ?? dpo.missing ?? (dpo.adapter ? null : 'the dpo stage trained a full model; evaluate it with unitrace eval --model'),
  });
  return specs;
}

export interface EvaluateRunOptions {
  /** Models to evaluate (default: all five); the reference is always evaluated too. */
  models?: readonly EvalModelName[];
  /** Eval items (default: <runDir>/data/eval.jsonl). */
  itemsFile?: string;
  env?: NodeJS.ProcessEnv;
  /** The Claude client for the judge (default: the cached SDK client); only built when Claude judges. */
  makeClient?: () => ChatClient | Promise<ChatClient>;
  onProgress?: (e: EvalProgress) => void;
  log?: (line: string) => void;
}

/**
 * Evaluates every model of a run on its held-out set and writes <runDir>/eval/<model>/responses.jsonl and
 * <runDir>/eval/summary.json. Generations are kept per model with a fingerprint of the model, adapter,
 * items and decoding, so an interrupted evaluation resumes without generating twice.
 */
export async function evaluateRun(config: Config, runDir: string, opts: EvaluateRunOptions = {}): Promise<EvalSummary> {
  const log = opts.log ?? (() => {});
  const itemsFile = opts.itemsFile ?? join(runDir, 'data', 'eval.jsonl');
  if (!existsSync(itemsFile)) throw new Error(`evaluate: no eval set at ${itemsFile} (run the data stage first)`);
  const items = readEvalItems(itemsFile);
  const evalDir = join(runDir, 'eval');
  // The reference is always included: win rates are against it (its generations are reused when cached).
  const wanted = new Set<EvalModelName>(['reference', ...(opts.models ?? EVAL_MODELS)]);
  const specs = modelSpecs(config, runDir).filter((s) => wanted.has(s.name));
  const decoding = decodingOf(config);
  const choice: JudgeChoice = await createJudge(config.eval.judge, {
    model: config.eval.judgeModel,
    env: opts.env,
    makeClient: opts.makeClient ?? (() => claudeClientFor(config)),
  });
  log(`evaluate: ${items.length} items, judge ${choice.info.name}, models ${specs.map((s) => s.name).join(', ')}`);

  const { loadModelAndTokenizer, resolveModelDir } = await import('../model/load.js');
  const { loadAdapter, mergeAdapter } = await import('../model/lora.js');
  const { createSandboxPool } = await import('../sandbox/pool.js');
  const sandbox = createSandboxPool({ timeoutMs: config.eval.sandboxTimeoutMs });
  const results = new Map<EvalModelName, { rows: ScoredResponse[]; spec: ModelSpec }>();
  const skipped: Record<string, string> = {};
  let loaded: { key: string; model: Qwen2Model; tokenizer: Tokenizer } | null = null;
  try {
    for (const spec of specs) {
      if (spec.missing) {
        skipped[spec.name] = spec.missing;
        opts.onProgress?.({ model: spec.name, stage: 'skip', done: 0, total: 0, message: spec.missing });
        log(`evaluate ${spec.name}: skipped, ${spec.missing}`);
        continue;
      }
      const fingerprint = sha256(
        stableStringify({
          base: spec.base,
          baseFiles: modelFilesStamp(resolveModelDir(spec.base)),
          mergeFirst: spec.mergeFirst && adapterHash(spec.mergeFirst),
          adapter: spec.adapter && adapterHash(spec.adapter),
          items: items.map((it) => [it.id, it.prompt]),
          decoding,
        }),
      ).slice(0, 16);
      const genFile = join(evalDir, spec.name, 'generations.json');
      let generations: Generated[] | undefined;
      if (existsSync(genFile)) {
        const saved = JSON.parse(readFileSync(genFile, 'utf8')) as { fingerprint: string; generations: Generated[] };
        if (saved.fingerprint === fingerprint) {
          generations = saved.generations;
          log(`evaluate ${spec.name}: reusing ${generations.length} generations from ${genFile}`);
        }
      }
      if (!generations) {
        // The base model stays loaded across models; a merge changes it, so it is reloaded after one.
        const key = `${spec.base}|${spec.mergeFirst ?? ''}`;
        if (!loaded || loaded.key !== key) {
          loaded?.model.dispose();
          loaded = null;
          opts.onProgress?.({ model: spec.name, stage: 'load', done: 0, total: 1, message: spec.base });
          const { model, tokenizer } = await loadModelAndTokenizer(spec.base, { backend: config.engine.backend });
          loaded = { key, model, tokenizer };
          if (spec.mergeFirst) {
            const first = loadAdapter(spec.mergeFirst, model);
            mergeAdapter(model, first);
            first.dispose();
          }
        }
        const adapter = spec.adapter ? loadAdapter(spec.adapter, loaded.model) : null;
        try {
          const result = await evaluateModel({ model: loaded.model, adapter, tokenizer: loaded.tokenizer, items, config, name: spec.name, sandbox, onProgress: opts.onProgress });
          generations = result.generations;
          makeDirs(join(evalDir, spec.name));
          writeFileSync(genFile, JSON.stringify({ fingerprint, decoding, generations }) + '\n');
          results.set(spec.name, { rows: result.rows, spec });
        } finally {
          adapter?.dispose();
        }
      } else {
        results.set(spec.name, { rows: await scoreGenerations(items, generations, config, { name: spec.name, sandbox, onProgress: opts.onProgress }), spec });
      }
      log(`evaluate ${spec.name}: ${items.length} responses scored`);
    }
  } finally {
    loaded?.model.dispose();
    await sandbox.close();
  }

  const reference = results.get('reference')?.rows ?? null;
  const models: EvalSummary['models'] = {};
  for (const [name, { rows, spec }] of results) {
    await judgeResponses({
      judge: choice.judge,
      items,
      rows,
      reference: name === 'reference' ? null : reference,
      seed: config.seed,
      model: name,
      concurrency: config.eval.judgeConcurrency,
      onProgress: (done, total) => opts.onProgress?.({ model: name, stage: 'judge', done, total }),
    });
    writeResponses(evalDir, name, rows);
    models[name] = modelEntry(rows, { adapter: spec.adapter, source: spec.base, judge: choice.info.name, resamples: config.eval.bootstrap, seed: config.seed });
    opts.onProgress?.({ model: name, stage: 'done', done: rows.length, total: rows.length });
  }
  const summary = buildSummary({
    judge: choice.info,
    decoding,
    seed: config.seed,
    resamples: config.eval.bootstrap,
    timeoutMs: config.eval.sandboxTimeoutMs,
    items,
    itemsFile,
    reference: reference ? 'reference' : null,
    models,
    skipped,
  });
  writeSummary(evalDir, summary);
  log(`evaluate: wrote ${join(evalDir, 'summary.json')}`);
  return summary;
}

/** Size and modification time of a model folder's weights: cheap, and changes when the model is retrained. */
function modelFilesStamp(dir: string): string {
  for (const f of ['model.safetensors', 'model.safetensors.index.json']) {
    const p = join(dir, f);
    if (existsSync(p)) {
      const st = statSync(p);
      return `${f}:${st.size}:${st.mtimeMs}`;
    }
  }
  return dir;
}

function adapterHash(dir: string): string {
  const weights = join(dir, 'adapter_model.safetensors');
  return sha256File(weights);
}

export interface EvaluateOneOptions {
  /** PEFT adapter folder applied to config.model.source; null for the model alone. */
  adapter: string | null;
  items: readonly EvalItem[];
  itemsFile?: string;
  /** Results go to <out>/<name>/responses.jsonl and <out>/summary.json. */
  out: string;
  name: string;
  env?: NodeJS.ProcessEnv;
  makeClient?: () => ChatClient | Promise<ChatClient>;
  onProgress?: (e: EvalProgress) => void;
  log?: (line: string) => void;
}

/** `unitrace eval --model`: one model (config.model.source, optionally with an adapter), judged without a reference. */
export async function evaluateOne(config: Config, opts: EvaluateOneOptions): Promise<EvalSummary> {
  const choice = await createJudge(config.eval.judge, { model: config.eval.judgeModel, env: opts.env, makeClient: opts.makeClient ?? (() => claudeClientFor(config)) });
  const { loadModelAndTokenizer } = await import('../model/load.js');
  const { loadAdapter } = await import('../model/lora.js');
  opts.onProgress?.({ model: opts.name, stage: 'load', done: 0, total: 1, message: config.model.source });
  const { model, tokenizer } = await loadModelAndTokenizer(config.model.source, { backend: config.engine.backend });
  let result: EvaluateModelResult;
  try {
    const adapter = opts.adapter ? loadAdapter(opts.adapter, model) : null;
    try {
      result = await evaluateModel({ model, adapter, tokenizer, items: opts.items, config, name: opts.name, onProgress: opts.onProgress });
    } finally {
      adapter?.dispose();
    }
  } finally {
    model.dispose();
  }
  await judgeResponses({
    judge: choice.judge,
    items: opts.items,
    rows: result.rows,
    reference: null,
    seed: config.seed,
    model: opts.name,
    concurrency: config.eval.judgeConcurrency,
    onProgress: (done, total) => opts.onProgress?.({ model: opts.name, stage: 'judge', done, total }),
  });
  writeResponses(opts.out, opts.name, result.rows);
  const models = {
    [opts.name]: modelEntry(result.rows, { adapter: opts.adapter, source: config.model.source, judge: choice.info.name, resamples: config.eval.bootstrap, seed: config.seed }),
  };
  const summary = buildSummary({
    judge: choice.info,
    decoding: result.decoding,
    seed: config.seed,
    resamples: config.eval.bootstrap,
    timeoutMs: config.eval.sandboxTimeoutMs,
    items: opts.items,
    itemsFile: opts.itemsFile,
    reference: null,
    models,
  });
  writeSummary(opts.out, summary);
  opts.log?.(`evaluate ${opts.name}: wrote ${join(opts.out, 'summary.json')}`);
  return summary;
}
