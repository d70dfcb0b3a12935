// Options shared by every subcommand that reads the typed config.
import type { Command } from 'commander';
import { resolveConfig, presetNames, type Config, type ResolveOptions } from '../config/index.js';

export interface ConfigOptions {
  preset?: string;
  config?: string;
  set?: string[];
}

export function addConfigOptions(cmd: Command): Command {
  return cmd
    .option('--preset <name>', `config preset (${presetNames.join(', ')}; default: $UNITRACE_PRESET or demo)`)
    .option('--config <file>', 'JSON file with config values that override the preset')
    .option('--set <key=value...>', 'override single values, e.g. --set sft.epochs=3 mix.nSynthetic=50 (every key: unitrace config --explain)', collect, []);
}

function collect(value: string, previous: string[]): string[] {
  return previous.concat(value);
}

/** The resolved config; an unknown key or an invalid value is unusable input (exit code 2). */
export function configFromOptions(opts: ConfigOptions, extra: NonNullable<ResolveOptions['overrides']> = []): Config {
  try {
    return resolveConfig({ preset: opts.preset, file: opts.config, overrides: [...(opts.set ?? []), ...extra] });
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
}

/** An error that ends the CLI with a chosen exit code (2 = unusable input). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
