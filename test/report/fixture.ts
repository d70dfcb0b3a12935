// TEST DATA: writes a synthetic run folder in the artifact formats of the pipeline, so the report can be
// tested before (and independently of) real runs. Nothing here is a measured result.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/index.js';
import { writeJsonl } from '../../src/util/jsonl.js';

export const GOOD_TRACE =
  '<cot>\nAdd the two numbers.\n</cot>\n<logic>\nGIVEN: a = 2, b = 3\nIMPLIES: total = a + b\n</logic>\n<code>\n```python\nprint(2 + 3)\n```\n</code>\n<answer>\n5\n</answer>';

export interface FixtureOptions {
  /** Per-epoch mean loss of the unified run goes from `firstLoss` to `lastLoss`. */
  firstLoss?: number;
  lastLoss?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  nOriginal?: number;
  nSynthetic?: number;
  /** Share of the unified model's responses that are strict traces. */
  strictShare?: number;
  withDpo?: boolean;
  withEval?: boolean;
  /** The judge eval/summary.json records (the paper's was Claude 3.5 Sonnet). */
  judge?: string;
  /** Added to every DPO judge score relative to the unified model's (0: the two differ only by noise). */
  dpoJudgeShift?: number;
  /** Per-epoch mean loss of the unified run is 1.6x the smooth curve at this epoch (a spike). */
  spikeAtEpoch?: number;
  /** Accuracy means in eval/summary.json: sft-unified's programAccuracy, every other model's answers (cotFinal: sft-cot's finalAccuracy). */
  accuracy?: { unified: number; baselines: number; cotFinal?: number };
  /** Dotted config overrides on top of the smoke preset (e.g. the paper's model folder). */
  configOverrides?: string[];
}

/** Judge scores of one model on the n eval items: a per-item difficulty plus a per-model offset and noise. */
export function fixtureJudgeScores(model: string, n: number, dpoShift: number): number[] {
  return Array.from({ length: n }, (_, k) => {
    const unified = 0.3 + 0.05 * (((k * 3) % 5) - 2);
    const noise = 0.04 * (((k * 7) % 3) - 1);
    const offset: Record<string, number> = { reference: -0.2, 'sft-original': 0.01, 'sft-cot': 0, 'sft-unified': 0, 'sft-unified-dpo': dpoShift };
    const score = unified + (offset[model] ?? 0) + (model === 'sft-unified' ? 0 : noise);
    return Math.round(Math.min(1, Math.max(0, score)) * 1e6) / 1e6;
  });
}

function metrics(epochs: number, stepsPerEpoch: number, first: number, last: number, extra?: (step: number) => Record<string, number>, spikeAt?: number) {
  const rows = [];
  let step = 0;
  for (let e = 1; e <= epochs; e++) {
    const target = first * (last / first) ** ((e - 1) / Math.max(1, epochs - 1)) * (e === spikeAt ? 1.6 : 1);
    for (let s = 0; s < stepsPerEpoch; s++) {
      step++;
      // constant inside an epoch so the per-epoch mean is exactly `target`
      rows.push({ step, epoch: e - 1 + (s + 1) / stepsPerEpoch, loss: target, lr: 1e-3, gradNorm: 0.5, tokens: 1000 * step, tokensPerSecond: 2000, ...(extra?.(step) ?? {}) });
    }
  }
  return rows;
}

export function writeFixtureRun(options: FixtureOptions = {}): string {
  const o = { firstLoss: 0.9, lastLoss: 0.01, epochs: 5, stepsPerEpoch: 4, nOriginal: 30, nSynthetic: 20, strictShare: 1, withDpo: true, withEval: true, judge: 'offline-rubric', dpoJudgeShift: 0, accuracy: { unified: 0.6, baselines: 0.1 }, ...options };
  const root = mkdtempSync(join(tmpdir(), 'unitrace-report-fixture-'));
  const dir = join(root, 'fixture');
  const config = resolveConfig({ preset: 'smoke', overrides: [{ run: { dir: root, name: 'fixture' }, sft: { epochs: o.epochs } }, ...(o.configOverrides ?? [])] });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const msg = (i: number) => [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: 'a' }];
  writeJsonl(join(dir, 'data', 'sft-unified.jsonl'), [
    ...Array.from({ length: o.nOriginal }, (_, i) => ({ id: `o${i}`, source: 'original', messages: msg(i) })),
    ...Array.from({ length: o.nSynthetic }, (_, i) => ({ id: `u${i}`, source: 'unified', messages: msg(i) })),
  ]);
  writeJsonl(join(dir, 'data', 'sft-original.jsonl'), Array.from({ length: o.nOriginal }, (_, i) => ({ id: `o${i}`, source: 'original', messages: msg(i) })));
  writeFileSync(join(dir, 'data', 'manifest.json'), JSON.stringify({ seed: 42, sources: { original: { kind: 'embedded', sha256: 'TESTSOURCE00' } }, files: { 'sft-unified.jsonl': 'TESTDATA0000' } }));
  writeJsonl(join(dir, 'sft-unified', 'metrics.jsonl'), metrics(o.epochs, o.stepsPerEpoch, o.firstLoss, o.lastLoss, undefined, o.spikeAtEpoch));
  writeJsonl(join(dir, 'sft-original', 'metrics.jsonl'), metrics(o.epochs, o.stepsPerEpoch, 1.2, 0.4));
  writeJsonl(join(dir, 'sft-cot', 'metrics.jsonl'), metrics(o.epochs, o.stepsPerEpoch, 1.0, 0.2));
  writeFileSync(join(dir, 'sft-unified', 'config.json'), JSON.stringify({ ...config, sft: { ...config.sft, epochs: o.epochs }, backend: 'wasm' }));
  if (o.withDpo)
    writeJsonl(
      join(dir, 'dpo', 'metrics.jsonl'),
      metrics(1, 6, 0.69, 0.69, (s) => ({ 'rewards/chosen': 0.01 * s, 'rewards/rejected': -0.02 * s, 'rewards/margins': 0.03 * s, 'rewards/accuracies': Math.min(1, 0.5 + 0.1 * s) })),
    );
  if (o.withEval) {
    const models = ['reference', 'sft-original', 'sft-cot', 'sft-unified', 'sft-unified-dpo'];
    // the shape src/eval/results.ts writes: models[name].{all,id,ood,families} of {mean, lo, hi, se, n}
    const est = (mean: number) => ({ mean, lo: Math.max(0, mean - 0.1), hi: Math.min(1, mean + 0.1), se: 0.05, n: 10 });
    const accuracy = (i: number) => {
      const a = models[i] === 'sft-unified' ? o.accuracy.unified : o.accuracy.baselines;
      const final = models[i] === 'sft-cot' ? (o.accuracy.cotFinal ?? a) : a;
      return { programAccuracy: est(models[i] === 'sft-unified' ? a : 0), statedAccuracy: est(a), finalAccuracy: est(final) };
    };
    const table = (i: number) => ({ strict: est(i / 4), judgeScore: est(0.3 + 0.01 * i), winRate: i === 0 ? { mean: null, lo: null, hi: null, se: null, n: 0 } : est(0.5), ...accuracy(i) });
    const summary = {
      judge: { name: o.judge, kind: o.judge.startsWith('claude') ? 'claude' : 'offline' },
      bootstrap: { resamples: 400, level: 0.95, method: 'percentile, items resampled with replacement' },
      seeds: { generation: 42, bootstrap: 42, pairwise: 42 },
      items: { n: 10, id: 10, ood: 0, families: { arithmetic: 10 } },
      metrics: { strict: 'trace items: exactly four sections in order', judgeScore: 'single-answer judge score, rating 1-10 rescaled to 0-1' },
      models: Object.fromEntries(models.map((m, i) => [m, { adapter: null, judge: o.judge, n: 10, all: table(i), id: table(i), ood: table(i), families: { arithmetic: table(i) } }])),
    };
    mkdirSync(join(dir, 'eval'), { recursive: true });
    writeFileSync(join(dir, 'eval', 'summary.json'), JSON.stringify(summary));
    const n = 10;
    const strictN = Math.round(o.strictShare * n);
    for (const model of models) {
      const scores = fixtureJudgeScores(model, n, o.dpoJudgeShift);
      const rows = Array.from({ length: n }, (_, i) => {
        const good = model === 'sft-unified' ? i < strictN : model !== 'reference' && i % 2 === 0;
        return {
          id: `e${i}`,
          family: 'arithmetic',
          kind: 'trace',
          ood: false,
          response: good ? GOOD_TRACE : 'The answer is 5.',
          stdout: good ? '5\n' : null,
          strict: good,
          programCorrect: good,
          finalCorrect: true,
          judge: { by: o.judge, score: scores[i], rating: null },
        };
      });
      // an instruction item: format metrics must not count it
      rows.push({ id: 'instr', family: 'formatting', kind: 'instruction', response: 'HELLO', stdout: null, strict: false } as never);
      writeJsonl(join(dir, 'eval', model, 'responses.jsonl'), rows);
    }
    writeJsonl(join(dir, 'data', 'eval.jsonl'), Array.from({ length: n }, (_, i) => ({ id: `e${i}`, family: 'arithmetic', prompt: [{ role: 'user', content: `What is 2 + 3? (#${i})` }] })));
  }
  mkdirSync(join(dir, 'pipeline'), { recursive: true });
  ['data', 'sft-original', 'sft-cot', 'sft-unified', 'dpo', 'eval'].forEach((stage, i) =>
    writeFileSync(join(dir, 'pipeline', `${stage}.done.json`), JSON.stringify({ stage, wallSeconds: 10 + i, finishedAt: `2026-01-01T00:00:0${i}Z`, mode: 'direct' })),
  );
  return dir;
}
