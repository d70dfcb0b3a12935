// `unitrace bench`: the CLI prints one JSON line last with the figures the issue asks for, warm-up steps
// are not timed, and the benchmark's training step runs in both LoRA and full mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTrainBench, trainStepFlops } from '../../src/train/bench.js';
import { makeConfig } from '../../src/model/config.js';

const small = { hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, vocab_size: 64, rope_theta: 10000, rms_norm_eps: 1e-6, tie_word_embeddings: true };

test('unitrace bench --json ends with one JSON object holding the speed figures', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-benchcli-'));
  try {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(small));
    const r = spawnSync(process.execPath, ['bin/unitrace.mjs', 'bench', '--model-config', file, '--batch', '2', '--seq', '8', '--steps', '2', '--warmup', '1', '--workers', '1', '--backend', 'wasm', '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const last = r.stdout.trim().split('\n').at(-1)!;
    const out = JSON.parse(last) as Record<string, unknown>;
    for (const key of ['tokensPerSecond', 'gflops', 'secondsPerStep']) assert.ok(typeof out[key] === 'number' && (out[key] as number) > 0, `${key}: ${out[key]}`);
    assert.equal(out.backend, 'wasm');
    assert.equal(out.workers, 1);
    assert.equal((out.stepSeconds as number[]).length, 2, 'warm-up steps are not timed');
    assert.equal((out.losses as number[]).length, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runTrainBench trains LoRA and full models; FLOP count grows with what is trained', { timeout: 120_000 }, async () => {
  for (const mode of ['lora', 'full'] as const) {
    const r = await runTrainBench({ modelConfig: small, batch: 2, seq: 8, mode, steps: 2, warmup: 0, workers: 1, backend: 'wasm', loraRank: 4 });
    assert.ok(r.losses.every(Number.isFinite), `${mode}: losses ${r.losses}`);
    assert.ok(r.trainableParameters > 0);
    if (mode === 'full') assert.ok(r.trainableParameters > 64 * 16, 'full mode trains every weight');
  }
  const c = makeConfig({ vocabSize: 64, hiddenSize: 16, numAttentionHeads: 2, numKeyValueHeads: 1, intermediateSize: 32, numHiddenLayers: 1 });
  assert.ok(trainStepFlops(c, 2, 8, 'full', 4) > trainStepFlops(c, 2, 8, 'lora', 4));
});
