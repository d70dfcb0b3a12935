// Options shared by every subcommand that reads the typed config.
import type { Command } from 'commander';
import { MAX_TIMEOUT_MS } from '../sandbox/pool.js';
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

export interface NumberRule {
  /** Whole numbers only. */
  integer?: boolean;
  min?: number;
  max?: number;
  /** The value must be above `min`, not equal to it. */
  exclusiveMin?: boolean;
}

/**
 * The one parser of numeric command-line values: `--max-steps -3`, `--seed 1e`, `--lr abc` end the CLI
 * with exit 2 and a message naming the flag, the rule and what was given. Undefined stays undefined.
 */
export function parseNumber(value: string | undefined, flag: string, rule: NumberRule = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  const kind = rule.integer ? 'an integer' : 'a number';
  const bounds = [
    rule.min !== undefined ? `${rule.exclusiveMin ? '>' : '>='} ${rule.min}` : '',
    rule.max !== undefined ? `<= ${rule.max}` : '',
  ].filter(Boolean);
  const ok =
    Number.isFinite(n) &&
    (!rule.integer || Number.isSafeInteger(n)) &&
    (rule.min === undefined || (rule.exclusiveMin ? n > rule.min : n >= rule.min)) &&
    (rule.max === undefined || n <= rule.max);
  if (!ok) throw new CliError(`${flag} must be ${kind}${bounds.length ? ` ${bounds.join(' and ')}` : ''}, got ${JSON.stringify(value)}`, 2);
  return n;
}

/** Common rules. */
export const COUNT: NumberRule = { integer: true, min: 1 };
export const NON_NEGATIVE_INT: NumberRule = { integer: true, min: 0 };
export const POSITIVE: NumberRule = { min: 0, exclusiveMin: true };
/** A sandbox time limit: Node clamps timers of 2^31 ms or more to 1 ms, which would time out every program. */
export const TIMEOUT_MS: NumberRule = { integer: true, min: 1, max: MAX_TIMEOUT_MS };
