import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { EMBEDDED_MODEL_DIR } from '../../src/model/folder.js';
import { loadTokenizer, QWEN25_DEFAULT_SYSTEM, type ChatMessage } from '../../src/model/tokenizer.js';
import { fromRoot } from '../../src/util/paths.js';
import { hfPython, NO_HF_PYTHON, runPython } from '../helpers/python.js';

const golden = (name: string) => JSON.parse(readFileSync(fromRoot('test', 'model', 'golden', name), 'utf8'));
const conversations = golden('chat-conversations.json') as ChatMessage[][];
type Rendering = { plain: string; generation: string };
const committed = golden('qwen25-renderings.json').renderings as Rendering[];

// Goldens: Qwen2.5's own template (trl/chat_templates/qwen2_5.jinja) through transformers' apply_chat_template.
for (const [name, dir] of [['built-in template', undefined], ['embedded model template', EMBEDDED_MODEL_DIR]] as const) {
  test(`${name}: renders every conversation as Qwen2.5's template does`, () => {
    const tok = loadTokenizer(dir);
    conversations.forEach((c, i) => {
      assert.equal(tok.applyChatTemplate(c), committed[i]!.plain, `conversation ${i}`);
      assert.equal(tok.applyChatTemplate(c, { addGenerationPrompt: true }), committed[i]!.generation, `conversation ${i} + generation prompt`);
    });
    assert.ok(tok.applyChatTemplate([{ role: 'user', content: 'hi' }]).includes(QWEN25_DEFAULT_SYSTEM));
  });
}

test("the goldens are what Python jinja2 renders from Qwen2.5's template now", { skip: hfPython(['trl', 'transformers']) ? false : NO_HF_PYTHON }, () => {
  const fresh = JSON.parse(runPython(hfPython(['trl', 'transformers'])!, [fromRoot('scripts', 'golden_chat_template.py'), '--stdout'])) as Rendering[];
  assert.deepEqual(fresh, committed);
});
