// The report in real headless Chromium: every chart drawn, no console errors, a screenshot in
// test-artifacts/. Skips (saying why) only when no Chromium is installed.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { findChromium, renderReport, VERDICTS } from '../../src/report/index.js';
import { launchChromium } from '../../src/report/chromium.js';
import { ALL_CHARTS_DRAWN } from '../../src/report/render.js';
import { writeFixtureRun } from './fixture.js';

const chromium = findChromium();
const skip = chromium ? false : 'no Chromium installed (apt-get install chromium, or set CHROMIUM_PATH)';
const artifacts = resolve('test-artifacts');

test('report opens in headless Chromium with every chart drawn and no console error', { skip, timeout: 120_000 }, async () => {
  mkdirSync(artifacts, { recursive: true });
  const r = await renderReport(writeFixtureRun(), { out: join(artifacts, 'report'), pdf: false });
  const { context, close } = await launchChromium();
  const problems: string[] = [];
  const external: string[] = [];
  try {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('request', (req) => {
      if (!req.url().startsWith('file:') && !req.url().startsWith('data:')) external.push(req.url());
    });
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.goto(pathToFileURL(r.html).href, { waitUntil: 'load' });
    await page.waitForFunction(ALL_CHARTS_DRAWN, null, { timeout: 60_000 });
    const charts = await page.$$eval('.chart', (els) =>
      els.map((el) => ({
        id: el.id,
        svg: el.querySelectorAll('svg.main-svg').length,
        traces: el.querySelectorAll('.scatterlayer .trace, .barlayer .trace').length,
        width: el.getBoundingClientRect().width,
      })),
    );
    assert.deepEqual(charts.map((c) => c.id), r.report.figures.map((f) => f.id));
    for (const c of charts) {
      assert.ok(c.svg > 0, `${c.id}: no plotly svg`);
      assert.ok(c.traces > 0, `${c.id}: no trace drawn`);
      assert.ok(c.width > 300, `${c.id}: chart is ${c.width}px wide`);
    }
    // the differences box comes first and lists the settings that differ from the paper
    // page code as strings: this project's TypeScript has no DOM types
    const rowsOf = (selector: string): Promise<string[][]> =>
      page.evaluate(`Array.from(document.querySelectorAll(${JSON.stringify(selector)})).map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent.trim()))`) as Promise<string[][]>;
    const top = (selector: string): Promise<number> => page.evaluate(`document.querySelector(${JSON.stringify(selector)}).getBoundingClientRect().top`) as Promise<number>;
    // the differences box comes first and lists the settings that differ from the paper
    assert.ok((await top('#differences')) < (await top('#paper-vs-ours')), 'the differences box is above the verdicts');
    const box = await rowsOf('#differences tbody tr');
    const boxRow = (s: string) => box.find((r) => r[0] === s);
    assert.deepEqual(boxRow('base model'), ['base model', 'Qwen2.5-0.5B', 'embedded', 'differs']);
    assert.deepEqual(boxRow('answer-quality judge'), ['answer-quality judge', 'Claude 3.5 Sonnet', 'offline-rubric', 'differs']);
    assert.equal(boxRow('LoRA r / alpha')?.[3], 'same');
    // every verdict shown is one of the categories, and each claim row carries the one computed for it
    const claims = await rowsOf('#paper-vs-ours table.claims tbody tr');
    const shown = (await page.evaluate(`Array.from(document.querySelectorAll('#paper-vs-ours table.claims tbody tr .status')).map((s) => s.textContent.trim())`)) as string[];
    assert.deepEqual(shown, r.report.findings.claims.map((c) => c.status));
    for (const v of shown) assert.ok((VERDICTS as readonly string[]).includes(v), v);
    assert.ok(shown.includes('setting matched') && shown.includes('not comparable'), shown.join(', '));
    const judgeRow = claims.find((c) => c[0]!.startsWith('Unified traces keep'))!;
    assert.match(judgeRow[3]!, /^not comparable.*answer-quality judge: offline-rubric instead of Claude 3\.5 Sonnet/);
    // charts and table rows are never cut by a page break when printed (a long table may continue on the next page)
    const breaks = (await page.evaluate(`Array.from(document.querySelectorAll('figure, tr')).map((el) => getComputedStyle(el).breakInside)`)) as string[];
    assert.ok(breaks.length > 0 && breaks.every((b) => b === 'avoid'), breaks.join(', '));
    const shot = join(artifacts, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000);
    assert.deepEqual(problems, []);
    assert.deepEqual(external, [], 'the page fetched something from the network');
  } finally {
    await close();
  }
});

test('the PDF is printed through Chromium', { skip, timeout: 120_000 }, async () => {
  const dir = writeFixtureRun();
  const r = await renderReport(dir, { out: join(dir, '..', 'pdf-out'), pdf: true });
  assert.ok(r.pdf);
  const head = readFileSync(r.pdf!).subarray(0, 5).toString('latin1');
  assert.equal(head, '%PDF-');
  assert.ok(statSync(r.pdf!).size > 20_000);
  copyFileSync(r.pdf!, join(artifacts, 'report.pdf'));
});
