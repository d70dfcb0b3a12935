import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { inputFileProblem } from '../../util/files.js';
import { runDir } from '../../config/index.js';
import { addConfigOptions, CliError } from '../options.js';
import { addTrainOptions, number, presetDefaults, runTrainCommand, trainConfig, type TrainCliOptions } from '../train.js';

interface DpoCliOptions extends TrainCliOptions {
  sftAdapter?: string;
  loss?: string;
  beta?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('dpo')
    .description(
      'direct preference optimisation: a new LoRA on the SFT model (its adapter merged into --model first); the merged SFT model is the ' +
        'reference, its log-probs computed once. Pairs are TRL preference rows (`prompt`, `chosen`, `rejected`).',
    )
    .option('--data <file>', 'preference pairs JSONL (default: <run.dir>/<run.name>/data/dpo-pairs.jsonl)')
    .option('--sft-adapter <dir>', 'the SFT adapter to merge into --model (default: <run.dir>/<run.name>/sft-unified/adapter when present)')
    .option('--loss <kind>', `sigmoid, ipo, hinge or robust ${presetDefaults((c) => c.dpo.loss)}`)
    .option('--beta <x>', `DPO beta ${presetDefaults((c) => c.dpo.beta)}`);
  addConfigOptions(addTrainOptions(cmd, 'dpo')).action(async (opts: DpoCliOptions) => {
    const config = trainConfig(opts, 'dpo', {
      ...(opts.loss !== undefined && { loss: opts.loss as 'sigmoid' | 'ipo' | 'hinge' | 'robust' }),
      ...(opts.beta !== undefined && { beta: number(opts.beta, '--beta') }),
    });
    const data = opts.data ?? join(runDir(config), 'data', 'dpo-pairs.jsonl');
    const problem = inputFileProblem(data);
    if (problem) throw new CliError(`preference pairs: ${problem} (pass --data FILE)`, 2);
    const defaultAdapter = join(runDir(config), 'sft-unified', 'adapter');
    const sftAdapter = opts.sftAdapter ?? (existsSync(defaultAdapter) ? defaultAdapter : undefined);
    if (sftAdapter && !existsSync(join(sftAdapter, 'adapter_config.json'))) throw new CliError(`no PEFT adapter in ${sftAdapter}`, 2);
    const out = opts.out ?? join(runDir(config), 'dpo');
    const { runDpo } = await import('../../train/dpo.js');
    await runTrainCommand('dpo', opts, 'rewards/margins', (hooks) => runDpo(config, { data, out, sftAdapter, ...hooks }), (r) => `finished ${r.steps} steps; adapter ${r.result} on ${r.baseModel}`);
  });
}
