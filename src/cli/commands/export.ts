import type { Command } from 'commander';
import { CliError } from '../options.js';

interface ExportOptions {
  to?: string;
  baseModel?: string;
  json: boolean;
}

export function register(program: Command): void {
  program
    .command('export')
    .description(
      "write a run's training job for Hugging Face TRL + PEFT + accelerate: datasets as TRL reads them, one `trl sft` / `trl dpo` YAML per stage " +
        '(sft-original, sft-cot, sft-unified, dpo), run.sh, accelerate configs, the base model as a Hugging Face folder, the evaluation prompts and a README. ' +
        'Bring the results back with `unitrace import`',
    )
    .argument('<run-dir>', 'a unitrace run folder (with config.json and data/)')
    .requiredOption('--to <dir>', 'the export folder to write')
    .option('--base-model <path-or-hub-id>', "what the configs name as the base model (default: the run's model folder; the embedded model is written as base-model/)")
    .option('--json', 'print the export manifest as JSON', false)
    .action(async (runDir: string, opts: ExportOptions) => {
      const { existsSync } = await import('node:fs');
      const { exportRun } = await import('../../interop/export.js');
      if (!existsSync(runDir)) throw new CliError(`export: no such run folder: ${runDir}`, 2);
      const log = (line: string): void => console.error(line);
      let manifest;
      try {
        manifest = await exportRun(runDir, opts.to!, { baseModel: opts.baseModel, log });
      } catch (e) {
        throw new CliError(`export: ${(e as Error).message}`, 2);
      }
      if (opts.json) console.log(JSON.stringify(manifest, null, 2));
      else for (const s of manifest.stages) console.log(`${s.stage}: ${s.command}   (${s.rows} rows, ${s.totalSteps} steps)`);
    });
}
