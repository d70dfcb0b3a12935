// Decoding speed at three sizes, so a regression at small sizes shows beside the 0.5B figure:
//   npx tsx bench/decode.ts [--new N] [--prompt P] [--batches 1,16] [--engine native|tfjs]
// Models: the embedded one (data/tiny-qwen2), `tiny` (bench/tiny.json) and Qwen2.5-0.5B's shapes, both
// random bf16 checkpoints written under /tmp by `npx tsx bench/model.ts write` when missing.
// One JSON line per run (what `unitrace bench --decode --json` prints), then a table.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fromRoot } from '../src/util/paths.js';
import { runDecodeBench, type DecodeBenchResult } from '../src/model/decode_bench.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};

const models: { label: string; dir: string; shape?: string }[] = [
  { label: 'embedded', dir: 'embedded' },
  { label: 'tiny', dir: '/tmp/unitrace-tiny', shape: fromRoot('bench', 'tiny.json') },
  { label: 'qwen2.5-0.5b shapes', dir: '/tmp/unitrace-qwen05b', shape: 'qwen05b' },
];

const rows: [string, DecodeBenchResult][] = [];
for (const m of models) {
  if (m.shape && !existsSync(m.dir)) {
    const w = spawnSync(process.execPath, ['--import', 'tsx', fromRoot('bench', 'model.ts'), 'write', '--shape', m.shape, '--out', m.dir], { stdio: 'inherit' });
    if (w.status !== 0) throw new Error(`writing ${m.dir} failed`);
  }
  for (const batch of opt('batches', '1,16').split(',').map(Number)) {
    const r = await runDecodeBench({ model: m.dir, batch, promptTokens: Number(opt('prompt', '64')), newTokens: Number(opt('new', '16')), engine: opt('engine', 'native') as 'native' });
    console.log(JSON.stringify(r));
    rows.push([m.label, r]);
  }
}
console.log('\n| model | batch | prefill tokens/s | s/step | tokens/s | CPU-s/step | weight MB | read s (GB/s) | step/read | load |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [label, r] of rows) {
  const read = r.readSeconds === null ? '-' : `${r.readSeconds.toFixed(4)} (${r.bandwidthGBs!.toFixed(1)})`;
  console.log(
    `| ${label} | ${r.batch} | ${r.prefillTokensPerSecond.toFixed(0)} | ${r.secondsPerStep.toFixed(4)} | ${r.tokensPerSecond.toFixed(1)} | ${r.cpuSecondsPerStep.toFixed(4)} | ${((r.weightBytes ?? 0) / 1e6).toFixed(0)} | ${read} | ${r.boundRatio?.toFixed(2) ?? '-'} | ${r.loadAverage.map((l) => l.toFixed(1)).join('-')} |`,
  );
}
