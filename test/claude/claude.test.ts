import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/config/index.js';
import { buildDatasets, DATA_FILES, type SftExample } from '../../src/data/index.js';
import { readPromptFile } from '../../src/synth/run.js';
import { writeFileSync } from 'node:fs';
import { ClaudeClient, ClaudeError, itemOfProblem, limiter, runTeacher, synthesizeWithClaude, TEACHER_SYSTEM_PROMPT } from '../../src/claude/index.js';
import { createSandboxPool } from '../../src/sandbox/index.js';
import { corruptTrace, generateProblems } from '../../src/synth/index.js';
import { validateFormat } from '../../src/trace/validate.js';
import { readJsonl } from '../../src/util/jsonl.js';
import { fromRoot } from '../../src/util/paths.js';
import { Rng } from '../../src/util/rng.js';
import { startFakeAnthropic, type Fault, type FakeAnthropic } from '../helpers/fake-anthropic.js';

const KEY = 'sk-test-4f1c9a-not-a-real-key';
const tmp = mkdtempSync(join(tmpdir(), 'unitrace-claude-'));

// 16 problems; the teacher answers 11 correctly and 5 badly, each bad one in its own way.
const SEED = 21;
const COUNT = 16;
const problems = generateProblems({ seed: SEED, count: COUNT, families: ['arithmetic', 'geometry', 'units', 'percent', 'sequences', 'dates', 'logic'] });
const rng = new Rng(1);
const bad: Record<string, { text: string; reason: string }> = {
  [problems[1]!.question]: { text: problems[1]!.trace.replace('</logic>', ''), reason: 'not-strict' },
  [problems[3]!.question]: { text: problems[3]!.trace.replace(/GIVEN:/, 'Given'), reason: 'logic-invalid' },
  [problems[5]!.question]: { text: problems[5]!.trace.replace(/print\(/, 'print(undefined_name, '), reason: 'code-fails' },
  [problems[7]!.question]: { text: corruptTrace(problems[7]!, 'wrong-arithmetic', rng), reason: 'wrong-printed-answer' },
  [problems[9]!.question]: { text: corruptTrace(problems[9]!, 'answer-disagrees', rng), reason: 'answer-disagrees' },
};
const good = new Map(problems.map((p) => [p.question, p.trace]));
// Transient faults on some good and some bad items: each must be retried, then answered.
const faults: Record<number, Fault[]> = {
  0: [{ kind: '429', retryAfter: '2' }],
  2: [{ kind: '500' }, { kind: '529' }],
  4: [{ kind: 'slow', ms: 3000 }],
  6: [{ kind: 'malformed' }],
  7: [{ kind: '429' }],
};
const faultByPrompt = new Map(Object.entries(faults).map(([i, f]) => [problems[Number(i)]!.question, f]));

let server: FakeAnthropic;
// The CLI test runs with faults off: retries are covered above, and real backoff would only cost time.
let faultsOn = true;
const sandbox = createSandboxPool({ size: 2 });

before(async () => {
  server = await startFakeAnthropic({
    apiKey: KEY,
    respond: (body) => {
      assert.equal(body.system, TEACHER_SYSTEM_PROMPT);
      const q = body.messages[0]!.content;
      return bad[q]?.text ?? good.get(q) ?? 'I do not know.';
    },
    fault: (prompt, attempt) => (faultsOn ? (faultByPrompt.get(prompt)?.[attempt] ?? null) : null),
  });
});
after(async () => {
  await server.close();
  await sandbox.close();
  rmSync(tmp, { recursive: true, force: true });
});

function client(cacheDir: string, delays: number[] = []): ClaudeClient {
  return new ClaudeClient({
    model: 'claude-sonnet-5-5',
    apiKey: KEY,
    baseURL: server.url,
    cacheDir,
    concurrency: 3,
    timeoutMs: 1000,
    sleep: async (ms) => void delays.push(ms),
  });
}

/** Runs the CLI without blocking this process, which serves the fake API. */
function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('Claude teacher against the fault-injecting server', () => {
  const cacheDir = join(tmp, 'cache');

  it('keeps each good trace once, rejects each bad one with its reason, retrying the faults', async () => {
    const delays: number[] = [];
    const c = client(cacheDir, delays);
    const { outcomes, rejections } = await runTeacher(problems.map(itemOfProblem), { client: c, sandbox });
    const kept = outcomes.filter((o) => o.ok);
    assert.equal(kept.length, COUNT - 5);
    assert.equal(new Set(kept.map((o) => o.item.id)).size, kept.length);
    for (const o of outcomes) {
      const want = bad[o.item.question];
      if (want) assert.equal(o.reason, want.reason, o.item.id);
      else assert.ok(o.ok && o.trace === good.get(o.item.question), `${o.item.id}: ${o.reason} ${o.detail}`);
    }
    assert.deepEqual(
      Object.fromEntries(Object.entries(rejections).filter(([, n]) => n > 0)),
      { 'not-strict': 1, 'logic-invalid': 1, 'code-fails': 1, 'wrong-printed-answer': 1, 'answer-disagrees': 1 },
    );
    // 16 answers + 6 faulted attempts; the retry-after of 2 s was honoured.
    assert.equal(server.messageCalls(), COUNT + 6);
    assert.equal(c.stats.retries, 6);
    assert.ok(delays.includes(2000), `delays ${delays.join(', ')}`);
    assert.ok(server.requests.every((r) => r.auth === 'bearer' || r.auth === 'x-api-key'));
  });

  it('a second run sends no request and gives the same outcomes', async () => {
    const before = server.requests.length;
    const c = client(cacheDir);
    const { outcomes } = await runTeacher(problems.map(itemOfProblem), { client: c, sandbox });
    assert.equal(server.requests.length, before);
    assert.equal(c.stats.cacheHits, COUNT);
    assert.equal(outcomes.filter((o) => o.ok).length, COUNT - 5);
  });

  it('never writes the key to the cache and keeps it out of errors', async () => {
    for (const f of filesUnder(cacheDir)) assert.ok(!readFileSync(f, 'utf8').includes(KEY), f);
    const sent = server.requests.length;
    const wrong = new ClaudeClient({ model: 'm', apiKey: `${KEY}-wrong`, baseURL: server.url, cacheDir: join(tmp, 'c2'), sleep: async () => {} });
    await assert.rejects(wrong.complete({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 10 }), (e: Error) => {
      assert.ok(e instanceof ClaudeError && e.status === 401);
      assert.ok(!e.message.includes(KEY));
      return true;
    });
    assert.equal(server.requests.length, sent + 1, 'a 401 is not retried');
  });

  it('the limiter never runs more tasks at once than its limit', async () => {
    const limit = limiter(3);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        limit(async () => {
          peak = Math.max(peak, ++active);
          await new Promise((r) => setImmediate(r));
          order.push(i);
          active--;
        }),
      ),
    );
    assert.equal(peak, 3);
    assert.equal(order.length, 12);
  });

  it('the server accepts x-api-key as well as a bearer token', async () => {
    const res = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'm', max_tokens: 5, system: TEACHER_SYSTEM_PROMPT, messages: [{ role: 'user', content: 'ping' }] }),
    });
    assert.equal(res.status, 200);
  });

  it('synthesizes rounds until enough traces pass, through the Batches API too', async () => {
    const c = client(join(tmp, 'batch-cache'));
    const res = await synthesizeWithClaude(problems, 10, { client: c, sandbox, useBatchApi: true });
    assert.equal(res.kept.length, 10);
    assert.ok(res.kept.every((p) => !bad[p.question]));
    assert.ok(server.requests.some((r) => r.path === '/v1/messages/batches'));
    const again = client(join(tmp, 'batch-cache'));
    const before = server.requests.length;
    await synthesizeWithClaude(problems, 10, { client: again, sandbox, useBatchApi: true });
    assert.equal(server.requests.length, before);
  });

  it('buildDatasets takes the unified traces from Claude when synth.teacher is claude', async () => {
    const config = resolveConfig({ preset: 'smoke', overrides: ['synth.teacher=claude'] });
    const c = client(join(tmp, 'mix-cache'));
    const m = await buildDatasets(config, {
      outDir: join(tmp, 'mix'),
      synthesize: (ps, needed) => {
        for (const p of ps) if (!good.has(p.question)) good.set(p.question, p.trace);
        return synthesizeWithClaude(ps, needed, { client: c, sandbox });
      },
    });
    assert.equal(m.sources.synthetic.teacher, 'claude');
    assert.equal(m.sources.synthetic.model, 'claude-sonnet-5-5');
    assert.equal(m.counts.unified.unified, 24);
    const rows = readJsonl<SftExample>(join(tmp, 'mix', DATA_FILES.unified));
    assert.equal(rows.filter((r) => r.source === 'unified').length, 24);
  });

  it('reads a prompt file of JSONL rows or plain lines, naming a bad line', () => {
    const f = join(tmp, 'prompts.jsonl');
    writeFileSync(f, '{"prompt": "What is 2 + 3?", "groundTruth": 5}\nName a prime number above 10.\n\n{"question": "Which day follows Monday?", "groundTruth": "Tuesday"}\n');
    assert.deepEqual(readPromptFile(f), [
      { prompt: 'What is 2 + 3?', groundTruth: 5 },
      { prompt: 'Name a prime number above 10.' },
      { prompt: 'Which day follows Monday?', groundTruth: 'Tuesday' },
    ]);
    writeFileSync(f, '{"prompt": "ok"}\n{"prompt": 3}\n');
    assert.throws(() => readPromptFile(f), /prompts\.jsonl:2: no prompt/);
  });

  it('the system prompt carries a worked example that passes the format checks', () => {
    const example = TEACHER_SYSTEM_PROMPT.slice(TEACHER_SYSTEM_PROMPT.lastIndexOf('<cot>'));
    const v = validateFormat(example);
    assert.ok(v.strict && v.logicValid, v.errors.join('; '));
  });

  it('`unitrace synth --teacher claude` saves good items once, reports rejections, and reruns for free', async () => {
    const out = join(tmp, 'claude.jsonl');
    const args = [fromRoot('bin/unitrace.mjs'), 'synth', '--teacher', 'claude', '--count', String(COUNT), '--seed', String(SEED), '--out', out,
      '--families', 'arithmetic,geometry,units,percent,sequences,dates,logic', '--cache', join(tmp, 'cli-cache'), '--concurrency', '2'];
    const env = { ...process.env, ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.url };
    faultsOn = false;
    const first = await runCli(args, env);
    assert.equal(first.status, 0, first.stderr);
    const rows = readJsonl<{ id: string; family: string; groundTruth: unknown; messages: { content: string }[] }>(out);
    assert.equal(rows.length, COUNT - 5);
    assert.equal(new Set(rows.map((r) => r.id)).size, rows.length);
    assert.ok(rows.every((r) => r.family && r.groundTruth !== undefined && !bad[r.messages[0]!.content]));
    assert.match(first.stdout, /rejections: .*not-strict 1/);
    assert.match(first.stderr, /rejected .*: logic-invalid/);
    assert.ok(!first.stdout.includes(KEY) && !first.stderr.includes(KEY));
    const before = server.requests.length;
    const second = await runCli(args, env);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(server.requests.length, before);
    assert.match(second.stdout, /0 requests, 16 cache hits/);
    assert.equal(readJsonl(out).length, rows.length);
  });
});
