// Before a pipeline starts: everything the config asks for from outside the kit is there (the Claude key,
// an UltraFeedback file, a model folder). Missing pieces are named together, in seconds, instead of a
// stage failing an hour in or a stage silently substituting an offline stand-in.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { hasApiKey } from '../claude/client.js';
import type { Config } from '../config/index.js';

/** One sentence per missing piece: what, which setting asks for it, and how to supply it or opt out. */
export function preflightProblems(config: Config, cwd = process.cwd()): string[] {
  const problems: string[] = [];
  const claudeUsers = [
    ...(config.synth.teacher === 'claude' ? ['the trace teacher (synth.teacher=claude)'] : []),
    ...(config.eval.judge === 'claude' ? ['the judge (eval.judge=claude)'] : []),
  ];
  if (claudeUsers.length && !hasApiKey())
    problems.push(`ANTHROPIC_API_KEY is not set, and ${claudeUsers.join(' and ')} call Claude: export ANTHROPIC_API_KEY=..., or use the offline ones (--preset paper-offline, or --set synth.teacher=offline --set eval.judge=offline)`);
  if (config.mix.original !== 'embedded') {
    const file = resolve(cwd, config.mix.original);
    if (!existsSync(file) || !statSync(file).isFile())
      problems.push(`the UltraFeedback file ${file} (mix.original) does not exist: download HuggingFaceH4/ultrafeedback_binarized and pass its train_sft parquet or a JSONL export with --set mix.original=/path/to/file, or --set mix.original=embedded for the kit's instruction set`);
  }
  if (config.model.source !== 'embedded') {
    const dir = resolve(cwd, config.model.source);
    if (!existsSync(join(dir, 'config.json')))
      problems.push(`the model folder ${dir} (model.source) ${existsSync(dir) ? 'has no config.json' : 'does not exist'}: pass a Hugging Face model folder (config.json, *.safetensors, tokenizer.json) with --set model.source=/path/to/Qwen2.5-0.5B, or --set model.source=embedded for the tiny embedded model`);
  }
  return problems;
}

export class PreflightError extends Error {
  constructor(readonly problems: string[], preset: string) {
    super(`the ${preset} preset cannot start; missing:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PreflightError';
  }
}

/** Throws a PreflightError naming every missing piece at once. */
export function assertPreflight(config: Config, cwd = process.cwd()): void {
  const problems = preflightProblems(config, cwd);
  if (problems.length) throw new PreflightError(problems, config.preset);
}
