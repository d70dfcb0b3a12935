// Every JSON file the model loader reads names itself when it is truncated.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadModel, resolveModelDir } from '../../src/model/load.js';
import { loadTokenizer } from '../../src/model/tokenizer.js';

test('a truncated vocab_map.json, tokenizer_config.json or config.json is named in the error', async () => {
  for (const name of ['vocab_map.json', 'tokenizer_config.json', 'config.json']) {
    const dir = join(mkdtempSync(join(tmpdir(), 'unitrace-json-')), 'model');
    cpSync(resolveModelDir('embedded'), dir, { recursive: true });
    const file = join(dir, name);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, Math.floor(text.length / 2)));
    const message = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid .*truncated or corrupt`);
    if (name === 'config.json') await assert.rejects(loadModel(dir, { backend: 'cpu' }), message);
    else assert.throws(() => loadTokenizer(dir), message);
  }
});
