// Shared by the interop tests: a run folder with the smoke preset's data (the data stage is offline and
// instant), and the Python venv with the Hugging Face stack, when there is one.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig, writeRunConfig, type Config } from '../../src/config/index.js';
import { buildDatasets } from '../../src/data/index.js';
import { fromRoot } from '../../src/util/paths.js';

export async function makeDataRun(parent: string, name = 'run'): Promise<{ dir: string; config: Config }> {
  const config = resolveConfig({ preset: 'smoke', overrides: [{ run: { dir: parent, name } }] });
  const dir = join(parent, name);
  writeRunConfig(config, dir);
  await buildDatasets(config, { outDir: join(dir, 'data') });
  return { dir, config };
}

/**
 * The venv the HF tests use: $UNITRACE_HF_VENV, else .venv-hf in the repository (what .ci/run makes).
 * Returns its bin folder, or why there is none (the tests skip with that message).
 */
export function hfVenv(): { bin: string } | { skip: string } {
  const venv = process.env.UNITRACE_HF_VENV ?? fromRoot('.venv-hf');
  const python = join(venv, 'bin', 'python');
  if (!existsSync(python)) return { skip: `no Hugging Face venv at ${venv} (set UNITRACE_HF_VENV, or let .ci/run create .venv-hf with trl peft transformers accelerate datasets torch)` };
  const probe = spawnSync(python, ['-c', 'import trl, peft, transformers, accelerate, datasets, torch; print(trl.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) return { skip: `${python} lacks part of trl/peft/transformers/accelerate/datasets/torch: ${(probe.stderr || '').trim().split('\n').pop()}` };
  if (!existsSync(join(venv, 'bin', 'trl'))) return { skip: `${venv}/bin/trl is missing (TRL's command line)` };
  return { bin: join(venv, 'bin') };
}
