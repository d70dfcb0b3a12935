import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { addConfigOptions, CliError, configFromOptions, type ConfigOptions } from '../options.js';

interface PipelineCliOptions extends ConfigOptions {
  direct?: boolean;
  restart?: boolean;
  runDir?: string;
}

export function register(program: Command): void {
  addConfigOptions(
    program
      .command('pipeline')
      .description(
        'the whole reproduction on one run folder (what `npm start` runs): data -> SFT (original, cot, unified) -> DPO -> evaluation -> report. ' +
          'Executes the notebooks through Jupyter when installed (executed copies kept in RUN/notebooks/), else runs the same stages directly. ' +
          'Finished stages are skipped on a rerun.',
      )
      .option('--direct', 'run the stages directly even when Jupyter is installed')
      .option('--restart', 'forget the finished stages of this run folder and run everything again')
      .option('--run-dir <dir>', 'run folder (default: <run.dir>/<run.name> from the config, e.g. runs/demo); the report goes to <run-dir>/<report.out>, e.g. runs/demo/report'),
  ).action(async (opts: PipelineCliOptions) => {
    // light import first: a missing key, file or model folder is reported before tfjs and the stages load
    const { PreflightError, assertPreflight } = await import('../../pipeline/preflight.js');
    const { fromRoot } = await import('../../util/paths.js');
    const config = configFromOptions(opts);
    const runDir = resolve(opts.runDir ?? resolve(config.run.dir, config.run.name));
    try {
      assertPreflight(config);
    } catch (e) {
      if (e instanceof PreflightError) throw new CliError(e.message, 2);
      throw e;
    }
    const { runPipeline, defaultStages, checkJupyter, ensureFreshBundle, executeNotebook, reportDir, StageError } = await import('../../pipeline/index.js');
    let executor;
    if (!opts.direct) {
      const jupyter = checkJupyter();
      if (jupyter.ok) {
        ensureFreshBundle();
        executor = (nb: string, env: Record<string, string>, onOutput: (l: string) => void) =>
          executeNotebook(nb, { outDir: resolve(runDir, 'notebooks'), env, onOutput });
      } else {
        console.log(`pipeline: ${jupyter.reason}; running the stages directly instead of the notebooks`);
      }
    }
    try {
      const r = await runPipeline({ config, runDir, stages: defaultStages(), executeNotebook: executor, notebooksDir: fromRoot('notebooks'), restart: opts.restart });
      console.log(`pipeline: finished in ${(r.wallSeconds / 60).toFixed(1)} min (ran: ${r.ran.join(', ') || 'nothing'}; skipped: ${r.skipped.join(', ') || 'nothing'})`);
      for (const m of r.markers) console.log(`  ${m.stage.padEnd(14)} ${m.wallSeconds.toFixed(1).padStart(8)} s  (${m.mode})`);
      if (r.notebooks.length) console.log(`pipeline: executed notebooks in ${resolve(runDir, 'notebooks')}`);
      const html = join(reportDir(config, runDir), 'index.html');
      if (existsSync(html)) console.log(`pipeline: report in ${relative(process.cwd(), html) || html}`);
    } catch (e) {
      if (e instanceof StageError) throw new CliError(`${e.message}\nfix the cause and rerun: finished stages are kept`, 1);
      throw e;
    }
  });
}
