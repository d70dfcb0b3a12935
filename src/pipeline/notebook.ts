// What a notebook cell calls. `notebookRun()` finds the run the way `npm start` set it up (environment
// variables) or, opened by hand, resolves the preset itself; `run.stage(name)` runs one pipeline stage
// with its marker, exactly as the CLI would.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { configSchema, resolveConfig, type Config } from '../config/index.js';
import { packageRoot } from '../util/paths.js';
import { readDone } from './markers.js';
import { ensureRunConfig, runStage, stageLogger, type StageHooks, type StageRun } from './stage.js';
import { stageByName } from './stages.js';

export interface NotebookRun {
  config: Config;
  runDir: string;
  /** Runs the named stage unless it finished before (then its recorded result is returned). */
  stage(name: string, hooks?: StageHooks): Promise<StageRun>;
  /** Whether a stage has finished in this run folder. */
  done(name: string): boolean;
}

export interface NotebookRunOptions {
  /** Preset when opened by hand (default: $UNITRACE_PRESET, else demo). */
  preset?: string;
  /**
   * Dotted settings, e.g. ['sft.lr=0.0005']. On top of the run the notebook works on, they make a variant
   * run in its own folder next to it (runs/<name>-<overrides>), so an experiment never mixes into the
   * pipeline's run; its stages start from the data stage.
   */
  overrides?: string[];
  /** Folder name of the variant run (default: derived from the overrides). */
  name?: string;
}

/** A folder-safe name for a variant: `sft.lr=0.0005` -> `sft.lr-0.0005`. */
export function variantName(base: string, overrides: readonly string[]): string {
  const slug = overrides.map((o) => o.replace(/=/g, '-').replace(/[^A-Za-z0-9._-]+/g, '_')).join('_').slice(0, 80);
  return `${base}-${slug}`;
}

/**
 * The run a notebook works on: $UNITRACE_RUN_DIR (set by `npm start`) with the config.json stored there,
 * or runs/<preset name> under the package root, so a notebook opened from any folder finds the same run.
 */
export function notebookRun(options: NotebookRunOptions = {}): NotebookRun {
  const envDir = process.env.UNITRACE_RUN_DIR;
  let config: Config;
  let runDir: string;
  if (envDir && existsSync(join(envDir, 'config.json'))) {
    runDir = resolve(envDir);
    const file = join(runDir, 'config.json');
    const parsed = configSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new Error(`${file} does not fit this version's config (${issues}); start the run over (unitrace pipeline --restart) or use another run folder`);
    }
    config = parsed.data;
    if (options.overrides?.length) {
      const name = options.name ?? variantName(config.run.name, options.overrides);
      config = resolveConfig({ preset: config.preset, overrides: [config, ...options.overrides, { run: { name } }] });
      runDir = join(dirname(runDir), name);
    }
  } else {
    const base = resolveConfig({ preset: options.preset });
    const name = options.name ?? (options.overrides?.length ? variantName(base.run.name, options.overrides) : base.run.name);
    config = resolveConfig({ preset: options.preset, overrides: [...(options.overrides ?? []), { run: { name } }] });
    runDir = envDir ? resolve(envDir) : resolve(isAbsolute(config.run.dir) ? config.run.dir : join(packageRoot, config.run.dir), config.run.name);
  }
  ensureRunConfig(config, runDir);
  const log = stageLogger(runDir);
  return {
    config,
    runDir,
    done: (name) => readDone(runDir, name) !== null,
    stage: (name, hooks = {}) => runStage({ config, runDir, mode: 'notebook', hooks, log }, stageByName(name)),
  };
}
