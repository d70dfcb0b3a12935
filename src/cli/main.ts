// The `unitrace` command. Each subcommand lives in its own file under commands/ and exports
// `register(program)`; heavy libraries are imported inside each action so `--help` stays fast.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';

export interface CommandModule {
  register(program: Command): void;
}

export async function buildProgram(): Promise<Command> {
  const here = dirname(fileURLToPath(import.meta.url));
  const pkg = JSON.parse(readFileSync(join(here, '..', '..', 'package.json'), 'utf8')) as { version: string };
  const program = new Command('unitrace')
    .description('Unified reasoning traces for small language models: synthesis, LoRA SFT, DPO, evaluation, report.')
    .version(pkg.version)
    .showHelpAfterError()
    .addHelpText(
      'after',
      '\nPresets: paper (the paper\'s settings), demo (embedded tiny model, minutes), smoke (about a minute).\n' +
        'Run `unitrace <command> --help` for every option of a command.',
    );
  const dir = join(here, 'commands');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort();
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as CommandModule;
    mod.register(program);
  }
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode;
      return;
    }
    const err = e as Error;
    console.error(`unitrace: ${err.message}`);
    if (process.env.UNITRACE_DEBUG) console.error(err.stack);
    process.exitCode = (err as { exitCode?: number }).exitCode ?? 1;
  }
}
