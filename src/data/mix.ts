// Mixing: the paper's training sets, the baselines' sets, DPO pairs and held-out evaluation sets,
// written as TRL-conversational JSONL into runs/<name>/data/ with a manifest.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { CORRUPTIONS, corruptTrace } from '../synth/corrupt.js';
import { FAMILY_NAMES } from '../synth/families/index.js';
import { generateProblems } from '../synth/offline.js';
import type { Problem } from '../synth/types.js';
import { sha256, sha256File, stableStringify } from '../util/hash.js';
import { toJsonl, writeJsonl } from '../util/jsonl.js';
import { Rng } from '../util/rng.js';
import { generateInstructions } from './instructions.js';
import type { EvalItem, Message, PreferencePair, SftExample } from './types.js';
import { loadUltraFeedback } from './ultrafeedback.js';

export const DATA_FILES = {
  unified: 'sft-unified.jsonl',
  original: 'sft-original.jsonl',
  cot: 'sft-cot.jsonl',
  pairs: 'dpo-pairs.jsonl',
  eval: 'eval.jsonl',
  manifest: 'manifest.json',
} as const;

export interface DataManifest {
  seed: number;
  teacher: 'offline' | 'claude';
  /** Share of synthetic unified traces in sft-unified (the paper: 0.4). */
  ratio: number;
  counts: {
    unified: { original: number; unified: number; total: number };
    original: number;
    cot: { original: number; cot: number; total: number };
    pairs: { total: number; byKind: Record<string, number> };
    eval: { total: number; byFamily: Record<string, number> };
  };
  families: { train: string[]; ood: string; eval: string[] };
  sources: {
    original: { kind: 'embedded' | 'ultrafeedback'; file?: string; sha256: string; format?: string; skippedRows?: number };
    synthetic: { teacher: 'offline' | 'claude'; model?: string; rejections?: Record<string, number> };
  };
  /** sha256 of every written file. */
  files: Record<string, string>;
}

export type Synthesizer = (
  problems: Problem[],
  needed: number,
  onProgress: (e: ProgressEvent) => void,
) => Promise<{ kept: Problem[]; rejections: Record<string, number>; model?: string }>;

export type ProgressEvent = { stage: string; done: number; total: number; message?: string };

export interface BuildOptions {
  onProgress?: (e: ProgressEvent) => void;
  /** Output folder (default: <run.dir>/<run.name>/data). */
  outDir?: string;
  /**
   * Replaces the offline traces of the first `needed` usable problems when synth.teacher is 'claude'.
   * Default: Claude (src/claude/) with the default sandbox, which needs ANTHROPIC_API_KEY.
   */
  synthesize?: Synthesizer;
}

const user = (content: string): Message[] => [{ role: 'user', content }];
const chat = (prompt: string, answer: string): Message[] => [...user(prompt), { role: 'assistant', content: answer }];

export function unifiedExample(p: Problem): SftExample {
  return { messages: chat(p.question, p.trace), family: p.family, groundTruth: p.groundTruth, source: 'unified', id: p.id };
}
export function cotExample(p: Problem): SftExample {
  return { messages: chat(p.question, p.cotResponse), family: p.family, groundTruth: p.groundTruth, source: 'cot', id: `${p.id}-cot` };
}
export function evalItemOf(p: Problem, ood: boolean): EvalItem {
  return {
    id: p.id,
    prompt: user(p.question),
    family: p.family,
    ood,
    groundTruth: p.groundTruth,
    kind: 'trace',
    ...(p.countdown ? { countdown: p.countdown } : {}),
    ...(p.tolerance !== undefined ? { tolerance: p.tolerance } : {}),
  };
}

/** Families used for training (all, or synth.families, less the OOD family) and for evaluation (+ OOD). */
export function familySplit(config: Config): { train: string[]; ood: string; eval: string[] } {
  const ood = config.mix.oodFamily;
  const chosen = config.synth.families.length ? config.synth.families : FAMILY_NAMES;
  const train = chosen.filter((f) => f !== ood);
  if (train.length === 0) throw new Error(`mix: no training family left (families: ${chosen.join(', ')}; oodFamily: ${ood})`);
  return { train, ood, eval: ood && FAMILY_NAMES.includes(ood) ? [...train, ood] : train };
}

/** Builds every dataset of a run and writes them; returns the manifest (also written as manifest.json). */
export async function buildDatasets(config: Config, opts: BuildOptions = {}): Promise<DataManifest> {
  const { nSynthetic, nCot, nPairs } = config.mix;
  const progress = opts.onProgress ?? (() => {});
  const outDir = resolve(opts.outDir ?? join(config.run.dir, config.run.name, 'data'));
  const fam = familySplit(config);

  // Held-out evaluation problems first, so training generation can exclude their prompts.
  const evalItems = heldOutProblems(config, fam);
  progress({ stage: 'eval', done: evalItems.length, total: config.mix.evalPerFamily * fam.eval.length });
  const heldOut = new Set(evalItems.map((e) => e.prompt[0]!.content));
  const orig = config.mix.original === 'embedded' ? embeddedOriginal(config, evalItems) : await ultraFeedbackOriginal(config, evalItems, progress);
  progress({ stage: 'original', done: orig.examples.length, total: config.mix.nOriginal });

  // Synthetic problems for training, disjoint from the held-out prompts. The CoT baseline uses the
  // same prompts first (the paper: "generated using the same prompts"), then more.
  const problems = generateProblems({ seed: config.seed, count: Math.max(nSynthetic, nCot, nPairs), families: fam.train, exclude: heldOut, stream: 'train' });
  const { unifiedProblems, synthetic } = await syntheticTraces(config, problems, opts, progress);

  const mixRng = new Rng(config.seed).fork('mix');
  const sftUnified = mixRng.shuffle([...orig.examples, ...unifiedProblems.map(unifiedExample)]);
  const sftOriginal = mixRng.shuffle(orig.examples);
  const sftCot = mixRng.shuffle([...orig.examples, ...problems.slice(0, nCot).map(cotExample)]);
  const pairs = mixRng.shuffle(preferencePairs(problems, orig.prefs, nPairs, config.seed));
  progress({ stage: 'pairs', done: pairs.length, total: nPairs });

  const files = writeDataFiles(outDir, { [DATA_FILES.unified]: sftUnified, [DATA_FILES.original]: sftOriginal, [DATA_FILES.cot]: sftCot, [DATA_FILES.pairs]: pairs, [DATA_FILES.eval]: evalItems });
  const manifest: DataManifest = {
    seed: config.seed,
    teacher: config.synth.teacher,
    ratio: sftUnified.length ? unifiedProblems.length / sftUnified.length : 0,
    counts: {
      unified: { original: orig.examples.length, unified: unifiedProblems.length, total: sftUnified.length },
      original: sftOriginal.length,
      cot: { original: orig.examples.length, cot: Math.min(nCot, problems.length), total: sftCot.length },
      pairs: { total: pairs.length, byKind: countBy(pairs.map((p) => p.rejectedKind ?? 'unknown')) },
      eval: { total: evalItems.length, byFamily: countBy(evalItems.map((e) => e.family)) },
    },
    families: fam,
    sources: { original: orig.source, synthetic },
    files,
  };
  writeFileSync(join(outDir, DATA_FILES.manifest), JSON.stringify(manifest, null, 2) + '\n');
  progress({ stage: 'done', done: 1, total: 1, message: `wrote ${Object.keys(files).length} files to ${outDir}` });
  return manifest;
}

/** evalPerFamily held-out problems of every evaluated family (the OOD one flagged), from their own stream. */
function heldOutProblems(config: Config, fam: { ood: string; eval: string[] }): EvalItem[] {
  const n = config.mix.evalPerFamily;
  return fam.eval.flatMap((f) => generateProblems({ seed: config.seed, count: n, families: [f], stream: 'eval' }).map((p) => evalItemOf(p, f === fam.ood)));
}

interface OriginalData {
  examples: SftExample[];
  /** UltraFeedback's preference pairs (none for the embedded set). */
  prefs: PreferencePair[];
  source: DataManifest['sources']['original'];
}

/** The embedded instruction set; its held-out items join evalItems. */
function embeddedOriginal(config: Config, evalItems: EvalItem[]): OriginalData {
  const { seed } = config;
  const evalInstr = generateInstructions({ seed, count: config.mix.evalPerFamily, stream: 'eval' });
  for (const it of evalInstr) evalItems.push({ id: it.id, prompt: user(it.prompt), family: 'instruction', ood: false, kind: 'instruction', check: it.check });
  const items = generateInstructions({ seed, count: config.mix.nOriginal, exclude: new Set(evalInstr.map((i) => i.prompt)) });
  const examples: SftExample[] = items.map((it) => ({ messages: chat(it.prompt, it.response), family: 'instruction', source: 'original', id: it.id }));
  return { examples, prefs: [], source: { kind: 'embedded', sha256: sha256(toJsonl(examples)) } };
}

/** A UltraFeedback file: a few prompts held out (judged, no checker; they join evalItems), the rest training candidates. */
async function ultraFeedbackOriginal(config: Config, evalItems: EvalItem[], progress: (e: ProgressEvent) => void): Promise<OriginalData> {
  const { nOriginal, evalPerFamily } = config.mix;
  const file = resolve(config.mix.original);
  const uf = await loadUltraFeedback(file);
  for (const e of uf.errors) progress({ stage: 'original', done: 0, total: 0, message: `skipped ${e.message}` });
  const rng = new Rng(config.seed).fork('ultrafeedback');
  const pool = rng.shuffle(dedupeByPrompt(uf.sft));
  const held = pool.slice(0, evalPerFamily);
  for (const ex of held) evalItems.push({ id: ex.id, prompt: ex.messages.slice(0, -1), family: 'ultrafeedback', ood: false, kind: 'instruction' });
  const heldPrompts = new Set(held.map((ex) => promptKey(ex.messages.slice(0, -1))));
  const rest = pool.slice(evalPerFamily);
  if (rest.length < nOriginal) throw new Error(`${file}: ${rest.length} usable SFT rows after holding out ${held.length}; mix.nOriginal is ${nOriginal}`);
  return {
    examples: rest.slice(0, nOriginal),
    prefs: rng.shuffle(uf.prefs.filter((p) => !heldPrompts.has(promptKey(p.prompt)))),
    source: { kind: 'ultrafeedback', file, sha256: sha256File(file), format: uf.format, skippedRows: uf.errors.length },
  };
}

/** The unified traces of the SFT mix: the offline teacher's, or Claude's for the first problems that pass the filter. */
async function syntheticTraces(
  config: Config,
  problems: Problem[],
  opts: BuildOptions,
  progress: (e: ProgressEvent) => void,
): Promise<{ unifiedProblems: Problem[]; synthetic: DataManifest['sources']['synthetic'] }> {
  const { nSynthetic } = config.mix;
  let unifiedProblems = problems.slice(0, nSynthetic);
  let synthetic: DataManifest['sources']['synthetic'] = { teacher: config.synth.teacher };
  if (config.synth.teacher === 'claude') {
    const synthesize = opts.synthesize ?? (await defaultClaudeSynthesizer(config));
    const res = await synthesize(problems, nSynthetic, progress);
    if (res.kept.length < nSynthetic) throw new Error(`mix: Claude produced ${res.kept.length} traces that passed the filter; mix.nSynthetic is ${nSynthetic}`);
    unifiedProblems = res.kept.slice(0, nSynthetic);
    synthetic = { teacher: 'claude', model: res.model, rejections: res.rejections };
  }
  progress({ stage: 'synthetic', done: unifiedProblems.length, total: nSynthetic });
  return { unifiedProblems, synthetic };
}

/** DPO pairs: correct trace vs a corrupted one, kinds in turn; half UltraFeedback pairs when a file gave them. */
function preferencePairs(problems: Problem[], ufPrefs: PreferencePair[], nPairs: number, seed: number): PreferencePair[] {
  const nUf = Math.min(ufPrefs.length, Math.floor(nPairs / 2));
  const corruptRng = new Rng(seed).fork('corrupt');
  const tracePairs: PreferencePair[] = problems.slice(0, nPairs - nUf).map((p, i) => {
    const kind = CORRUPTIONS[i % CORRUPTIONS.length]!;
    return {
      prompt: user(p.question),
      chosen: [{ role: 'assistant', content: p.trace }],
      rejected: [{ role: 'assistant', content: corruptTrace(p, kind, corruptRng) }],
      family: p.family,
      groundTruth: p.groundTruth,
      source: 'unified',
      id: `${p.id}-pair`,
      rejectedKind: kind,
    };
  });
  return [...ufPrefs.slice(0, nUf), ...tracePairs];
}

/** Writes each file's rows as JSONL into outDir; returns the sha256 of every file written. */
function writeDataFiles(outDir: string, sets: Record<string, readonly unknown[]>): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, rows] of Object.entries(sets)) {
    const path = join(outDir, name);
    writeJsonl(path, rows);
    files[name] = sha256File(path);
  }
  return files;
}

/** Claude with the process-wide sandbox; loaded lazily so offline runs never touch the SDK. */
async function defaultClaudeSynthesizer(config: Config): Promise<Synthesizer> {
  const { clientFromConfig, synthesizeWithClaude } = await import('../claude/index.js');
  const { defaultSandbox } = await import('../sandbox/index.js');
  const client = clientFromConfig(config);
  return (problems, needed, onProgress) =>
    synthesizeWithClaude(problems, needed, {
      client,
      sandbox: defaultSandbox({ timeoutMs: config.eval.sandboxTimeoutMs }),
      useBatchApi: config.synth.useBatchApi,
      sandboxTimeoutMs: config.eval.sandboxTimeoutMs,
      onOutcome: (o, done, total) => onProgress({ stage: 'synthetic', done, total, message: o.ok ? undefined : `${o.item.id}: ${o.reason}` }),
    });
}

function countBy(keys: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
}

/** The text that identifies a prompt, for the train/eval overlap rule. */
export function promptKey(prompt: Message[]): string {
  return stableStringify(prompt.filter((m) => m.role !== 'assistant').map((m) => [m.role, m.content.trim()]));
}

function dedupeByPrompt(rows: SftExample[]): SftExample[] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    const k = promptKey(r.messages.slice(0, -1));
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
