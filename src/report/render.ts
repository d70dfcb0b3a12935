// `unitrace report RUN_DIR --out DIR`: index.html (self-contained), report-data.json (the numbers behind
// it, also read by report.qmd), report.qmd (for Quarto users) and report.pdf when Chromium is installed.
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeDirs } from '../util/files.js';
import { fromRoot } from '../util/paths.js';
import { findChromium, launchChromium } from './chromium.js';
import { buildReportData, reportDataFile, type ReportData } from './data.js';
import { renderHtml } from './html.js';

export interface RenderOptions {
  out: string;
  /** 'auto' (default): a PDF when Chromium is installed; true: fail without Chromium; false: no PDF. */
  pdf?: boolean | 'auto';
  log?: (line: string) => void;
}

export interface RenderResult {
  html: string;
  data: string;
  qmd: string | null;
  pdf: string | null;
  report: ReportData;
}

export async function renderReport(runDir: string, options: RenderOptions): Promise<RenderResult> {
  const log = options.log ?? (() => {});
  const out = resolve(options.out);
  makeDirs(out);
  const report = buildReportData(resolve(runDir));
  const html = join(out, 'index.html');
  writeFileSync(html, renderHtml(report));
  const data = reportDataFile(out);
  writeFileSync(data, JSON.stringify(report, null, 2) + '\n');
  log(`report: ${html}`);

  const template = fromRoot('report', 'report.qmd');
  let qmd: string | null = null;
  if (existsSync(template)) {
    qmd = join(out, 'report.qmd');
    if (resolve(template) !== qmd) copyFileSync(template, qmd);
  }

  let pdf: string | null = null;
  const wantPdf = options.pdf ?? 'auto';
  if (wantPdf === true || (wantPdf === 'auto' && findChromium())) {
    pdf = join(out, 'report.pdf');
    await printPdf(html, pdf);
    log(`report: ${pdf}`);
  } else if (wantPdf === 'auto') {
    log('report: no Chromium installed, so no PDF (install Debian `chromium` for one)');
  }
  return { html, data, qmd, pdf, report };
}

/** Evaluated in the page (a string, so this Node module needs no DOM types). */
export const ALL_CHARTS_DRAWN = "Array.from(document.querySelectorAll('.chart')).every((el) => el.getAttribute('data-drawn') === 'true')";

/** Prints the page once every chart reports it has been drawn. */
async function printPdf(htmlFile: string, pdfFile: string): Promise<void> {
  const { context, close } = await launchChromium();
  try {
    const page = await context.newPage();
    await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'load' });
    await page.waitForFunction(ALL_CHARTS_DRAWN, null, { timeout: 30_000 });
    await page.emulateMedia({ media: 'print' });
    await page.pdf({ path: pdfFile, format: 'A4', printBackground: true, margin: { top: '1cm', bottom: '1cm', left: '1cm', right: '1cm' } });
  } finally {
    await close();
  }
}
