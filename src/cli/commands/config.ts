import type { Command } from 'commander';
import { explainFields, type Config } from '../../config/index.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from '../options.js';

interface ConfigCliOptions extends ConfigOptions {
  explain?: boolean;
}

/** One line per field: key, type, its value in the resolved config, what it does. */
function explain(config: Config): string {
  const fields = explainFields();
  const valueOf = (path: string) => JSON.stringify(path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], config));
  // A long enum list is spelled out in the description already.
  const rows = fields.map((f) => [f.path, f.type.length > 28 ? f.type.replace(/ of .*/, ' of names') : f.type, valueOf(f.path), f.description]);
  const width = (i: number) => Math.max(...rows.map((r) => r[i]!.length));
  const [w0, w1, w2] = [width(0), Math.min(width(1), 28), Math.min(width(2), 24)];
  return rows.map(([p, t, v, d]) => `${p!.padEnd(w0)}  ${t!.padEnd(w1)}  ${v!.padEnd(w2)}  ${d}`).join('\n');
}

export function register(program: Command): void {
  addConfigOptions(
    program
      .command('config')
      .description('print the fully resolved configuration (preset + file + overrides) as JSON; --explain describes every key')
      .option('--explain', 'one line per key: type, resolved value and what it does'),
  ).action((opts: ConfigCliOptions) => {
    const config = configFromOptions(opts);
    console.log(opts.explain ? explain(config) : JSON.stringify(config, null, 2));
  });
}
