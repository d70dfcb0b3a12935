import { join } from 'node:path';
import type { Command } from 'commander';
import { runDir } from '../../config/index.js';
import { addConfigOptions, CliError } from '../options.js';
import { addTrainOptions, presetDefaults, runTrainCommand, trainConfig, type TrainCliOptions } from '../train.js';
import { inputFileProblem } from '../../util/files.js';

interface SftCliOptions extends TrainCliOptions {
  mode?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('sft')
    .description(
      'supervised fine-tuning (LoRA or full) on chat examples (TRL `messages`, `prompt`/`completion`, or `text` rows); loss on the assistant ' +
        'response including its closing <|im_end|>. Writes config.json, metrics.jsonl, checkpoints/ and adapter/ (PEFT) or model/ into --out.',
    )
    .option('--data <file>', 'training JSONL (default: <run.dir>/<run.name>/data/sft-unified.jsonl)')
    .option('--mode <mode>', `lora or full ${presetDefaults((c) => c.sft.mode)}`);
  addConfigOptions(addTrainOptions(cmd, 'sft')).action(async (opts: SftCliOptions) => {
    const config = trainConfig(opts, 'sft', { ...(opts.mode !== undefined && { mode: opts.mode as 'lora' | 'full' }) });
    const data = opts.data ?? join(runDir(config), 'data', 'sft-unified.jsonl');
    const problem = inputFileProblem(data);
    if (problem) throw new CliError(`training data: ${problem} (pass --data FILE)`, 2);
    const out = opts.out ?? join(runDir(config), 'sft');
    const { runSft } = await import('../../train/sft.js');
    await runTrainCommand('sft', opts, undefined, (hooks) => runSft(config, { data, out, ...hooks }), (r) => `finished ${r.steps} steps; ${r.result}`);
  });
}
