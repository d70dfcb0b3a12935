// The report computed from a synthetic run folder (test/report/fixture.ts writes TEST DATA).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildReportData, epochLosses, renderHtml, renderReport, summarizeTraining } from '../../src/report/index.js';
import { writeFixtureRun } from './fixture.js';

test('per-epoch losses accept fractional and integer epoch counters', () => {
  const frac = [0.5, 1, 1.5, 2].map((epoch, i) => ({ step: i + 1, epoch, loss: [4, 2, 1, 1][i]! }));
  assert.deepEqual(epochLosses(frac), [
    { epoch: 1, meanLoss: 3, steps: 2 },
    { epoch: 2, meanLoss: 1, steps: 2 },
  ]);
  const zeroBased = [0, 0, 1, 1].map((epoch, i) => ({ step: i + 1, epoch, loss: [4, 2, 1, 1][i]! }));
  assert.deepEqual(epochLosses(zeroBased).map((e) => e.epoch), [1, 2]);
  const s = summarizeTraining([...frac, { step: 5, epoch: 2.5, loss: NaN }]);
  assert.equal(s.nonFiniteLosses, 1);
  assert.equal(s.lossReduction, (3 - 1) / 3);
});

test('Table 1 and the paper-vs-ours verdicts follow the run, not typed-in numbers', () => {
  const good = buildReportData(writeFixtureRun({ epochs: 100, stepsPerEpoch: 1, nOriginal: 300, nSynthetic: 200, firstLoss: 0.8, lastLoss: 0.01 }));
  const row = (name: string) => good.findings.table1.find((r) => r.metric === name)!;
  assert.equal(row('Dataset balance').ours, '40.0% synthetic');
  assert.equal(row('Dataset balance').status, 'reproduced');
  assert.match(row('Training epochs').oursDetails, /^20,000 trace exposures, 100 optimizer steps/);
  assert.equal(row('Loss reduction').ours, '98.8%');
  assert.equal(row('Format compliance').status, 'reproduced');
  assert.equal(row('Trace structure').status, 'reproduced');

  // a different run gives different numbers and verdicts
  const bad = buildReportData(writeFixtureRun({ epochs: 3, nOriginal: 30, nSynthetic: 30, firstLoss: 1, lastLoss: 0.5, strictShare: 0.3 }));
  const badRow = (name: string) => bad.findings.table1.find((r) => r.metric === name)!;
  assert.equal(badRow('Dataset balance').ours, '50.0% synthetic');
  assert.equal(badRow('Dataset balance').status, 'not reproduced');
  assert.equal(badRow('Training epochs').status, 'not reproduced');
  assert.equal(badRow('Loss reduction').ours, '50.0%');
  assert.equal(badRow('Loss reduction').status, 'not reproduced');
  assert.equal(badRow('Format compliance').ours, '30.0% strict');
  assert.equal(badRow('Format compliance').status, 'not reproduced');

  // missing artifacts are 'not measured', never invented
  const bare = buildReportData(writeFixtureRun({ withEval: false, withDpo: false }));
  assert.equal(bare.findings.claims.find((c) => c.claim === '100% format compliance')!.status, 'not measured');
  assert.equal(bare.figures.filter((f) => f.id.startsWith('dpo-')).length, 0);
});

test('evaluation table has all five models with intervals; samples carry the code output', () => {
  const d = buildReportData(writeFixtureRun());
  assert.deepEqual(d.findings.evalTable.models, ['reference', 'sft-original', 'sft-cot', 'sft-unified', 'sft-unified-dpo']);
  assert.deepEqual(d.findings.evalTable.cells['sft-cot']!['all.strict'], { value: 0.5, lo: 0.4, hi: 0.6 });
  assert.equal(d.findings.evalTable.cells['reference']!['all.winRate'], undefined, 'an empty estimate is no number');
  assert.equal(d.samples[0]!.prompt, 'What is 2 + 3? (#0)');
  assert.equal(d.findings.evalTable.judge, 'offline-rubric');
  assert.ok(d.samples.length > 0);
  assert.equal(d.samples[0]!.codeOutput, '5\n');
  assert.equal(d.manifest.backend, 'wasm');
  assert.equal(d.manifest.wallTimes.length, 6);
  assert.equal(d.manifest.totalWallSeconds, 10 + 11 + 12 + 13 + 14 + 15);
  assert.equal(d.manifest.dataHashes['data/sft-unified.jsonl'], 'TESTDATA0000');
  assert.equal(d.manifest.dataHashes['sources.original.sha256'], 'TESTSOURCE00');
});

test('the HTML is self-contained: plotly inlined, no external URL, every figure has a chart element', async () => {
  const dir = writeFixtureRun();
  const out = join(dir, '..', 'report-out');
  const r = await renderReport(dir, { out, pdf: false });
  const html = readFileSync(r.html, 'utf8');
  assert.ok(html.length > 3_000_000, 'plotly.js is inlined');
  assert.doesNotMatch(html, /<script[^>]+src=/i);
  assert.doesNotMatch(html, /<link[^>]+href=["']https?:/i);
  for (const f of r.report.figures) assert.ok(html.includes(`data-figure="${f.id}"`), f.id);
  assert.deepEqual(r.report.figures.map((f) => f.id), ['sft-loss-steps', 'sft-loss-epochs', 'dpo-loss', 'dpo-rewards', 'dpo-margins', 'eval-bars']);
  const data = JSON.parse(readFileSync(r.data, 'utf8'));
  assert.equal(data.findings.table1.length, 6);
});

test('text from the run is escaped in the page', () => {
  const dir = writeFixtureRun();
  writeFileSync(
    join(dir, 'eval', 'sft-unified', 'responses.jsonl'),
    JSON.stringify({ id: 'x', response: '<script>alert(1)</script>', stdout: '</script><b>' }) + '\n',
  );
  const html = renderHtml(buildReportData(dir));
  assert.ok(!html.includes('<script>alert(1)</script>'));
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
});

test('each SFT run is summarized with its own epoch budget', () => {
  const d = buildReportData(writeFixtureRun({ epochs: 4 }));
  const unified = d.sftRuns.find((r) => r.name === 'sft-unified')!;
  assert.equal(unified.configuredEpochs, 4);
  assert.equal(unified.summary.epochs, 4);
  // metrics.jsonl's tokens is a running total: the run's count is the last row's, not a sum of rows.
  assert.equal(unified.summary.tokens, 1000 * unified.summary.steps);
  assert.deepEqual(d.sftRuns.map((r) => r.name), ['sft-original', 'sft-cot', 'sft-unified']);
  assert.equal(d.dpo!.steps, 6);
});

test('claims use the over-all-items metric, not a subgroup', () => {
  const dir = writeFixtureRun();
  const file = join(dir, 'eval', 'summary.json');
  const summary = JSON.parse(readFileSync(file, 'utf8'));
  summary.models['sft-unified'].id.judgeScore.mean = 0.99; // a subgroup value that must not be picked
  writeFileSync(file, JSON.stringify(summary));
  const claim = buildReportData(dir).findings.claims.find((c) => c.claim.startsWith('Unified traces keep'))!;
  assert.match(claim.ours, /^0\.330 vs 0\.310 \(all\.judgeScore, offline-rubric judge\)$/);
});

test('unitrace report: writes the page from the CLI, exit 2 for a missing run folder', () => {
  const dir = writeFixtureRun();
  const out = join(dir, '..', 'cli-out');
  const ok = spawnSync(process.execPath, ['bin/unitrace.mjs', 'report', dir, '--out', out, '--no-pdf'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /report: .*index\.html/);
  assert.ok(readFileSync(join(out, 'index.html'), 'utf8').includes('Paper vs ours'));
  const missing = spawnSync(process.execPath, ['bin/unitrace.mjs', 'report', join(dir, 'nope'), '--out', out], { encoding: 'utf8' });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no such run folder/);
});
