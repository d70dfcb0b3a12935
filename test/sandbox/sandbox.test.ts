// The sandbox against hostile programs (issues #2 and #12). One pool of two child processes is shared by the
// file. Every hostile program runs with a fake API key in the host environment, a canary folder it tries to
// write to and a listener on 127.0.0.1 it tries to reach; after each, the host is checked and an innocent
// program must print the right result.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSandboxPool, type SandboxPool } from '../../src/sandbox/index.js';
import { fromRoot } from '../../src/util/paths.js';
import * as E from './escapes.js';

const KEY = 'ANTHROPIC_API_KEY';
const SECRET = 'sk-canary-5d1f0c2e';
const OUTPUT_LIMIT = 64 * 1024;
let pool: SandboxPool;
let canaryDir: string;
let server: Server;
let port = 0;
let connections = 0;

before(async () => {
  process.env[KEY] = SECRET;
  canaryDir = mkdtempSync(join(tmpdir(), 'unitrace-canary-'));
  writeFileSync(join(canaryDir, 'canary.txt'), 'untouched');
  server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
  // A generous default limit: on a loaded 2-core machine a legitimate run must never be cut.
  pool = createSandboxPool({ size: 2, timeoutMs: 30_000, memoryLimitMb: 256, maxOutputBytes: OUTPUT_LIMIT });
  await pool.warm();
});
after(async () => {
  await pool.close();
  server.close();
  rmSync(canaryDir, { recursive: true, force: true });
  delete process.env[KEY];
});

function prelude(): string {
  return `CANARY_DIR = ${JSON.stringify(canaryDir)}\nPORT = ${port}\nKEY_NAME = ${JSON.stringify(KEY)}\n`;
}

/** Runs a hostile program, checks the host, then checks that the next program runs as if nothing happened. */
async function hostile(code: string, opts: { bothChildren?: boolean } = {}): Promise<string> {
  const r = await pool.run(prelude() + code);
  const seen = `${r.stdout}\n${r.stderr}\n${r.error ?? ''}`;
  assert.ok(!seen.includes(SECRET), `the API key came back: ${seen}`);
  assert.doesNotMatch(seen, /uid=\d+/, 'a shell ran');
  assert.deepEqual(readdirSync(canaryDir), ['canary.txt'], 'a host file was written');
  assert.equal(readFileSync(join(canaryDir, 'canary.txt'), 'utf8'), 'untouched');
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(connections, 0, 'the listener on 127.0.0.1 was reached');
  // With bothChildren, the check cannot pass by landing on the other child.
  for (const next of await Promise.all((opts.bothChildren ? [1, 2] : [1]).map(() => pool.run(E.INNOCENT)))) {
    assert.equal(next.stdout, E.INNOCENT_OUT, `after a hostile program: ${next.status} ${next.error ?? ''} ${next.stderr}`);
  }
  return seen;
}

describe('escapes of issue #12: each blocked, the host untouched, the next program unaffected', { concurrency: 2 }, () => {
  test('gc-reachable proxies, a prototype getter with capture_this and emscripten_* through ctypes', async () => {
    const before = pool.stats().recycled['the program reached JavaScript'] ?? 0;
    const seen = await hostile(E.PROTOTYPE_GETTER);
    assert.match(seen, /getter blocked TypeError|getter blocked JsException|reached False/);
    assert.doesNotMatch(seen, /(hostname|write|environ|env|net|binding|require|fetch) ok/);
    assert.ok((pool.stats().recycled['the program reached JavaScript'] ?? 0) > before, 'the child that reached JavaScript was replaced');
  });

  test('_pyodide_core through _imp.create_builtin or a cleared sys.meta_path; Function constructor; emscripten_run_script', async () => {
    const seen = await hostile(E.FUNCTION_CONSTRUCTOR);
    assert.doesNotMatch(seen, /function ctor ok|returned/);
  });

  test('forging through String.prototype and TextDecoder', async () => {
    const seen = await hostile(E.FORGE_STRING_PROTOTYPE);
    assert.doesNotMatch(seen, /FORGED|patched/);
  });

  test('asyncio callbacks and gc callbacks that would outlive their program', async () => {
    await hostile(E.OUTLIVING_CALLBACKS);
  });

  test('a background busy loop does not make the next program time out', async () => {
    await hostile(E.BACKGROUND_BUSY_LOOP);
    const r = await pool.run('print("fast")', { timeoutMs: 10_000 });
    assert.equal(r.stdout, 'fast\n');
  });

  test('a deleted stdlib zip gets the child replaced', async () => {
    const before = pool.stats().workersStarted;
    await hostile(E.DELETED_STDLIB_ZIP);
    assert.ok(pool.stats().workersStarted > before);
  });

  test('process.binding, getBuiltinModule and sockets from Python reach nothing', async () => {
    const seen = await hostile(
      'import socket, urllib.request\n' +
        'for f in (lambda: socket.create_connection(("127.0.0.1", PORT)), lambda: urllib.request.urlopen("http://127.0.0.1:%d/" % PORT)):\n' +
        '    try:\n        f(); print("connected")\n    except BaseException as e:\n        print("refused", type(e).__name__)\n' +
        'import os\nprint(sorted(os.environ), os.path.exists("/etc/hostname"))\n',
    );
    assert.doesNotMatch(seen, /connected/);
    assert.match(seen, /\['HOME', 'LANG', 'PATH'\] False/);
  });
});

describe('basic runs', () => {
  test('patched collections.Counter, json, math, builtins: reset without replacing the child', async () => {
    const started = pool.stats().workersStarted;
    await hostile(E.PATCHED_STDLIB, { bothChildren: true });
    assert.equal(pool.stats().workersStarted, started, 'a plain-Python program is undone by restoring the snapshot');
  });

  test('stdout, stderr, stdin and exception verdicts', async () => {
    const ok = await pool.run('import sys\nprint("out")\nprint("err", file=sys.stderr)\nprint(input())', { stdin: 'typed\n' });
    assert.deepEqual([ok.status, ok.exitCode, ok.stdout, ok.stderr], ['ok', 0, 'out\ntyped\n', 'err\n']);
    const err = await pool.run('print("before")\n1/0');
    assert.deepEqual([err.status, err.exitCode, err.stdout], ['error', 1, 'before\n']);
    assert.equal(err.error, 'ZeroDivisionError: division by zero');
    assert.match(err.stderr, /Traceback[\s\S]*ZeroDivisionError/);
  });

  test('a program that closes stdout, sets a tracer or deletes its home does not break later runs', async () => {
    for (const code of ['import sys; sys.stdout.close()', 'import os; os.close(1)', 'import sys; sys.settrace(lambda *a: None)', 'import os; os.chdir("/"); os.rmdir("/home/pyodide")']) {
      await pool.run(code);
      const next = await pool.run('import os, sys\nprint(sys.gettrace(), os.getcwd())');
      assert.equal(next.stdout, 'None /home/pyodide\n', `after ${code}: ${next.status} ${next.error ?? ''}`);
    }
  });

  test('compile reports syntax errors with the line and runs nothing', async () => {
    assert.deepEqual(await pool.compile('x = 1\nprint(x)\n'), { ok: true, error: undefined });
    const bad = await pool.compile('x = 1\nif x\n    print(x)\n');
    assert.equal(bad.ok, false);
    assert.match(bad.error!, /SyntaxError: .*\(line 2\)/);
    assert.equal((await pool.compile('while True: pass')).ok, true, 'compiling does not execute');
  });

  test('sys.exit(3) -> exit 3; sys.exit(0) counts as ok', async () => {
    const three = await pool.run('import sys\nprint("bye")\nsys.exit(3)');
    assert.deepEqual([three.status, three.exitCode, three.stdout], ['exit', 3, 'bye\n']);
    const zero = await pool.run('import sys\nsys.exit(0)\nprint("unreachable")');
    assert.deepEqual([zero.status, zero.exitCode, zero.stdout], ['ok', 0, '']);
    const text = await pool.run('import sys\nsys.exit("fatal: bad input")');
    assert.deepEqual([text.status, text.exitCode, text.stderr], ['exit', 1, 'fatal: bad input\n']);
  });
});

describe('limits', { concurrency: 2 }, () => {
  test('while True: pass -> timeout, child killed and replaced', async () => {
    const before = pool.stats().workersStarted;
    const r = await pool.run('while True: pass', { timeoutMs: 1500 });
    assert.deepEqual([r.status, r.exitCode], ['timeout', null]);
    assert.match(r.error!, /wall-clock limit of 1500 ms/);
    assert.equal((await pool.run('print(1)')).stdout, '1\n');
    assert.ok(pool.stats().workersStarted > before, 'the killed child was replaced');
  });

  test("'a' * 10**10 -> OverflowError; 1 GB and a growing list -> memory", async () => {
    const huge = await pool.run("x = 'a' * 10**10");
    assert.match(huge.error!, /^OverflowError/);
    const big = await pool.run("x = 'a' * 10**9");
    assert.equal(big.status, 'memory');
    const grow = await pool.run('xs = []\nwhile True: xs.append(bytearray(10**7))');
    assert.equal(grow.status, 'memory');
    assert.equal((await pool.run('print(2)')).stdout, '2\n');
  });

  test('os.system, subprocess and libc system() start nothing', async () => {
    const sys = await pool.run(`import os; os.system('touch ${canaryDir}/sys')`);
    assert.match(sys.error!, /PermissionError: starting processes is disabled/);
    await pool.run("import subprocess; subprocess.run(['id'])");
    await pool.run(`import ctypes\nprint(ctypes.CDLL(None).system(b"touch ${canaryDir}/libc"))`);
    assert.deepEqual(readdirSync(canaryDir), ['canary.txt']);
  });

  test('the host file system is not visible', async () => {
    const own = await pool.run(`print(open(${JSON.stringify(fromRoot('package.json'))}).read())`);
    assert.match(own.error!, /FileNotFoundError/);
    const root = await pool.run('import os; print(sorted(os.listdir("/")))');
    assert.doesNotMatch(root.stdout, /'(etc|work|usr|root|mnt)'/);
  });

  test('the JavaScript bridges cannot be imported', async () => {
    for (const code of ['import js', 'from js import fetch', 'import pyodide_js', 'from pyodide.code import run_js', 'import _pyodide_core']) {
      const r = await pool.run(code);
      assert.match(r.error!, /ImportError: import of '\w+' is blocked/, code);
    }
  });

  test('printing 100 MB is cut at the output limit; deep recursion is an error', async () => {
    const r = await pool.run('print("x" * 10**8)\nprint("done", flush=True)');
    assert.deepEqual([r.status, r.truncated, r.stdout.length], ['ok', true, OUTPUT_LIMIT]);
    const plain = await pool.run('def f(n): return f(n + 1)\nf(0)');
    assert.match(plain.error!, /RecursionError/);
    const deep = await pool.run('import sys\nsys.setrecursionlimit(10**6)\ndef f(n): return f(n + 1)\nf(0)');
    assert.equal(deep.status, 'error');
    assert.equal((await pool.run('print(3)')).stdout, '3\n');
  });

  test('timeouts of 2^31 ms or more are refused (Node would clamp them to 1 ms)', () => {
    assert.throws(() => createSandboxPool({ timeoutMs: 2 ** 31 }), /timeoutMs must be a whole number of ms from 1 to 2147483647/);
    assert.throws(() => pool.run('pass', { timeoutMs: 0 }), /timeoutMs/);
  });
});
