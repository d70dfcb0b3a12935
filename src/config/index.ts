// Resolving a config: preset, then a JSON file, then dotted overrides (e.g. `sft.epochs=3`), then checked.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertKnownKeys } from './keys.js';
import { configSchema, type Config, type DeepPartial } from './schema.js';
import { paper, presetNames, presetOverrides } from './presets.js';

export { configSchema, LORA_MODULES, type Config, type DeepPartial, type LoraConfig, type LoraModule, type TrainingConfig } from './schema.js';
export { assertKnownKeys, describeKey, explainFields, keyPaths, nearestKey, unknownKeys, type FieldHelp } from './keys.js';
export { presetNames } from './presets.js';

export function deepMerge<T>(base: T, patch: DeepPartial<T> | undefined): T {
  if (patch === undefined) return base;
  if (Array.isArray(base) || typeof base !== 'object' || base === null) return patch as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === undefined) continue;
    out[k] = k in out ? deepMerge(out[k], v as never) : v;
  }
  return out as T;
}

/** Parses `a.b.c=value` into a nested patch; value is JSON when it parses as JSON, else a string. */
export function parseOverride(expr: string): DeepPartial<Config> {
  const eq = expr.indexOf('=');
  if (eq <= 0) throw new Error(`config override '${expr}' is not of the form key.path=value`);
  const path = expr.slice(0, eq).split('.');
  const rawValue = expr.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(rawValue);
  } catch {
    value = rawValue;
  }
  const patch: Record<string, unknown> = {};
  let node = patch;
  path.forEach((key, i) => {
    if (i === path.length - 1) node[key] = value;
    else node = (node[key] = {}) as Record<string, unknown>;
  });
  return patch as DeepPartial<Config>;
}

export interface ResolveOptions {
  preset?: string;
  /** A JSON file holding a partial (or full) config. */
  file?: string;
  overrides?: (string | DeepPartial<Config>)[];
}

/** The preset comes from options, then UNITRACE_PRESET, then `demo`. */
export function resolveConfig(options: ResolveOptions = {}): Config {
  const preset = options.preset ?? process.env.UNITRACE_PRESET ?? 'demo';
  if (!(preset in presetOverrides)) throw new Error(`unknown preset '${preset}' (known: ${presetNames.join(', ')})`);
  assertKnownKeys(paper, 'preset paper');
  assertKnownKeys(presetOverrides[preset], `preset ${preset}`);
  let config = deepMerge(paper, presetOverrides[preset]);
  if (options.file) {
    let patch: DeepPartial<Config>;
    try {
      patch = JSON.parse(readFileSync(options.file, 'utf8'));
    } catch (e) {
      throw new Error(`${options.file}: cannot read config (${(e as Error).message})`);
    }
    assertKnownKeys(patch, options.file);
    config = deepMerge(config, patch);
  }
  for (const o of options.overrides ?? []) {
    const patch = typeof o === 'string' ? parseOverride(o) : o;
    assertKnownKeys(patch, typeof o === 'string' ? `--set ${o}` : 'override');
    config = deepMerge(config, patch);
  }
  const checked = configSchema.safeParse(config);
  if (!checked.success) {
    const issues = checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid config: ${issues}`);
  }
  return checked.data;
}

export const runDir = (config: Config): string => join(config.run.dir, config.run.name);

/** Writes the resolved config into the run folder (the single source of truth for that run). */
export function writeRunConfig(config: Config, dir = runDir(config)): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
  return file;
}
