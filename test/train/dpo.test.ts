import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { runDpo } from '../../src/train/dpo.js';
import { RunFolder } from '../../src/train/runfolder.js';
import { runSft } from '../../src/train/sft.js';
import { tinySetup } from './helpers/setup.js';
import { traceExamples } from './helpers/tiny.js';
import { compare } from '../helpers/compare.js';

/** Offline pairs as the mixing stage makes them: a correct trace against a corrupted one. */
function offlinePairs() {
  return traceExamples(4).map((e, i) => {
    const good = e.messages[1]!.content;
    const bad = i % 2 ? good.replace(/<answer>\n(\d+)/, (_, n: string) => `<answer>\n${Number(n) + 3}`) : good.replace(/<logic>[\s\S]*?<\/logic>\n\n/, '');
    return { id: e.id, prompt: [e.messages[0]!], chosen: [{ role: 'assistant' as const, content: good }], rejected: [{ role: 'assistant' as const, content: bad }] };
  });
}

test('DPO on offline pairs over the SFT model: rewards/margins and rewards/accuracies rise', async () => {
  const pairs = offlinePairs();
  const setup = tinySetup(4, pairs.map((p) => p.rejected[0]!.content));
  const config = setup.config({ sft: { epochs: 6 }, dpo: { epochs: 10, batchSize: 2, gradAccum: 1, lr: 2e-2, lora: { dropout: 0 } } });
  const sft = await runSft(config, { data: setup.examples, out: join(setup.dir, 'sft') });
  const out = join(setup.dir, 'dpo');
  const dpo = await runDpo(config, { data: pairs, out, sftAdapter: sft.result });
  assert.ok(dpo.finished);
  assert.ok(existsSync(join(out, 'adapter', 'adapter_config.json')));
  // Adapters name their base as transformers loads it: the absolute path of the folder (here the merged SFT model).
  assert.equal(JSON.parse(readFileSync(join(out, 'adapter', 'adapter_config.json'), 'utf8')).base_model_name_or_path, resolve(dpo.baseModel));
  assert.ok(existsSync(join(resolve(dpo.baseModel), 'config.json')));
  assert.equal(JSON.parse(readFileSync(join(sft.result, 'adapter_config.json'), 'utf8')).base_model_name_or_path, resolve(config.model.source));
  const rows = new RunFolder(out).readMetrics();
  for (const k of ['rewards/chosen', 'rewards/rejected', 'rewards/accuracies', 'rewards/margins', 'logps/chosen', 'logps/rejected']) assert.ok(k in rows[0]!, k);
  // The fresh adapter starts equal to the reference (B = 0): log 2 loss, zero margins.
  assert.ok(Math.abs(rows[0]!.loss - Math.LN2) < 1e-5, `first loss ${rows[0]!.loss}`);
  assert.equal(rows[0]!['rewards/margins'], 0);
  const tail = rows.slice(-2); // the last epoch (2 steps)
  const mean = (k: string) => tail.reduce((s, r) => s + r[k]!, 0) / tail.length;
  assert.ok(mean('rewards/margins') > 0.2, `margins ${rows.map((r) => r['rewards/margins']!.toFixed(3)).join(' ')}`);
  assert.equal(mean('rewards/accuracies'), 1);
  assert.ok(mean('loss') < Math.LN2 - 0.1, `losses ${rows.map((r) => r.loss.toFixed(3)).join(' ')}`);
  // Reference log-probs are cached for a resume.
  assert.ok(existsSync(join(out, 'reference-logps.json')));

  // Stopped after 7 steps (a checkpoint is written when it stops) and resumed: the same curve.
  const outB = join(setup.dir, 'dpo-b');
  const resumable = { ...config, dpo: { ...config.dpo, checkpointEvery: 5 } };
  const first = await runDpo(resumable, { data: pairs, out: outB, sftAdapter: sft.result, maxSteps: 7 });
  assert.equal(first.finished, false);
  await runDpo(resumable, { data: pairs, out: outB, sftAdapter: sft.result, resume: true });
  const b = new RunFolder(outB).readMetrics();
  compare(b.map((r) => r.loss), rows.map((r) => r.loss), 1e-5, 'DPO loss curve after resume');
  compare(b.map((r) => r['rewards/margins']!), rows.map((r) => r['rewards/margins']!), 1e-5, 'margins after resume');
});

test('a malformed preference row is an error naming file and line, before any model loads', async () => {
  const setup = tinySetup(1);
  const file = join(setup.dir, 'pairs.jsonl');
  const good = offlinePairs()[0]!;
  writeFileSync(file, JSON.stringify(good) + '\n' + JSON.stringify({ prompt: good.prompt, chosen: good.chosen }) + '\n');
  await assert.rejects(runDpo(setup.config(), { data: file, out: join(setup.dir, 'dpo') }), /pairs\.jsonl:2: bad example: a preference row needs prompt, chosen and rejected/);
  writeFileSync(file, JSON.stringify({ ...good, rejected: [{ role: 'user', content: 'x' }] }) + '\n');
  await assert.rejects(runDpo(setup.config(), { data: file, out: join(setup.dir, 'dpo'), overwrite: true }), /pairs\.jsonl:1 \(id add-0\): bad example: rejected does not end with an assistant message/);
});
