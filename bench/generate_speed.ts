// Generation speed with the KV cache: greedy decoding of N new tokens after a short prompt, batch 1 and 8,
// through the model's own generation loop (src/model/generate.ts) on a random-init model.
// Usage: npx tsx bench/generate_speed.ts [bench/tiny.json] [newTokens=256] [backend=wasm]
import { readFileSync } from 'node:fs';
import { initBackend } from '../src/engine/backend.js';
import { parseConfig } from '../src/model/config.js';
import { generateBatch } from '../src/model/generate.js';
import { randomModel } from '../src/model/load.js';
import type { Tokenizer } from '../src/model/tokenizer.js';
import { Rng } from '../src/util/rng.js';

const [file = 'bench/tiny.json', newArg = '256', backendArg = 'wasm'] = process.argv.slice(2);
const backend = await initBackend(backendArg as 'wasm');
const config = parseConfig(JSON.parse(readFileSync(file, 'utf8')));
const model = randomModel(config, new Rng(5));
// Ids in, ids out: the loop needs only a pad id and a decoder from the tokenizer.
const tokenizer = { padId: 0, eosIds: [], decode: () => '' } as unknown as Tokenizer;
const maxNewTokens = Number(newArg);
for (const batch of [1, 8]) {
  const prompts = Array.from({ length: batch }, (_, r) => Array.from({ length: 16 }, (_, i) => (r * 31 + i * 17 + 1) % config.vocabSize));
  await generateBatch(model, tokenizer, prompts, { maxNewTokens: 8, stopIds: [] }, new Rng(0)); // warm-up
  const t0 = performance.now();
  const out = await generateBatch(model, tokenizer, prompts, { maxNewTokens, stopIds: [] }, new Rng(0));
  const sec = (performance.now() - t0) / 1000;
  const tokens = out.reduce((s, g) => s + g.ids.length, 0);
  console.log(JSON.stringify({ backend, config: file, batch, newTokens: maxNewTokens, seconds: +sec.toFixed(3), tokensPerSecond: +(tokens / sec).toFixed(1), stepsPerSecond: +(maxNewTokens / sec).toFixed(1) }));
}
model.dispose();
