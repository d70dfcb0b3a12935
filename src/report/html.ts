// Renders ReportData as one self-contained HTML page: plotly.js is inlined (no CDN, works offline), the
// figures travel as JSON inside the page, and every table is plain HTML.
import { readFileSync } from 'node:fs';
import { fromRoot } from '../util/paths.js';
import type { ReportData } from './data.js';
import type { Estimate } from './evaluation.js';
import { fmt, signed, VERDICTS, type Status } from './findings.js';
import { metricDefinition, metricLabel } from './metric-names.js';
import { direction } from './paired.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe to place inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const e = escapeHtml;

function table(head: string[], rows: string[][], cls = ''): string {
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const statusBadge = (s: Status): string => `<span class="status ${s.replace(/ /g, '-')}">${e(s)}</span>`;

/** A value with its interval and item count; a metric equal on every item gets no interval (it would be [x, x]). */
function estimate(c: Estimate | undefined): string {
  if (!c) return '<span class="na">-</span>';
  const f = (x: number) => (Number.isInteger(x) ? String(x) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(3));
  const n = c.n !== undefined ? ` <span class="n">n=${c.n}</span>` : '';
  if (c.lo === undefined || c.hi === undefined) return f(c.value) + n;
  if (c.lo === c.hi) return `${f(c.value)} <span class="ci">(same on every item)</span>${n}`;
  return `${f(c.value)} <span class="ci">[${f(c.lo)}, ${f(c.hi)}]</span>${n}`;
}

function secs(s: number): string {
  if (!Number.isFinite(s)) return '-';
  return s >= 90 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`;
}

const VERDICT_MEANING: Record<Status, string> = {
  'setting matched': 'a configuration of the paper that this run obeyed; a setting, not a finding',
  reproduced: "this run's measurement clears the claim's rule",
  'not reproduced': "this run's measurement fails the claim's rule",
  inconclusive: 'the interval (or paired difference) straddles the rule\'s threshold: the data cannot decide',
  'not comparable': 'this run measured with another model, data, teacher or judge than the claim rests on (the row says which)',
  'not measured': 'the run has no file to measure it from',
};

function sectionDifferences(d: ReportData): string {
  const rows = d.findings.differences.rows.map((r) => [e(r.setting), e(r.paper), e(r.ours), r.same ? '<span class="same">same</span>' : '<b class="differs">differs</b>']);
  const n = d.findings.differences.rows.filter((r) => !r.same).length;
  return `<section id="differences" class="box"><h2>Differences from the paper</h2>
<p>${n === 0 ? 'This run used the paper\'s settings throughout.' : `${n} of ${rows.length} settings differ from the paper's; verdicts below that rest on a different model, data, teacher or judge say <i>not comparable</i>.`} Read from this run's <code>config.json</code> and the judge recorded in <code>eval/summary.json</code>.</p>
${table(['setting', 'paper', 'this run', ''], rows, 'differences')}</section>`;
}

function sectionPaperVsOurs(d: ReportData): string {
  const why = (c: { why?: string }) => (c.why ? `<br><span class="why">${e(c.why)}</span>` : '');
  const rows = d.findings.claims.map((c) => [e(c.claim), e(c.paper), e(c.ours), statusBadge(c.status) + why(c), e(c.rule)]);
  const counts = VERDICTS.map((s) => [s, d.findings.claims.filter((c) => c.status === s).length] as const).filter(([, k]) => k > 0).map(([s, k]) => `${k} ${s}`);
  const legend = VERDICTS.map((s) => `<li>${statusBadge(s)} ${e(VERDICT_MEANING[s])}</li>`).join('');
  return `<section id="paper-vs-ours"><h2>Paper vs ours</h2>
<p>${e(counts.join(', '))}. The paper's values are quoted from the paper; ours are computed from this run's files. Each verdict follows the stated rule; model-vs-model claims rest on paired differences over the same prompts.</p>
${table(['claim', 'paper', 'ours', 'verdict', 'rule'], rows, 'claims')}
<details><summary>What the verdicts mean</summary><ul class="legend">${legend}</ul></details></section>`;
}

function sectionComparisons(d: ReportData): string {
  const cs = d.findings.comparisons;
  if (cs.length === 0) return '';
  const word = { 'a higher': 'first higher', 'b higher': 'second higher', 'no separation': 'no separation', 'no data': '-' } as const;
  const rows = cs.map((p) => [
    `${e(p.a)} − ${e(p.b)}`,
    `${e(metricLabel(p.metric))} <code>${e(p.metric)}</code>`,
    p.diff === null ? '-' : `${fmt(p.meanA!)} vs ${fmt(p.meanB!)}`,
    p.diff === null ? '-' : p.constant ? `${e(signed(p.diff))} <span class="ci">(same on every prompt)</span>` : `${e(signed(p.diff))} <span class="ci">[${e(signed(p.lo!))}, ${e(signed(p.hi!))}]</span>`,
    String(p.n),
    e(word[direction(p)]),
  ]);
  const b = d.findings.bootstrap;
  return `<section id="comparisons"><h2>Model vs model, paired on the same prompts</h2>
<p>For each prompt both models answered, the difference of the metric (first − second); the mean of those differences with a 95% percentile interval from ${b.resamples.toLocaleString('en-US')} bootstrap resamples of the prompts (seed ${b.seed}). A prompt drawn for one model is drawn for the other, so prompt difficulty cancels out. "No separation": the interval holds zero. When every prompt has the same difference no interval is shown: resampling cannot move it, and it is no evidence of precision.</p>
<div class="scroll">${table(['models', 'metric', 'means', 'difference [95% interval]', 'prompts', 'reading'], rows, 'comparisons')}</div></section>`;
}

function sectionTable1(d: ReportData): string {
  const rows = d.findings.table1.map((r) => [e(r.metric), e(r.paper), e(r.paperDetails), e(r.ours), e(r.oursDetails), statusBadge(r.status) + (r.why ? `<br><span class="why">${e(r.why)}</span>` : '')]);
  return `<section id="table1"><h2>Table 1, recomputed</h2>
<p>The paper's Table 1 ("100-Epoch Balanced Training Results") with the same rows measured on the unified SFT run of this run folder.</p>
${table(['metric', 'paper', 'paper details', 'ours', 'our details', 'verdict'], rows)}</section>`;
}

function figureBlock(id: string, title: string, caption: string): string {
  return `<figure><h3>${e(title)}</h3><div class="chart" id="${e(id)}" data-figure="${e(id)}"></div><figcaption>${e(caption)}</figcaption></figure>`;
}

function sectionTraining(d: ReportData): string {
  const figs = d.figures.filter((f) => f.id.startsWith('sft-'));
  const dpo = d.figures.filter((f) => f.id.startsWith('dpo-'));
  const num = (x: number | null, digits = 4): string => (x === null ? '-' : x.toFixed(digits));
  const runRows = d.sftRuns.map((r) => [
    e(r.name),
    `${r.summary.epochs}${r.configuredEpochs !== null ? ` of ${r.configuredEpochs}` : ''}`,
    String(r.summary.steps),
    num(r.summary.firstEpochLoss),
    num(r.summary.lastEpochLoss),
    r.summary.lossReduction === null ? '-' : `${(100 * r.summary.lossReduction).toFixed(1)}%`,
    String(r.summary.nonFiniteLosses),
    r.summary.tokens.toLocaleString('en-US'),
    num(r.summary.meanTokensPerSecond, 0),
  ]);
  return `<section id="training"><h2>Training</h2>
<h3>SFT</h3>${figs.length ? figs.map((f) => figureBlock(f.id, f.title, f.caption)).join('\n') : '<p class="na">No SFT metrics in this run.</p>'}
${runRows.length ? `<p>Each run's epoch budget is its own config's <code>sft.epochs</code>: the baselines may train on a smaller budget (<code>sft.baselineEpochs</code>) than the unified run.</p>${table(['run', 'epochs', 'optimizer steps', 'first-epoch loss', 'last-epoch loss', 'reduction', 'NaN/Inf', 'tokens', 'tokens/s'], runRows)}` : ''}
<h3>DPO</h3>${dpo.length ? dpo.map((f) => figureBlock(f.id, f.title, f.caption)).join('\n') : '<p class="na">No DPO metrics in this run.</p>'}
</section>`;
}

function sectionEval(d: ReportData): string {
  const t = d.findings.evalTable;
  if (t.models.length === 0) return '<section id="evaluation"><h2>Evaluation</h2><p class="na">No eval/summary.json in this run.</p></section>';
  const docs = d.statistics.metricDocs;
  const label = (m: string): string => {
    const def = metricDefinition(m, docs);
    return `${e(metricLabel(m))}<br><code>${e(m)}</code>${def ? `<sup class="def" title="${e(def)}">?</sup>` : ''}`;
  };
  const rowsFor = (metrics: string[]) => metrics.map((m) => [label(m), ...t.models.map((model) => estimate(t.cells[model]?.[m]))]);
  // summary.json groups metrics as all.*, id.* (in-distribution), ood.* and families.<name>.*
  const main = t.metrics.filter((m) => !/^(id|ood|families)\./.test(m));
  const split = t.metrics.filter((m) => /^(id|ood)\./.test(m)).sort((a, b) => a.replace(/^\w+\./, '').localeCompare(b.replace(/^\w+\./, '')) || a.localeCompare(b));
  const families = t.metrics.filter((m) => m.startsWith('families.'));
  const head = ['metric', ...t.models];
  const bars = d.figures.find((f) => f.id === 'eval-bars');
  return `<section id="evaluation"><h2>Evaluation</h2>
${statisticsNote(d)}
${bars ? figureBlock(bars.id, bars.title, bars.caption) : ''}
<div class="scroll">${table(head, rowsFor(main), 'eval')}</div>
${split.length ? `<h3>In-distribution vs out-of-distribution</h3><div class="scroll">${table(head, rowsFor(split), 'eval')}</div>` : ''}
${families.length ? `<details><summary>Per family</summary><div class="scroll">${table(head, rowsFor(families), 'eval')}</div></details>` : ''}
</section>`;
}

function statisticsNote(d: ReportData): string {
  const s = d.statistics;
  const t = d.findings.evalTable;
  const items = s.items ? `${s.items.n} held-out prompts (${s.items.id} in-distribution, ${s.items.ood} out-of-distribution)` : 'the held-out prompts';
  const how = s.resamples
    ? `the items a metric applies to are resampled with replacement ${s.resamples.toLocaleString('en-US')} times${s.seed !== null ? ` (seed ${s.seed})` : ''}, the metric's mean is recomputed on each resample, and the ${((s.level ?? 0.95) * 100).toFixed(0)}% interval is the middle ${((s.level ?? 0.95) * 100).toFixed(0)}% of those means (${e(s.method ?? 'percentile bootstrap')})`
    : 'intervals are the evaluator\'s bootstrap intervals';
  const defs = Object.entries(s.metricDocs).map(([k, v]) => `<li><code>${e(k)}</code> (${e(metricLabel(k))}): ${e(v)}</li>`).join('');
  return `<div class="stats"><p><b>How to read the numbers.</b> Every model answered ${e(items)}. Each cell is the mean over the items the metric applies to (<span class="n">n</span>: how many; format metrics count trace prompts only, instruction checks only instruction prompts), and in brackets its 95% interval: ${how}. Intervals of two models are not a test of their difference: the paired comparisons below are. A metric with the same value on every item shows no interval.${t.judge ? ` Judge: <b>${e(t.judge)}</b>.` : ''}</p>
${defs ? `<details><summary>Metric definitions (from eval/summary.json)</summary><ul>${defs}</ul></details>` : ''}</div>`;
}

function sectionSamples(d: ReportData): string {
  if (d.samples.length === 0) return '<section id="samples"><h2>Sample traces</h2><p class="na">No evaluated responses in this run.</p></section>';
  const blocks = d.samples.map(
    (s) => `<div class="sample"><h3>${e(s.model)}${s.family ? ` · ${e(s.family)}` : ''}${s.id ? ` · <code>${e(s.id)}</code>` : ''}</h3>
${s.prompt !== null ? `<p class="label">prompt</p><pre>${e(s.prompt)}</pre>` : ''}
<p class="label">response</p><pre>${e(s.response)}</pre>
<p class="label">what its code printed when run in the sandbox</p><pre class="stdout">${s.codeOutput !== null ? e(s.codeOutput) : '(no output recorded)'}</pre>
${Object.keys(s.verdicts).length ? `<p class="verdicts">${Object.entries(s.verdicts).map(([k, v]) => `${e(k)}: <b>${e(String(v))}</b>`).join(' · ')}</p>` : ''}</div>`,
  );
  return `<section id="samples"><h2>Sample traces</h2>${blocks.join('\n')}</section>`;
}

function kv(o: Record<string, unknown>): string {
  const entries = Object.entries(o);
  return entries.length ? table(['key', 'value'], entries.map(([k, v]) => [`<code>${e(k)}</code>`, e(typeof v === 'string' ? v : JSON.stringify(v))])) : '<p class="na">none recorded</p>';
}

function sectionManifest(d: ReportData): string {
  const m = d.manifest;
  const wall = m.wallTimes.map((w) => [e(w.stage), e(secs(w.wallSeconds)), e(w.mode ?? '')]);
  return `<section id="manifest"><h2>Run manifest</h2>
<p>Run folder <code>${e(d.runDir)}</code>${d.preset ? `, preset <b>${e(d.preset)}</b>` : ''}${m.backend ? `, backend <b>${e(m.backend)}</b>` : ''}.</p>
<h3>Wall times</h3>${wall.length ? table(['stage', 'wall time', 'ran as'], [...wall, ['<b>total</b>', `<b>${e(secs(m.totalWallSeconds))}</b>`, '']]) : '<p class="na">No stage markers (the run was not made by the pipeline).</p>'}
<h3>Seeds</h3>${kv(m.seeds)}
<h3>Data hashes</h3>${kv(m.dataHashes)}
<h3>Package versions</h3><p>${e(m.packagesSource)}.</p>${kv(m.packages)}
<h3>Configuration</h3><details><summary>config.json</summary><pre>${e(JSON.stringify(m.config, null, 2))}</pre></details>
</section>`;
}

const CSS = `body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}pre{background:#f7f7f7;padding:.6em;overflow-x:auto;white-space:pre-wrap;font-size:.85em}
.status{padding:.1em .4em;border-radius:3px;white-space:nowrap}.reproduced{background:#d4f4d4}.not-reproduced{background:#f9d3d3}.not-measured{background:#eee}
.setting-matched{background:#dde8f7}.inconclusive{background:#fbeec2}.not-comparable{background:#e6dcf2}.why{color:#555;font-size:.85em}
.box{border:2px solid #b9a5d6;border-radius:6px;padding:.2em 1em;background:#faf8fd}.differs{color:#8a2be2}.same{color:#888}.n{color:#888;font-size:.8em}.def{cursor:help;color:#888}
.stats{background:#f6f8fa;border-left:4px solid #9ab;padding:.1em 1em;margin:.5em 0}.legend{list-style:none;padding-left:0}.legend li{margin:.2em 0}
figure,tr,.sample,.box,.stats{break-inside:avoid;page-break-inside:avoid}h2,h3{break-after:avoid;page-break-after:avoid}
.ci{color:#666;font-size:.85em}.na{color:#888}.chart{width:100%;min-height:360px}figure{margin:1em 0}figcaption{color:#555;font-size:.9em}
.scroll{overflow-x:auto}.label{margin:.3em 0 0;font-weight:600;font-size:.85em}.sample{border-top:1px solid #ddd;margin-top:1em}.stdout{background:#eef6ee}
nav a{margin-right:1em}`;

export function renderHtml(d: ReportData): string {
  const plotly = readFileSync(fromRoot('node_modules', 'plotly.js-dist-min', 'plotly.min.js'), 'utf8');
  const figures = Object.fromEntries(d.figures.map((f) => [f.id, { data: f.data, layout: f.layout }]));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>unitrace report: ${e(d.runName)}</title><style>${CSS}</style></head>
<body>
<h1>Unified reasoning traces: reproduction report</h1>
<p>Run <b>${e(d.runName)}</b>${d.preset ? ` (preset ${e(d.preset)})` : ''}. Reproducing <i>${e(d.paper.title)}</i>. Every number below is read from the run folder, except the ones labelled as the paper's.</p>
<nav><a href="#differences">differences</a><a href="#paper-vs-ours">paper vs ours</a><a href="#table1">Table 1</a><a href="#training">training</a><a href="#evaluation">evaluation</a><a href="#comparisons">paired comparisons</a><a href="#samples">samples</a><a href="#manifest">manifest</a></nav>
${sectionDifferences(d)}
${sectionPaperVsOurs(d)}
${sectionTable1(d)}
${sectionTraining(d)}
${sectionEval(d)}
${sectionComparisons(d)}
${sectionSamples(d)}
${sectionManifest(d)}
<script>${plotly.replace(/<\/script/gi, '<\\/script')}</script>
<script id="figures" type="application/json">${scriptJson(figures)}</script>
<script>
(function () {
  var figures = JSON.parse(document.getElementById('figures').textContent);
  document.querySelectorAll('.chart').forEach(function (el) {
    var f = figures[el.dataset.figure];
    Plotly.newPlot(el, f.data, f.layout, { responsive: true, displaylogo: false }).then(function () { el.setAttribute('data-drawn', 'true'); });
  });
})();
</script>
</body></html>
`;
}
