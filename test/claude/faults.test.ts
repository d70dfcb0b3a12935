// Claude failures that used to pass silently: a refused key, a server that never answers, an answer of
// another shape, and an answer that echoes the key.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ClaudeClient, ClaudeError, type ClaudeEvent } from '../../src/claude/index.js';
import { fromRoot } from '../../src/util/paths.js';
import { startFakeAnthropic, type FakeAnthropic, type Fault } from '../helpers/fake-anthropic.js';

const KEY = 'sk-test-faults-2b7e-not-a-real-key';
const tmp = mkdtempSync(join(tmpdir(), 'unitrace-claude-faults-'));
let server: FakeAnthropic;
const faults: Record<string, Fault> = { hang: { kind: 'slow', ms: 3_600_000 }, shape: { kind: 'shape' } };

before(async () => {
  server = await startFakeAnthropic({
    apiKey: KEY,
    respond: (body) => (body.messages[0]!.content === 'echo' ? `Your key is ${KEY}, keep it safe.` : 'fine'),
    fault: (prompt) => faults[prompt] ?? null,
  });
});
after(() => server.close());

const client = (extra: Partial<ConstructorParameters<typeof ClaudeClient>[0]> = {}) =>
  new ClaudeClient({ model: 'claude-test', apiKey: KEY, baseURL: server.url, cacheDir: join(tmp, `cache-${Math.random()}`), sleep: async () => {}, ...extra });
const ask = (c: ClaudeClient, content: string) => c.complete({ messages: [{ role: 'user', content }], maxTokens: 16 });

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fromRoot('bin', 'unitrace.mjs'), ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr, seconds: (Date.now() - t0) / 1000 }));
  });
}

test('`unitrace synth --teacher claude` with a refused key stops at once, exits non-zero and says so', async () => {
  const out = join(tmp, 'refused.jsonl');
  const before = server.messageCalls();
  const r = await runCli(['synth', '--teacher', 'claude', '--count', '12', '--concurrency', '2', '--out', out, '--cache', join(tmp, 'refused-cache')], {
    ...process.env,
    ANTHROPIC_API_KEY: `${KEY}-revoked`,
    ANTHROPIC_BASE_URL: server.url,
  });
  assert.notEqual(r.status, 0, r.stdout);
  assert.match(r.stderr, /refused the API key \(HTTP 401\): check ANTHROPIC_API_KEY/);
  assert.ok(!r.stderr.includes(KEY) && !r.stdout.includes(KEY));
  assert.ok(server.messageCalls() - before <= 2, `stopped after the requests in flight, not ${server.messageCalls() - before}`);
  assert.equal(existsSync(out), false, 'no trace file from a run that never started');
});

test('a server that never answers: a waiting line naming the host and the time, then a deadline that stops the run', async () => {
  const events: ClaudeEvent[] = [];
  const c = client({ deadlineMs: 1200, timeoutMs: 60_000, onEvent: (e) => events.push(e) });
  const t0 = Date.now();
  await assert.rejects(ask(c, 'hang'), (e: Error) => {
    assert.ok(e instanceof ClaudeError && e.fatal, e.message);
    assert.match(e.message, new RegExp(`no answer from ${new URL(server.url).host} within the deadline of 1 s`));
    return true;
  });
  assert.ok(Date.now() - t0 < 5000, 'the deadline caps the attempt, not the 60 s timeout');
  const waiting = events.filter((e) => e.type === 'waiting');
  assert.ok(waiting.length >= 2, JSON.stringify(events));
  assert.deepEqual({ ...waiting[0], waitedMs: 0 }, { type: 'waiting', host: new URL(server.url).host, inFlight: 1, waitedMs: 0, deadlineMs: 1200 });
  // Fatal: a later request fails at once without reaching the server.
  const calls = server.messageCalls();
  await assert.rejects(ask(c, 'fine please'), /no answer from/);
  assert.equal(server.messageCalls(), calls);

  const r = await runCli(['synth', '--teacher', 'claude', '--count', '1', '--deadline', '2', '--out', join(tmp, 'hang.jsonl'), '--prompts', fromRoot('test', 'claude', 'hang-prompt.txt'), '--cache', join(tmp, 'hang-cache')], {
    ...process.env,
    ANTHROPIC_API_KEY: KEY,
    ANTHROPIC_BASE_URL: server.url,
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, new RegExp(`claude: waiting for ${new URL(server.url).host}: 1 request\\(s\\) without an answer, the oldest for \\d+ s \\(deadline 2 s\\)`));
  assert.match(r.stderr, /no answer from .* within the deadline of 2 s/);
});

test('an HTTP 200 of another shape is a clear, fatal error', async () => {
  await assert.rejects(ask(client(), 'shape'), (e: Error) => {
    assert.ok(e instanceof ClaudeError && e.fatal);
    assert.match(e.message, /answered HTTP 200 with "content" of type string where the Messages API has a list of content blocks/);
    return true;
  });
});

test('an answer echoing the key is redacted before it is cached or returned', async () => {
  const cacheDir = join(tmp, 'echo-cache');
  const r = await ask(client({ cacheDir }), 'echo');
  assert.equal(r.text, 'Your key is [redacted], keep it safe.');
  const files = (function walk(d: string): string[] {
    return readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
  })(cacheDir);
  assert.equal(files.length, 1);
  assert.ok(!readFileSync(files[0]!, 'utf8').includes(KEY));
  assert.equal((await ask(client({ cacheDir }), 'echo')).cached, true);
});
