import type { Command } from 'commander';
import { addConfigOptions, configFromOptions, type ConfigOptions } from '../options.js';

export function register(program: Command): void {
  addConfigOptions(
    program
      .command('config')
      .description('print the fully resolved configuration (preset + file + overrides) as JSON'),
  ).action((opts: ConfigOptions) => {
    console.log(JSON.stringify(configFromOptions(opts), null, 2));
  });
}
