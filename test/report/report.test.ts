// The report computed from a synthetic run folder (test/report/fixture.ts writes TEST DATA).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildReportData, direction, epochLosses, markdownTable, renderHtml, renderReport, summarizeTraining } from '../../src/report/index.js';
import { logTicks, movingAverage } from '../../src/report/charts.js';
import { fixtureJudgeScores, writeFixtureRun } from './fixture.js';

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

const PAPER_MODEL = 'model.source=/models/Qwen2.5-0.5B';

test('Table 1 and the paper-vs-ours verdicts follow the run, not typed-in numbers', () => {
  const good = buildReportData(writeFixtureRun({ epochs: 100, stepsPerEpoch: 1, nOriginal: 300, nSynthetic: 200, firstLoss: 0.8, lastLoss: 0.01, configOverrides: [PAPER_MODEL] }));
  const row = (name: string) => good.findings.table1.find((r) => r.metric === name)!;
  assert.equal(row('Dataset balance').ours, '40.0% synthetic');
  assert.equal(row('Dataset balance').status, 'setting matched', 'an obeyed setting is not a reproduced finding');
  assert.equal(row('Training epochs').status, 'setting matched');
  assert.match(row('Training epochs').oursDetails, /^20,000 trace exposures, 100 optimizer steps/);
  assert.equal(row('Loss reduction').ours, '98.8%');
  assert.equal(row('Loss reduction').status, 'reproduced');
  assert.equal(row('Training stability').status, 'reproduced');
  assert.equal(row('Format compliance').status, 'reproduced');
  assert.equal(row('Trace structure').status, 'reproduced');

  // a different run gives different numbers and verdicts
  const bad = buildReportData(writeFixtureRun({ epochs: 3, nOriginal: 30, nSynthetic: 30, firstLoss: 1, lastLoss: 0.5, strictShare: 0.3, spikeAtEpoch: 2, configOverrides: [PAPER_MODEL] }));
  const badRow = (name: string) => bad.findings.table1.find((r) => r.metric === name)!;
  assert.equal(badRow('Dataset balance').ours, '50.0% synthetic');
  assert.equal(badRow('Dataset balance').status, 'not comparable');
  assert.match(badRow('Dataset balance').why!, /different data: 50\.0% synthetic/);
  assert.equal(badRow('Training epochs').status, 'not comparable');
  assert.equal(badRow('Loss reduction').status, 'not reproduced');
  assert.equal(badRow('Training stability').status, 'not reproduced', 'an epoch whose mean loss rose by more than 10% is a spike');
  assert.match(badRow('Training stability').oursDetails, /1 epoch\(s\) with mean loss up >10%/);
  assert.equal(badRow('Format compliance').ours, '30.0% strict');
  assert.equal(badRow('Format compliance').status, 'not reproduced');

  // the embedded model: the loss claim rests on the paper's model
  const embedded = buildReportData(writeFixtureRun({ epochs: 100, stepsPerEpoch: 1, firstLoss: 0.8, lastLoss: 0.01 }));
  const loss = embedded.findings.table1.find((r) => r.metric === 'Loss reduction')!;
  assert.equal(loss.status, 'not comparable');
  assert.match(loss.why!, /base model: embedded instead of Qwen2\.5-0\.5B/);

  // missing artifacts are 'not measured', never invented
  const bare = buildReportData(writeFixtureRun({ withEval: false, withDpo: false }));
  assert.equal(bare.findings.claims.find((c) => c.claim === '100% format compliance')!.status, 'not measured');
  assert.equal(bare.figures.filter((f) => f.id.startsWith('dpo-')).length, 0);
});

test("the paper's hypothesis that executed code answers more problems: decided on the in-distribution intervals", () => {
  const verdict = (unified: number, baselines: number, cotFinal?: number) =>
    buildReportData(writeFixtureRun({ accuracy: { unified, baselines, cotFinal } })).findings.claims.find((c) => c.claim.startsWith('Executable code makes'))!;
  // the fixture's intervals are the mean +-0.1
  const clear = verdict(0.6, 0.1);
  assert.equal(clear.status, 'reproduced');
  assert.match(clear.ours, /sft-unified programAccuracy 0\.600 \[0\.500, 0\.700\] n=10 vs sft-cot statedAccuracy 0\.100 .* vs sft-cot finalAccuracy 0\.100 .* vs sft-original finalAccuracy 0\.100/);
  // a CoT model that states no <answer> section is judged by the answer in its words too
  assert.equal(verdict(0.6, 0, 0.55).status, 'inconclusive');
  assert.equal(verdict(0.25, 0.1).status, 'inconclusive', 'overlapping intervals decide nothing');
  assert.equal(verdict(0.05, 0.4).status, 'not reproduced');
  assert.equal(buildReportData(writeFixtureRun({ withEval: false })).findings.claims.find((c) => c.claim.startsWith('Executable code makes'))!.status, 'not measured');
});

test('judge-score claims: not comparable under another judge; decided on paired differences under the paper\'s', () => {
  const claim = (d: ReturnType<typeof buildReportData>, start: string) => d.findings.claims.find((c) => c.claim.startsWith(start))!;
  const offline = buildReportData(writeFixtureRun());
  for (const start of ['Unified traces keep', 'DPO did not improve']) {
    assert.equal(claim(offline, start).status, 'not comparable');
    assert.match(claim(offline, start).why!, /answer-quality judge: offline-rubric instead of Claude 3\.5 Sonnet/);
  }
  assert.ok(!offline.findings.claims.some((c) => /judge|quality|DPO/i.test(c.claim) && c.status === 'reproduced'));

  const claude = (shift: number) => buildReportData(writeFixtureRun({ judge: 'claude:claude-3-5-sonnet', dpoJudgeShift: shift }));
  const even = claude(0);
  const dpo = claim(even, 'DPO did not improve');
  assert.equal(dpo.status, 'inconclusive', 'the paired interval holds zero');
  assert.ok(dpo.paired!.lo! < 0 && dpo.paired!.hi! > 0);
  assert.equal(dpo.paired!.n, 10);
  assert.match(dpo.ours, /95% interval \[-0\.\d+, \+0\.\d+\], 10 paired prompts/);
  assert.equal(claim(even, 'Unified traces keep').status, 'reproduced');
  assert.equal(claim(claude(-0.2), 'DPO did not improve').status, 'reproduced');
  assert.equal(claim(claude(0.2), 'DPO did not improve').status, 'not reproduced');
});

test('paired differences: same prompts resampled together; a constant difference gets no interval', () => {
  const d = buildReportData(writeFixtureRun({ judge: 'claude:claude-3-5-sonnet' }));
  const find = (a: string, b: string, m: string) => d.findings.comparisons.find((p) => p.a === a && p.b === b && p.metric === m)!;
  const q = find('sft-unified', 'sft-original', 'judgeScore');
  const u = fixtureJudgeScores('sft-unified', 10, 0);
  const o = fixtureJudgeScores('sft-original', 10, 0);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(Math.abs(q.diff! - mean(u.map((x, i) => x - o[i]!))) < 1e-12);
  assert.ok(Math.abs(q.meanA! - mean(u)) < 1e-12);
  assert.equal(q.n, 10, 'the instruction item has no judge score here, so 10 pairs');
  assert.ok(q.lo! <= q.diff! && q.diff! <= q.hi!);
  // both models are right on every item: the difference is 0 everywhere, no interval is made
  const final = find('sft-unified', 'sft-original', 'finalAccuracy');
  assert.equal(final.constant, true);
  assert.equal(final.lo, null);
  assert.equal(direction(final), 'no separation');
  assert.equal(d.findings.bootstrap.resamples, 400, 'made like the evaluator\'s intervals');
  const again = buildReportData(writeFixtureRun({ judge: 'claude:claude-3-5-sonnet' }));
  assert.deepEqual(again.findings.comparisons, d.findings.comparisons, 'seeded: the same run gives the same intervals');
});

test('the differences box reads the run config against the paper', () => {
  const d = buildReportData(writeFixtureRun());
  const row = (s: string) => d.findings.differences.rows.find((r) => r.setting === s)!;
  assert.equal(row('base model').ours, 'embedded');
  assert.equal(row('base model').same, false);
  assert.equal(row('trace teacher').same, false);
  assert.equal(row('answer-quality judge').ours, 'offline-rubric');
  assert.match(row('SFT learning rate').ours, /^0\.002 \(100x the paper's\)$/);
  assert.equal(row('LoRA r / alpha').same, true);
  assert.deepEqual(Object.keys(d.findings.differences.differs).sort(), ['data', 'judge', 'model', 'teacher']);
});

test('evaluation table has all five models with intervals; samples carry the code output', () => {
  const d = buildReportData(writeFixtureRun());
  assert.deepEqual(d.findings.evalTable.models, ['reference', 'sft-original', 'sft-cot', 'sft-unified', 'sft-unified-dpo']);
  assert.deepEqual(d.findings.evalTable.cells['sft-cot']!['all.strict'], { value: 0.5, lo: 0.4, hi: 0.6, n: 10 });
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

test('the evaluation table shows item counts, metric names in words and no interval for a constant metric', () => {
  const dir = writeFixtureRun();
  const file = join(dir, 'eval', 'summary.json');
  const summary = JSON.parse(readFileSync(file, 'utf8'));
  summary.models['sft-unified'].all.strict = { mean: 1, lo: 1, hi: 1, se: 0, n: 10 };
  writeFileSync(file, JSON.stringify(summary));
  const d = buildReportData(dir);
  assert.equal(d.findings.evalTable.cells['sft-unified']!['all.strict']!.n, 10);
  assert.equal(d.statistics.resamples, 400);
  const html = renderHtml(d);
  assert.match(html, /resampled with replacement 400 times \(seed 42\)/);
  assert.match(html, /strict trace format, all items<br><code>all\.strict<\/code>/);
  assert.match(html, /1 <span class="ci">\(same on every item\)<\/span> <span class="n">n=10<\/span>/);
  assert.doesNotMatch(html, /\[1, 1\]/);
});

test('SFT chart helpers: a moving average and 1-2-5 log ticks', () => {
  assert.deepEqual(movingAverage([1, 2, 3, null, 5], 3), [1.5, 2, 2.5, 4, 5]);
  assert.deepEqual(logTicks([0.011, 0.9]), { tickvals: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1], ticktext: ['0.01', '0.02', '0.05', '0.1', '0.2', '0.5', '1'] });
  assert.deepEqual(logTicks([1.3, 4.5])!.tickvals, [1, 2, 3, 4, 5], 'too narrow for 1-2-5: every digit');
  assert.equal(logTicks([1.37, 2.18]), null, 'too narrow for digits: plotly picks the ticks');
  const fig = buildReportData(writeFixtureRun()).figures.find((f) => f.id === 'sft-loss-steps')!;
  assert.equal(fig.data.length, 6, 'each run: the raw steps and their moving average');
});

test('markdownTable prints numbers as given (a ground truth 239.85 stays 239.85)', () => {
  assert.equal(markdownTable(['x'], [[239.85], [0.1 + 0.2], [1 / 3]]), '| x |\n| --- |\n| 239.85 |\n| 0.3 |\n| 0.333333333333 |');
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
