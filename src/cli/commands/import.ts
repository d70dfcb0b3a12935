import type { Command } from 'commander';
import { CliError } from '../options.js';

interface ImportOptions {
  into?: string;
  stage?: string;
  json: boolean;
}

export function register(program: Command): void {
  program
    .command('import')
    .description(
      "bring a stage trained by TRL (the output_dir of `trl sft` / `trl dpo` from `unitrace export`) back into a run folder: " +
        'metrics.jsonl from trainer_state.json, the PEFT adapter, config.json and provenance.json (engine, versions, hardware), ' +
        'so `unitrace eval --run`, `unitrace report` and `unitrace pipeline` use it as they use their own',
    )
    .argument('<trl-output>', "TRL's output_dir, e.g. EXPORT_DIR/out/sft-unified")
    .requiredOption('--into <run-dir>', 'the unitrace run folder the stage belongs to')
    .requiredOption('--stage <stage>', 'sft-unified, sft-original, sft-cot or dpo')
    .option('--json', 'print what was imported as JSON', false)
    .action(async (trlOutput: string, opts: ImportOptions) => {
      const { importStage } = await import('../../interop/import.js');
      const { STAGES } = await import('../../interop/trl-config.js');
      if (!(STAGES as readonly string[]).includes(opts.stage!)) throw new CliError(`import: --stage must be one of ${STAGES.join(', ')} (got ${opts.stage})`, 2);
      let result;
      try {
        result = await importStage(trlOutput, opts.into!, opts.stage as (typeof STAGES)[number]);
      } catch (e) {
        throw new CliError(`import: ${(e as Error).message}`, 2);
      }
      if (opts.json) console.log(JSON.stringify(result, null, 2));
      else
        console.log(
          `${opts.stage}: ${result.rows} steps from ${result.provenance.trainerState} -> ${result.stageDir} (${result.provenance.label}` +
            `${result.provenance.hardware ? `, ${result.provenance.hardware}` : ''})`,
        );
    });
}
