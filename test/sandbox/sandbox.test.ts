// The sandbox against the hostile programs of issue #2: each gets a clear verdict within its limit and the
// pool keeps serving. One pool of two workers is shared by the whole file (Pyodide takes ~2 s to start).
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createSandboxPool, type SandboxPool } from '../../src/sandbox/index.js';
import { fromRoot } from '../../src/util/paths.js';

const CANARY = 'UNITRACE_SANDBOX_CANARY';
const OUTPUT_LIMIT = 64 * 1024;
let pool: SandboxPool;

before(async () => {
  process.env[CANARY] = 'host-secret-7f3a';
  // A generous default limit: on a loaded 2-core machine a legitimate run must never be cut; the timeout
  // test sets its own short limit.
  pool = createSandboxPool({ size: 2, timeoutMs: 30_000, memoryLimitMb: 256, maxOutputBytes: OUTPUT_LIMIT });
  await pool.warm();
});
after(async () => {
  await pool.close();
});

/** After any hostile run the pool must still answer a normal program. */
async function stillServes(): Promise<void> {
  const r = await pool.run('print(sum(range(10)))');
  assert.equal(r.status, 'ok', r.error);
  assert.equal(r.stdout, '45\n');
}

describe('basic runs', () => {
  test('stdout, stderr, stdin and exception verdicts', async () => {
    const ok = await pool.run('import sys\nprint("out")\nprint("err", file=sys.stderr)\nprint(input())', { stdin: 'typed\n' });
    assert.deepEqual([ok.status, ok.exitCode, ok.stdout, ok.stderr], ['ok', 0, 'out\ntyped\n', 'err\n']);
    const err = await pool.run('print("before")\n1/0');
    assert.deepEqual([err.status, err.exitCode, err.stdout], ['error', 1, 'before\n']);
    assert.equal(err.error, 'ZeroDivisionError: division by zero');
    assert.match(err.stderr, /Traceback[\s\S]*ZeroDivisionError/);
  });

  test('each run gets fresh globals, builtins, files and environment', async () => {
    const first = await pool.run(
      'import builtins, os\nx = 41\nbuiltins.len = None\nos.getcwd = None\nos.environ["LEAK"] = "1"\nopen("/tmp/left.txt", "w").write("x")\nprint("set")',
    );
    assert.equal(first.stdout, 'set\n');
    // Both workers, so the check cannot pass by landing on the other one.
    for (const r of await Promise.all([1, 2].map(() => pool.run('import os\nprint(len("ab"), "x" in globals(), os.path.exists("/tmp/left.txt"), "LEAK" in os.environ, os.getcwd())')))) {
      assert.equal(r.stdout, '2 False False False /home/pyodide\n', r.stderr);
    }
  });

  test('a program that closes stdout, sets a tracer or deletes its home does not break later runs', async () => {
    for (const code of ['import sys; sys.stdout.close()', 'import os; os.close(1)', 'import sys; sys.settrace(lambda *a: None)', 'import os; os.chdir("/"); os.rmdir("/home/pyodide")']) {
      const r = await pool.run(code);
      assert.equal(r.status, 'ok', `${code}: ${r.error}`);
      const next = await pool.run('import os, sys\nprint(sys.gettrace(), os.getcwd())');
      assert.equal(next.stdout, 'None /home/pyodide\n', `after ${code}: ${next.status} ${next.error ?? ''}`);
    }
  });

  test('compile reports syntax errors with the line and runs nothing', async () => {
    assert.deepEqual(await pool.compile('x = 1\nprint(x)\n'), { ok: true, error: undefined });
    const bad = await pool.compile('x = 1\nif x\n    print(x)\n');
    assert.equal(bad.ok, false);
    assert.match(bad.error!, /SyntaxError: .*\(line 2\)/);
    const side = await pool.compile('while True: pass');
    assert.equal(side.ok, true, 'compiling does not execute');
  });
});

// Two at a time, one per worker, so worker replacements overlap with other cases.
describe('hostile programs', { concurrency: 2 }, () => {
  test('while True: pass -> timeout, worker replaced', async () => {
    const before = pool.stats().workersStarted;
    const r = await pool.run('while True: pass', { timeoutMs: 1500 });
    assert.equal(r.status, 'timeout');
    assert.equal(r.exitCode, null);
    assert.match(r.error!, /wall-clock limit of 1500 ms/);
    await stillServes();
    assert.ok(pool.stats().workersStarted > before, 'the killed worker was replaced');
  });

  test("'a' * 10**10 -> refused without allocating (wasm32 index limit), 1 GB -> memory", async () => {
    const huge = await pool.run("x = 'a' * 10**10");
    assert.equal(huge.status, 'error');
    assert.match(huge.error!, /^OverflowError/);
    const big = await pool.run("x = 'a' * 10**9");
    assert.equal(big.status, 'memory');
    assert.match(big.error!, /MemoryError/);
    await stillServes();
  });

  test('growing a list past the memory limit -> memory', async () => {
    const r = await pool.run('xs = []\nwhile True: xs.append(bytearray(10**7))');
    assert.equal(r.status, 'memory');
    await stillServes();
  });

  test("import os; os.system('id') and other process starts are refused", async () => {
    const marker = '/tmp/unitrace-sandbox-escape';
    rmSync(marker, { force: true });
    const sys = await pool.run("import os; os.system('id')");
    assert.equal(sys.status, 'error');
    assert.match(sys.error!, /PermissionError: starting processes is disabled/);
    assert.doesNotMatch(sys.stdout + sys.stderr, /uid=/);
    const sub = await pool.run("import subprocess; subprocess.run(['id'])");
    assert.equal(sub.status, 'error');
    // Below Python: libc system() reaches Emscripten's host shell hook, which must not run anything.
    const libc = await pool.run(`import ctypes\nprint(ctypes.CDLL(None).system(b"touch ${marker}"))`);
    assert.equal(existsSync(marker), false, `libc system() ran a host command (${libc.status} ${libc.error ?? ''} ${libc.stdout})`);
    await stillServes();
  });

  test('reading /etc/passwd or the project files finds nothing of the host', async () => {
    const passwd = await pool.run('print(open("/etc/passwd").read())');
    assert.equal(passwd.status, 'error');
    assert.match(passwd.error!, /FileNotFoundError/);
    const own = await pool.run(`print(open(${JSON.stringify(fromRoot('package.json'))}).read())`);
    assert.equal(own.status, 'error');
    assert.match(own.error!, /FileNotFoundError/);
    const root = await pool.run('import os; print(sorted(os.listdir("/")))');
    assert.equal(root.status, 'ok');
    assert.doesNotMatch(root.stdout, /'(etc|work|usr|root|mnt)'/);
  });

  test('os.environ holds none of the host environment', async () => {
    const r = await pool.run(`import os\nprint(os.environ.get(${JSON.stringify(CANARY)}), sorted(os.environ))`);
    assert.equal(r.status, 'ok');
    assert.equal(r.stdout, "None ['HOME', 'LANG', 'PATH']\n");
  });

  test('opening a socket reaches nothing, and the JavaScript bridges cannot be imported', async () => {
    let connections = 0;
    const server: Server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await pool.run(`import socket\ns = socket.socket()\ns.connect(("127.0.0.1", ${port}))\ns.send(b"GET / HTTP/1.0\\r\\n\\r\\n")\nprint(s.recv(10))`);
      assert.equal(r.status, 'error');
      assert.match(r.error!, /PermissionError|OSError/);
      const http = await pool.run(`import urllib.request\nprint(urllib.request.urlopen("http://127.0.0.1:${port}/").read())`);
      assert.equal(http.status, 'error');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(connections, 0, 'the host server saw a connection');
    } finally {
      server.close();
    }
    for (const code of ['import js', 'from js import fetch', 'import pyodide_js', 'from pyodide.http import pyfetch', 'from pyodide.code import run_js', 'import _pyodide_core']) {
      const r = await pool.run(code);
      assert.equal(r.status, 'error', code);
      assert.match(r.error!, /ImportError: import of '\w+' is blocked/, code);
    }
  });

  test('ctypes into Emscripten\'s script hook cannot evaluate JavaScript on the host', async () => {
    const marker = '/tmp/unitrace-sandbox-eval';
    rmSync(marker, { force: true });
    const js = `require("fs").writeFileSync(${JSON.stringify(marker)}, "x"), 7`;
    const r = await pool.run(`import ctypes\nprint(ctypes.CDLL(None).emscripten_run_script_int(${JSON.stringify(js)}.encode()))`);
    assert.equal(r.status, 'error');
    assert.match(r.error!, /eval is not a function/);
    assert.equal(existsSync(marker), false);
    await stillServes();
  });

  test('a JavaScript object reached from Python leads to no Function constructor', async () => {
    // gc reaches Pyodide's core module, whose to_js makes JS objects; Object.constructor would be Function.
    const r = await pool.run(
      'import gc, types\n' +
        "core = [m for m in gc.get_objects() if isinstance(m, types.ModuleType) and m.__name__ == '_pyodide_core'][0]\n" +
        "obj = core.to_js({'a': 1})\n" +
        "print(obj.constructor.constructor)\n" +
        "obj.constructor.constructor('return process')()",
    );
    assert.equal(r.stdout, 'None\n');
    assert.equal(r.status, 'error');
    assert.match(r.error!, /^TypeError/, 'calling the missing constructor fails');
  });

  test('printing 100 MB is cut at the output limit', async () => {
    const r = await pool.run('print("x" * 10**8)\nprint("done", flush=True)');
    assert.equal(r.status, 'ok');
    assert.equal(r.truncated, true);
    assert.equal(r.stdout.length, OUTPUT_LIMIT);
    await stillServes();
  });

  test('deep recursion -> RecursionError, and past the wasm stack -> error with the worker replaced', async () => {
    const plain = await pool.run('def f(n): return f(n + 1)\nf(0)');
    assert.equal(plain.status, 'error');
    assert.match(plain.error!, /RecursionError/);
    const deep = await pool.run('import sys\nsys.setrecursionlimit(10**6)\ndef f(n): return f(n + 1)\nf(0)');
    assert.equal(deep.status, 'error');
    assert.ok(deep.error, 'a reason is given');
    await stillServes();
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
