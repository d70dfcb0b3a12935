// Generation and scoring for one model (evaluateModel) and for every model of a run (evaluateRun):
// the base model as the reference, the three SFT runs and unified + DPO, judged against the reference.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
  speed: GenerationSpeed;
}

export function decodingOf(config: Config): Decoding {
  return { maxNewTokens: config.eval.maxNewTokens, temperature: config.eval.temperature, topP: config.eval.topP, seed: config.seed, batchSize: config.eval.batchSize };
}

export const speedLine = (s: GenerationSpeed): string =>
  `${s.tokens} tokens in ${s.seconds.toFixed(1)} s (${s.tokensPerSecond.toFixed(1)} tokens/s, ${s.engine} decoder)`;

/** Generates a response to every item with the model's generate(), then scores each one. */
export async function evaluateModel(opts: EvaluateModelOptions): Promise<EvaluateModelResult> {
  const name = opts.name ?? 'model';
  const decoding = decodingOf(opts.config);
  const { generations, speed } = await generateAll(opts, decoding, name);
  opts.onProgress?.({ model: name, stage: 'generate', done: generations.length, total: generations.length, message: speedLine(speed) });
  const rows = await scoreGenerations(opts.items, generations, opts.config, { name, sandbox: opts.sandbox, onProgress: opts.onProgress });
  return { rows, generations, decoding, speed };
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

/** Generation speed of one model's evaluation. */
export interface GenerationSpeed {
  tokens: number;
  seconds: number;
  tokensPerSecond: number;
  /** 'native' (the addon's decoder, adapter merged once) or 'tfjs'. */
  engine: string;
}

/**
 * Every item's response in one generate() call, shortest prompts first: the native decoder batches them
 * continuously (a finished sequence's slot takes the next prompt at once), the TensorFlow.js one in
 * length-sorted batches. A LoRA adapter is merged into the native decoder's weights once, so an adapted
 * model decodes as fast as a merged one.
 */
async function generateAll(opts: EvaluateModelOptions, decoding: Decoding, name: string): Promise<{ generations: Generated[]; speed: GenerationSpeed }> {
  const { generate, promptIds, usesNativeDecoder } = await import('../model/generate.js');
  const { NativeDecoder } = await import('../model/decoder.js');
  const order = opts.items
    .map((item, i) => ({ i, ids: promptIds(opts.tokenizer, item.prompt) }))
    .sort((a, b) => a.ids.length - b.ids.length || a.i - b.i);
  opts.onProgress?.({ model: name, stage: 'generate', done: 0, total: order.length });
  const t0 = performance.now();
  const native = usesNativeDecoder();
  const decoder = native ? NativeDecoder.fromModel(opts.model, opts.adapter ?? undefined) : null;
  let gens;
  try {
    gens = await generate(
      decoder ?? opts.model,
      opts.tokenizer,
      order.map((c) => c.ids),
      {
        maxNewTokens: decoding.maxNewTokens,
        temperature: decoding.temperature,
        topP: decoding.topP,
        seed: decoding.seed,
        batchSize: decoding.batchSize,
        ...(opts.adapter && !decoder ? { lora: opts.adapter } : {}),
        onStep: (_step, finished, total) => opts.onProgress?.({ model: name, stage: 'generate', done: finished, total }),
      },
    );
  } finally {
    decoder?.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const out: Generated[] = new Array(opts.items.length);
  gens.forEach((g, k) => {
    const { i } = order[k]!;
    // Lengths in real Qwen tokens, not the embedded model's pruned ids (the speed below counts the model's own).
    out[i] = { id: opts.items[i]!.id, text: g.text, tokens: opts.tokenizer.qwenTokenCount(g.ids), finishReason: g.finishReason };
  });
  const tokens = gens.reduce((n, g) => n + g.ids.length, 0);
  return { generations: out, speed: { tokens, seconds, tokensPerSecond: tokens / seconds, engine: native ? 'native' : 'tfjs' } };
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
  /** A folder of <model>.jsonl responses generated elsewhere (an export's generate.py): used instead of generating. */
  responses?: string;
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
  // The reference is always included: win rates are against it (its generations are reused when cached).
  const wanted = new Set<EvalModelName>(['reference', ...(opts.models ?? EVAL_MODELS)]);
  const specs = modelSpecs(config, runDir).filter((s) => wanted.has(s.name));
  const choice = await judgeFor(config, opts);
  log(`evaluate: ${items.length} items, judge ${choice.info.name}, models ${specs.map((s) => s.name).join(', ')}`);
  const { results, skipped } = await scoreEveryModel(config, specs, items, join(runDir, 'eval'), opts);
  return judgeAndSummarise(config, choice, {
    items,
    itemsFile,
    out: join(runDir, 'eval'),
    models: [...results].map(([name, r]) => ({ name, rows: r.rows, adapter: r.spec.adapter, source: r.spec.base })),
    reference: results.has('reference') ? 'reference' : null,
    skipped,
    decoding: decodingOf(config),
    onProgress: opts.onProgress,
    log,
  });
}

type ScoredModels = Map<EvalModelName, { rows: ScoredResponse[]; spec: ModelSpec }>;

/** Generates (or reuses) and scores each model's responses, one sandbox pool and one loaded base for all. */
async function scoreEveryModel(
  config: Config,
  specs: readonly ModelSpec[],
  items: readonly EvalItem[],
  evalDir: string,
  opts: EvaluateRunOptions,
): Promise<{ results: ScoredModels; skipped: Record<string, string> }> {
  const log = opts.log ?? (() => {});
  const { createSandboxPool } = await import('../sandbox/pool.js');
  const sandbox = createSandboxPool({ timeoutMs: config.eval.sandboxTimeoutMs });
  const models = new BaseModels(config);
  const results: ScoredModels = new Map();
  const skipped: Record<string, string> = {};
  try {
    for (const spec of specs) {
      const given = opts.responses ? await externalGenerations(opts.responses, spec.name, items) : null;
      if (given) {
        log(`evaluate ${spec.name}: ${given.length} responses from ${given.file}`);
        results.set(spec.name, { rows: await scoreGenerations(items, given.generations, config, { name: spec.name, sandbox, onProgress: opts.onProgress }), spec: { ...spec, base: given.file, mergeFirst: null, adapter: null, missing: null } });
        continue;
      }
      if (spec.missing) {
        skipped[spec.name] = spec.missing;
        opts.onProgress?.({ model: spec.name, stage: 'skip', done: 0, total: 0, message: spec.missing });
        log(`evaluate ${spec.name}: skipped, ${spec.missing}`);
        continue;
      }
      const cache = new GenerationCache(join(evalDir, spec.name, 'generations.json'), await generationFingerprint(spec, items, decodingOf(config)));
      const saved = cache.read();
      if (saved) log(`evaluate ${spec.name}: reusing ${saved.length} generations from ${cache.file}`);
      const rows = saved
        ? await scoreGenerations(items, saved, config, { name: spec.name, sandbox, onProgress: opts.onProgress })
        : await generateAndScore(spec, items, config, { models, sandbox, cache, opts });
      results.set(spec.name, { rows, spec });
      log(`evaluate ${spec.name}: ${items.length} responses scored`);
    }
  } finally {
    models.dispose();
    await sandbox.close();
  }
  return { results, skipped };
}

async function generateAndScore(
  spec: ModelSpec,
  items: readonly EvalItem[],
  config: Config,
  ctx: { models: BaseModels; sandbox: CodeSandbox; cache: GenerationCache; opts: EvaluateRunOptions },
): Promise<ScoredResponse[]> {
  const { loadAdapter } = await import('../model/lora.js');
  ctx.opts.onProgress?.({ model: spec.name, stage: 'load', done: 0, total: 1, message: spec.base });
  const { model, tokenizer } = await ctx.models.get(spec);
  const adapter = spec.adapter ? loadAdapter(spec.adapter, model) : null;
  try {
    const result = await evaluateModel({ model, adapter, tokenizer, items, config, name: spec.name, sandbox: ctx.sandbox, onProgress: ctx.opts.onProgress });
    ctx.opts.log?.(`evaluate ${spec.name}: generated ${speedLine(result.speed)}`);
    ctx.cache.write(decodingOf(config), result.generations);
    return result.rows;
  } finally {
    adapter?.dispose();
  }
}

/** The base model stays loaded across models; a merge changes it, so it is reloaded after one. */
class BaseModels {
  private loaded: { key: string; model: Qwen2Model; tokenizer: Tokenizer } | null = null;

  constructor(private readonly config: Config) {}

  async get(spec: ModelSpec): Promise<{ model: Qwen2Model; tokenizer: Tokenizer }> {
    const key = `${spec.base}|${spec.mergeFirst ?? ''}`;
    if (this.loaded?.key === key) return this.loaded;
    this.dispose();
    const { loadModelAndTokenizer } = await import('../model/load.js');
    const { loadAdapter, mergeAdapter } = await import('../model/lora.js');
    const { model, tokenizer } = await loadModelAndTokenizer(spec.base, { backend: this.config.engine.backend });
    this.loaded = { key, model, tokenizer };
    if (spec.mergeFirst) {
      const first = loadAdapter(spec.mergeFirst, model);
      mergeAdapter(model, first);
      first.dispose();
    }
    return this.loaded;
  }

  dispose(): void {
    this.loaded?.model.dispose();
    this.loaded = null;
  }
}

/** <model>/generations.json: a model's generations under the fingerprint of what produced them. */
class GenerationCache {
  constructor(
    readonly file: string,
    private readonly fingerprint: string,
  ) {}

  read(): Generated[] | undefined {
    if (!existsSync(this.file)) return undefined;
    const saved = JSON.parse(readFileSync(this.file, 'utf8')) as { fingerprint: string; generations: Generated[] };
    return saved.fingerprint === this.fingerprint ? saved.generations : undefined;
  }

  write(decoding: Decoding, generations: Generated[]): void {
    makeDirs(dirname(this.file));
    writeFileSync(this.file, JSON.stringify({ fingerprint: this.fingerprint, decoding, generations }) + '\n');
  }
}

async function generationFingerprint(spec: ModelSpec, items: readonly EvalItem[], decoding: Decoding): Promise<string> {
  const { resolveModelDir } = await import('../model/load.js');
  return sha256(
    stableStringify({
      base: spec.base,
      baseFiles: modelFilesStamp(resolveModelDir(spec.base)),
      mergeFirst: spec.mergeFirst && adapterHash(spec.mergeFirst),
      adapter: spec.adapter && adapterHash(spec.adapter),
      items: items.map((it) => [it.id, it.prompt]),
      decoding,
    }),
  ).slice(0, 16);
}

function judgeFor(config: Config, opts: { env?: NodeJS.ProcessEnv; makeClient?: () => ChatClient | Promise<ChatClient> }): Promise<JudgeChoice> {
  return createJudge(config.eval.judge, { model: config.eval.judgeModel, env: opts.env, makeClient: opts.makeClient ?? (() => claudeClientFor(config)) });
}

/** Judges each model's rows (against the reference when there is one), writes responses and summary.json. */
async function judgeAndSummarise(
  config: Config,
  choice: JudgeChoice,
  run: {
    items: readonly EvalItem[];
    itemsFile?: string;
    out: string;
    models: { name: string; rows: ScoredResponse[]; adapter: string | null; source: string }[];
    reference: string | null;
    skipped?: Record<string, string>;
    decoding: Decoding;
    onProgress?: (e: EvalProgress) => void;
    log?: (line: string) => void;
  },
): Promise<EvalSummary> {
  const referenceRows = run.models.find((m) => m.name === run.reference)?.rows ?? null;
  const models: EvalSummary['models'] = {};
  for (const m of run.models) {
    await judgeResponses({
      judge: choice.judge,
      items: run.items,
      rows: m.rows,
      reference: m.name === run.reference ? null : referenceRows,
      seed: config.seed,
      model: m.name,
      concurrency: config.eval.judgeConcurrency,
      onProgress: (done, total) => run.onProgress?.({ model: m.name, stage: 'judge', done, total }),
    });
    writeResponses(run.out, m.name, m.rows);
    models[m.name] = modelEntry(m.rows, { adapter: m.adapter, source: m.source, judge: choice.info.name, resamples: config.eval.bootstrap, seed: config.seed });
    run.onProgress?.({ model: m.name, stage: 'done', done: m.rows.length, total: m.rows.length });
  }
  const summary = buildSummary({
    judge: choice.info,
    decoding: run.decoding,
    seed: config.seed,
    resamples: config.eval.bootstrap,
    timeoutMs: config.eval.sandboxTimeoutMs,
    items: run.items,
    itemsFile: run.itemsFile,
    reference: referenceRows ? run.reference : null,
    models,
    ...(run.skipped ? { skipped: run.skipped } : {}),
  });
  writeSummary(run.out, summary);
  run.log?.(`evaluate: wrote ${join(run.out, 'summary.json')}`);
  return summary;
}

/** Responses for `model` in a folder of <model>.jsonl files (src/eval/responses.ts), or null. */
async function externalGenerations(dir: string, model: string, items: readonly EvalItem[]): Promise<{ file: string; generations: Generated[]; length: number } | null> {
  const { readResponses, responsesFile } = await import('./responses.js');
  const generations = readResponses(dir, model, items);
  return generations ? { file: responsesFile(dir, model), generations, length: generations.length } : null;
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
  const choice = await judgeFor(config, opts);
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
  opts.log?.(`evaluate ${opts.name}: generated ${speedLine(result.speed)}`);
  return judgeAndSummarise(config, choice, {
    items: opts.items,
    itemsFile: opts.itemsFile,
    out: opts.out,
    models: [{ name: opts.name, rows: result.rows, adapter: opts.adapter, source: config.model.source }],
    reference: null,
    decoding: result.decoding,
    onProgress: opts.onProgress,
    log: opts.log,
  });
}
