import type { Command } from 'commander';
import { CliError } from '../options.js';

interface ReportOptions {
  out: string;
  pdf: boolean;
}

export function register(program: Command): void {
  program
    .command('report')
    .description('render the reproducible report of a run folder: a self-contained index.html (plotly inlined), report-data.json, report.qmd and a PDF when Chromium is installed')
    .argument('<runDir>', 'the run folder, e.g. runs/demo')
    .option('--out <dir>', 'output folder', 'report')
    .option('--no-pdf', 'skip the PDF even when Chromium is installed')
    .action(async (runDir: string, opts: ReportOptions) => {
      const { renderReport } = await import('../../report/index.js');
      try {
        await renderReport(runDir, { out: opts.out, pdf: opts.pdf ? 'auto' : false, log: (l) => console.log(l) });
      } catch (e) {
        throw new CliError(`report: ${(e as Error).message}`, /no such run folder/.test((e as Error).message) ? 2 : 1);
      }
    });
}
