// The native decoder (src/model/decoder.ts, native/decode.cc) against the float64 reference logits and
// against the TensorFlow.js decoder's greedy tokens, on the parity checkpoints; continuous batching.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, writeRandomCheckpoint } from '../../src/model/load.js';
import { loadAdapter } from '../../src/model/lora.js';
import { NativeDecoder, nativeDecoderProblem, packBf16 } from '../../src/model/decoder.js';
import { generate, usesNativeDecoder } from '../../src/model/generate.js';
import { buildPrunedVocab, loadTokenizer, Tokenizer } from '../../src/model/tokenizer.js';
import { Rng } from '../../src/util/rng.js';
import { compare } from '../helpers/compare.js';
import { goldenCases, writeGoldenCase, type GoldenCase } from './golden-weights.js';
import { logitsOf, tinyConfig, tinyModel } from './helpers.js';

const skip = nativeDecoderProblem() ? `native decoder unavailable: ${nativeDecoderProblem()}` : false;
const base = loadTokenizer();

/** Every position's logits of the case's rows, each row a sequence of its own. */
function allLogits(decoder: NativeDecoder, ids: number[][]): number[][][] {
  const cache = decoder.createCache(ids.length);
  try {
    const V = decoder.config.vocabSize;
    const out = decoder.forward(cache, Int32Array.from(ids, (_, i) => i), Int32Array.from(ids, (r) => r.length), Int32Array.from(ids.flat()), 'all');
    let at = 0;
    return ids.map((row) => row.map(() => Array.from(out.subarray(at * V, ++at * V))));
  } finally {
    cache.dispose();
  }
}

async function withCase(c: GoldenCase, body: (dirs: { modelDir: string; adapterDir?: string }) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'unitrace-decoder-'));
  try {
    await body(writeGoldenCase(c, dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const c of goldenCases()) {
  test(`native decoder: ${c.name} (${c.dtype}) logits within 1e-4 of the float64 reference, greedy tokens as the tfjs decoder`, { skip }, async (t: TestContext) => {
    await withCase(c, async ({ modelDir, adapterDir }) => {
      const model = await loadModel(modelDir, { backend: 'wasm' });
      const lora = adapterDir ? loadAdapter(adapterDir, model) : undefined;
      try {
        const decoder = NativeDecoder.fromModel(model, lora);
        t.diagnostic(`${c.name}: max abs diff ${compare(allLogits(decoder, c.ids), c.logits, 1e-4, c.name).toExponential(2)} (${decoder.info.kernel})`);
        // bf16 checkpoints stay bf16 in native memory unless a merged adapter made them float32.
        if (c.dtype === 'BF16' && !lora) assert.equal(decoder.info.bf16Bytes, decoder.info.weightBytes - 4 * vectorFloats(c));
        const opts = { maxNewTokens: 8, stopIds: [] };
        const want = await generate(model, base, c.ids, { ...opts, lora, engine: 'tfjs' });
        const got = await generate(decoder, base, c.ids, opts);
        assert.deepEqual(got.map((g) => g.ids), want.map((g) => g.ids));
        decoder.dispose();
        if (lora) {
          // The adapter is merged once: the decoder reads exactly what the merged model's decoder reads.
          const { mergeAdapter } = await import('../../src/model/lora.js');
          const merged = NativeDecoder.fromModel(mergeAdapter(model, lora));
          assert.deepEqual(merged.info, { ...decoder.info });
          compare(allLogits(merged, c.ids), c.logits, 1e-4, `${c.name} merged`);
          merged.dispose();
        }
        if (!lora) {
          const direct = NativeDecoder.fromCheckpoint(modelDir);
          compare(allLogits(direct, c.ids), c.logits, 1e-4, `${c.name} from the checkpoint`);
          direct.dispose();
        }
      } finally {
        lora?.dispose();
        model.dispose();
      }
    });
  });
}

/** Norm weights and q/k/v biases: the float32 part of a step's reads. */
function vectorFloats(c: GoldenCase): number {
  const n = (k: string) => c.config[k] as number;
  const headDim = (c.config.head_dim as number | undefined) ?? n('hidden_size') / n('num_attention_heads');
  return n('hidden_size') * (1 + 2 * n('num_hidden_layers')) + n('num_hidden_layers') * (n('num_attention_heads') + 2 * n('num_key_value_heads')) * headDim;
}

test('native decoder: the avx2 and generic kernels give the reference logits too', { skip }, async () => {
  const c = goldenCases().find((x) => x.dtype === 'BF16' && !x.lora)!;
  await withCase(c, async ({ modelDir }) => {
    for (const isa of ['avx2', 'generic']) {
      const script = `import { NativeDecoder } from ${JSON.stringify(new URL('../../src/model/decoder.ts', import.meta.url).pathname)};
        const d = NativeDecoder.fromCheckpoint(${JSON.stringify(modelDir)}); const c = d.createCache(1);
        const ids = ${JSON.stringify(c.ids[0])};
        const out = d.forward(c, Int32Array.of(0), Int32Array.of(ids.length), Int32Array.from(ids), 'all');
        console.log(JSON.stringify({ kernel: d.info.kernel, logits: Array.from(out) }));`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, UNITRACE_DECODE_ISA: isa } });
      assert.equal(r.status, 0, r.stderr);
      const { kernel, logits } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { kernel: string; logits: number[] };
      if (isa === 'generic') assert.equal(kernel, 'generic');
      compare(logits, c.logits[0]!.flat(), 1e-4, `${c.name} on ${kernel}`);
    }
  });
});

test('native decoder: shapes off the 16-feature panels (features past a panel, an odd inner size), float32 and bf16, on every kernel', { skip }, async () => {
  // q/k/v 60 rows, gate/up 90, vocabulary 101: partial panels; down's inner size 45: an odd column left over.
  const config = tinyConfig({ vocabSize: 101, hiddenSize: 36, numAttentionHeads: 3, numKeyValueHeads: 1, intermediateSize: 45 });
  const prompts = [Array.from({ length: 19 }, (_, i) => (i * 37 + 5) % 101), [3, 99, 42, 7]];
  const next = [11, 100];
  for (const dtype of ['F32', 'BF16'] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'unitrace-decoder-odd-'));
    try {
      writeRandomCheckpoint(dir, config, new Rng(5), { dtype, std: 0.2 });
      const model = await loadModel(dir);
      // The prompts in one forward (23 rows: full and partial row tiles), then one token each (2 rows).
      const want = [...prompts.flatMap((p) => logitsOf(model, [p])[0]!), ...prompts.map((p, i) => logitsOf(model, [[...p, next[i]!]])[0]!.at(-1)!)];
      model.dispose();
      for (const isa of ['avx512', 'avx2', 'generic']) {
        const script = `import { NativeDecoder } from ${JSON.stringify(new URL('../../src/model/decoder.ts', import.meta.url).pathname)};
          const d = NativeDecoder.fromCheckpoint(${JSON.stringify(dir)}); const c = d.createCache(2); const p = ${JSON.stringify(prompts)};
          const a = d.forward(c, Int32Array.of(0, 1), Int32Array.from(p, (r) => r.length), Int32Array.from(p.flat()), 'all');
          const b = d.forward(c, Int32Array.of(0, 1), Int32Array.of(1, 1), Int32Array.from(${JSON.stringify(next)}), 'last');
          const g = d.createCache(2), ids = d.forward(g, Int32Array.of(0, 1), Int32Array.from(p, (r) => r.length), Int32Array.from(p.flat()), 'argmax');
          console.log(JSON.stringify({ kernel: d.info.kernel, logits: [...a, ...b], ids: [...ids] }));`;
        const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, UNITRACE_DECODE_ISA: isa } });
        assert.equal(r.status, 0, r.stderr);
        const { kernel, logits, ids } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { kernel: string; logits: number[]; ids: number[] };
        compare(logits, want.flat(), 1e-4, `${dtype} on ${kernel}`);
        // The fused argmax (two passes with bf16 scores where the CPU has them) picks the logits' own argmax.
        const V = config.vocabSize;
        const lastRows = [prompts[0]!.length - 1, prompts[0]!.length + prompts[1]!.length - 1].map((n) => logits.slice(n * V, (n + 1) * V));
        assert.deepEqual(ids, lastRows.map((row) => row.indexOf(Math.max(...row))), `${dtype} on ${kernel}: argmax ids`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('continuous batching: fewer slots than prompts, prompts of different lengths, the same tokens as each prompt alone', { skip }, async () => {
  const tokenizer = new Tokenizer(base.base, base.config, buildPrunedVocab(['The answer is 42. Let us think step by step.'], base));
  const model = await tinyModel({ vocabSize: tokenizer.vocabSize });
  try {
    const prompts = [[1, 2, 3], [5, 6, 7, 8, 9, 10], [4], [11, 12], [13, 14, 15, 16]];
    const opts = { maxNewTokens: 10, stopIds: [] };
    const batched = await generate(model, tokenizer, prompts, { ...opts, batchSize: 2, engine: 'native' });
    for (const [i, p] of prompts.entries()) {
      const [alone] = await generate(model, tokenizer, [p], { ...opts, engine: 'tfjs' });
      assert.deepEqual(batched[i]!.ids, alone!.ids, `prompt ${i}`);
    }
    // A stop id ends one row early (its slot goes to the next prompt) and is not in the output.
    const stopAt = batched[1]!.ids[4]!;
    const stopped = await generate(model, tokenizer, prompts, { maxNewTokens: 10, stopIds: [stopAt], batchSize: 2, engine: 'native' });
    const cut = batched[1]!.ids.indexOf(stopAt);
    assert.equal(stopped[1]!.finishReason, 'stop');
    assert.deepEqual(stopped[1]!.ids, batched[1]!.ids.slice(0, cut));
    // Sampling: each prompt has its own stream, so the batch size does not change the result.
    const sample = { maxNewTokens: 10, stopIds: [], temperature: 1, seed: 3, engine: 'native' as const };
    const a = await generate(model, tokenizer, prompts, { ...sample, batchSize: 1 });
    const b = await generate(model, tokenizer, prompts, { ...sample, batchSize: 4 });
    assert.deepEqual(a.map((g) => g.ids), b.map((g) => g.ids));
    assert.notDeepEqual(a.map((g) => g.ids), batched.map((g) => g.ids));
  } finally {
    model.dispose();
  }
});

test('packBf16 keeps bf16 values as their bits and leaves other float32 arrays alone', () => {
  const bf = new Float32Array([1, -2.5, 0, 3.140625]);
  const packed = packBf16(bf);
  assert.ok(packed instanceof Uint16Array);
  assert.deepEqual(Array.from(packed), [0x3f80, 0xc020, 0, 0x4049]);
  assert.ok(packBf16(new Float32Array([1, 0.1])) instanceof Float32Array);
});

test('UNITRACE_NATIVE=0 or engine tfjs keep the TensorFlow.js decoder; engine native without the addon is refused', () => {
  const before = process.env.UNITRACE_NATIVE;
  try {
    process.env.UNITRACE_NATIVE = '0';
    assert.equal(nativeDecoderProblem(), 'UNITRACE_NATIVE=0');
    assert.equal(usesNativeDecoder(), false);
    assert.throws(() => usesNativeDecoder({ engine: 'native' }), /engine 'native' requested but UNITRACE_NATIVE=0/);
  } finally {
    if (before === undefined) delete process.env.UNITRACE_NATIVE;
    else process.env.UNITRACE_NATIVE = before;
  }
  assert.equal(usesNativeDecoder({ engine: 'tfjs' }), false);
  assert.equal(usesNativeDecoder({ useCache: false }), false);
});

test('unitrace bench --decode --json: one JSON line with the speed, the weight bytes and the measured read beside them', { skip }, () => {
  const bin = new URL('../../bin/unitrace.mjs', import.meta.url).pathname;
  const r = spawnSync(process.execPath, [bin, 'bench', '--decode', '--model', 'embedded', '--batch', '2', '--prompt-tokens', '8', '--new-tokens', '3', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  for (const key of ['prefillTokensPerSecond', 'secondsPerToken', 'tokensPerSecond', 'weightBytes', 'readSeconds', 'bandwidthGBs', 'cpuSecondsPerStep'])
    assert.ok(typeof out[key] === 'number' && (out[key] as number) > 0, `${key}: ${out[key]}`);
  assert.equal(out.backend, 'native');
  assert.match(out.matmul as string, /native decoder \((avx512|avx2-fma|generic) kernels/);
  assert.equal(out.batch, 2);
});
