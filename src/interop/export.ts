// `unitrace export RUN_DIR --to DIR`: the run's training job for TRL + PEFT + accelerate. DIR holds the
// datasets as TRL reads them, one `trl sft` / `trl dpo` YAML per stage, run.sh, accelerate configs,
// the base model as a Hugging Face folder (the embedded model widened to Qwen's vocabulary), the
// evaluation prompts with a transformers generation script, and a README with the commands and the
// places where unitrace and TRL define things differently.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { resolveConfig, type Config } from '../config/index.js';
import { DATA_FILES } from '../data/mix.js';
import { loadModel, resolveModelDir } from '../model/load.js';
import { loadTokenizer, type Tokenizer } from '../model/tokenizer.js';
import { sftConfig } from '../pipeline/stages.js';
import { tokenizePairRow, tokenizeSftRow, type TokenizedSequence } from '../train/collate.js';
import { sha256File } from '../util/hash.js';
import { toJsonl } from '../util/jsonl.js';
import { evalPromptRows, pairRowsForTrl, sftRowsForTrl } from './datasets.js';
import { definitionDifferences, tokensAfterTurnEnd, truncationCounts } from './differences.js';
import { exportReadme } from './readme.js';
import type { ExportManifest } from './manifest.js';
import { accelerateConfigs, generateScript, MERGE_SCRIPT, runScript } from './scripts.js';
import { dpoStageConfig, SFT_STAGES, sftStageConfig, type SftStage, type TrlStageConfig } from './trl-config.js';
import { hasPrunedVocabulary, writeFullVocabularyModel, type HiddenProbe } from './vocabulary.js';
import { toYaml } from './yaml.js';

export const EXPORT_MANIFEST = 'unitrace-export.json';

export interface ExportOptions {
  /** What the configs name as the base model when the run's is not the embedded one: a folder or a Hub id. */
  baseModel?: string;
  log?: (line: string) => void;
}


/** The run's own config.json (the single source of truth for its settings). */
export function runConfig(runDir: string): Config {
  const file = join(runDir, 'config.json');
  if (!existsSync(file)) throw new Error(`${runDir}: no config.json (not a unitrace run folder)`);
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { preset?: string };
  return resolveConfig({ preset: raw.preset, file });
}

/** Final hidden states of `modelDir` on texts (each cut to maxTokens), for the vocabulary widening. */
export async function probeHidden(modelDir: string, tokenizer: Tokenizer, texts: readonly string[], maxTokens: number): Promise<HiddenProbe> {
  const model = await loadModel(modelDir);
  try {
    const parts: Float32Array[] = [];
    let positions = 0;
    for (const text of texts) {
      const ids = tokenizer.encode(text).slice(0, maxTokens);
      if (ids.length === 0) continue;
      const h = tf.tidy(() => model.hidden(tf.tensor2d(Int32Array.from(ids), [1, ids.length], 'int32'))); // [1,T,H]
      parts.push(h.dataSync() as Float32Array);
      h.dispose();
      positions += ids.length;
    }
    const hidden = new Float32Array(positions * model.config.hiddenSize);
    let at = 0;
    for (const p of parts) {
      hidden.set(p, at);
      at += p.length;
    }
    return { hidden, positions };
  } finally {
    model.dispose();
  }
}

/** Every `stride`-th element, so a probe covers the whole file in bounded time. */
const spread = <T>(rows: readonly T[], n: number): T[] => rows.filter((_, i) => i % Math.max(1, Math.floor(rows.length / n)) === 0).slice(0, n);

export async function exportRun(runDir: string, outDir: string, opts: ExportOptions = {}): Promise<ExportManifest> {
  const log = opts.log ?? (() => {});
  const config = runConfig(runDir);
  const dataDir = join(runDir, 'data');
  const need = [DATA_FILES.unified, DATA_FILES.original, DATA_FILES.cot, DATA_FILES.pairs, DATA_FILES.eval];
  for (const f of need) if (!existsSync(join(dataDir, f))) throw new Error(`${join(dataDir, f)}: missing (run the data stage first: unitrace pipeline, or unitrace mix)`);
  mkdirSync(join(outDir, 'data'), { recursive: true });
  mkdirSync(join(outDir, 'eval'), { recursive: true });
  mkdirSync(join(outDir, 'accelerate'), { recursive: true });

  const files: Record<string, string> = {};
  const write = (rel: string, text: string) => {
    writeFileSync(join(outDir, rel), text);
    if (rel.startsWith('data/') || rel.startsWith('eval/')) files[rel] = sha256File(join(outDir, rel));
  };

  // Datasets as TRL reads them.
  const sftData = new Map<SftStage, ReturnType<typeof sftRowsForTrl>>();
  for (const stage of SFT_STAGES) {
    const rows = sftRowsForTrl(join(dataDir, `${stage}.jsonl`));
    sftData.set(stage, rows);
    write(`data/${stage}.jsonl`, toJsonl(rows));
  }
  const pairs = pairRowsForTrl(join(dataDir, DATA_FILES.pairs));
  write('data/dpo-pairs.jsonl', toJsonl(pairs));

  // The base model the configs name.
  const source = config.model.source;
  const sourceDir = resolveModelDir(source);
  const tokenizer = loadTokenizer(existsSync(sourceDir) ? sourceDir : undefined);
  let baseModel: ExportManifest['baseModel'];
  if (opts.baseModel) baseModel = { path: opts.baseModel, from: `given with --base-model (the run trained ${source})`, equivalence: null };
  else if (existsSync(sourceDir) && hasPrunedVocabulary(sourceDir)) {
    const render = (m: { role: 'system' | 'user' | 'assistant'; content: string }[]) => tokenizer.applyChatTemplate(m, { addGenerationPrompt: false });
    const texts = [...spread(sftData.get('sft-unified')!, 24).map((r) => render([...r.prompt, ...r.completion])), ...spread(pairs, 12).flatMap((p) => [render([...p.prompt, ...p.chosen]), render([...p.prompt, ...p.rejected])])];
    log(`export: probing ${texts.length} texts through ${source} to widen its ${tokenizer.vocabSize}-id vocabulary to Qwen's`);
    const probe = await probeHidden(sourceDir, tokenizer, texts, config.sft.maxPromptTokens + config.sft.maxResponseTokens);
    const equivalence = writeFullVocabularyModel(sourceDir, join(outDir, 'base-model'), { probe, source });
    log(`export: base-model/ written (${equivalence.fullVocab} ids; lacking ids shift mapped log-probs by ${equivalence.suppression.meanLogProbShift.toFixed(3)} nats on average over ${equivalence.probedPositions} probed positions)`);
    baseModel = { path: 'base-model', from: `${source} with its vocabulary widened to Qwen's (see base-model/unitrace-equivalence.json)`, equivalence };
  } else if (existsSync(sourceDir)) {
    baseModel = { path: resolve(sourceDir), from: `the run's model folder ${source}`, equivalence: null };
  } else {
    baseModel = { path: source, from: `the run's model.source (not a folder here: a Hub id or a path on the training machine)`, equivalence: null };
  }
  const modelRef = baseModel.path;

  // One config per stage.
  const stages: TrlStageConfig[] = SFT_STAGES.map((stage) => sftStageConfig(sftConfig(config, stage), stage, { file: `data/${stage}.jsonl`, rows: sftData.get(stage)!.length }, modelRef));
  stages.push(dpoStageConfig(config, { file: 'data/dpo-pairs.jsonl', rows: pairs.length }));
  for (const s of stages) writeFileSync(join(outDir, `${s.stage}.yaml`), toYaml(s.yaml));
  writeFileSync(join(outDir, 'run.sh'), runScript(config.run.name, modelRef));
  chmodSync(join(outDir, 'run.sh'), 0o755);
  writeFileSync(join(outDir, 'merge_adapter.py'), MERGE_SCRIPT);
  writeFileSync(join(outDir, 'generate.py'), generateScript({ ...config.eval, seed: config.seed }, modelRef));
  for (const [name, text] of Object.entries(accelerateConfigs())) writeFileSync(join(outDir, 'accelerate', name), text);

  // Evaluation prompts: the exact text unitrace's model sees.
  const prompts = evalPromptRows(join(dataDir, DATA_FILES.eval), (m) => tokenizer.applyChatTemplate(m, { addGenerationPrompt: true }));
  write('eval/prompts.jsonl', toJsonl(prompts));

  // Differences, measured on this run's data.
  const limits = { maxPromptTokens: config.sft.maxPromptTokens, maxResponseTokens: config.sft.maxResponseTokens };
  const seqs: TokenizedSequence[] = [...sftData.get('sft-unified')!].map((r) => tokenizeSftRow(tokenizer, { prompt: r.prompt, completion: r.completion }, limits, r.id));
  const pairSeqs = pairs.flatMap((p) => {
    const t = tokenizePairRow(tokenizer, p, limits, p.id);
    return [t.chosen, t.rejected];
  });
  const extra = tokensAfterTurnEnd(tokenizer);
  const trailing = extra.unitraceTrains ? 0 : extra.trailing;
  const maxLength = limits.maxPromptTokens + limits.maxResponseTokens;
  const differences = definitionDifferences({
    config,
    tokenizer,
    sft: truncationCounts(seqs, maxLength, trailing),
    dpo: truncationCounts(pairSeqs, maxLength, trailing),
  });

  const manifest: ExportManifest = {
    runDir: resolve(runDir),
    runName: config.run.name,
    preset: config.preset,
    exportedAt: new Date().toISOString(),
    baseModel,
    stages: stages.map((s) => ({ stage: s.stage, command: `trl ${s.command} --config ${s.stage}.yaml`, config: `${s.stage}.yaml`, data: String(s.yaml.datasets && (s.yaml.datasets as { data_files: string }[])[0]!.data_files), rows: s.stage === 'dpo' ? pairs.length : sftData.get(s.stage as SftStage)!.length, totalSteps: s.totalSteps })),
    evalPrompts: { file: 'eval/prompts.jsonl', rows: prompts.length },
    files,
    differences,
  };
  writeFileSync(join(outDir, EXPORT_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  writeFileSync(join(outDir, 'README.md'), exportReadme(manifest, stages, config));
  log(`export: wrote ${outDir} (${stages.length} stage configs, run.sh, README.md)`);
  return manifest;
}
