// The report in real headless Chromium: every chart drawn, no console errors, a screenshot in
// test-artifacts/. Skips (saying why) only when no Chromium is installed.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { findChromium, renderReport } from '../../src/report/index.js';
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
});
