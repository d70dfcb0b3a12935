// Python run inside each sandbox worker: once at start (HARDEN_PY, RUNNER_PY), then `run` per program.

/** Drops the modules that bridge to JavaScript and refuses to import them again; fixes the environment. */
export const HARDEN_PY = String.raw`
import sys, os
_BRIDGES = ('js', 'pyodide_js', 'pyodide', '_pyodide', '_pyodide_core', 'micropip', 'pyodide_http')

class _BlockBridges:
    """First on sys.meta_path: the JavaScript bridge modules cannot be imported by sandboxed code."""
    def find_spec(self, fullname, path=None, target=None):
        if fullname.split('.')[0] in _BRIDGES:
            raise ImportError(f"import of {fullname!r} is blocked in the sandbox", name=fullname)
        return None

for _name in list(sys.modules):
    if _name.split('.')[0] in _BRIDGES:
        del sys.modules[_name]
sys.meta_path.insert(0, _BlockBridges())
os.environ.clear()
os.environ.update({'HOME': '/home/pyodide', 'LANG': 'C.UTF-8', 'PATH': '/'})

import posix

def _no_processes(*args, **kwargs):
    raise PermissionError('starting processes is disabled in the sandbox')

for _mod in (os, posix):
    for _name in dir(_mod):
        if _name in ('system', 'popen', 'fork', 'forkpty', 'posix_spawn', 'posix_spawnp') or _name.startswith(('exec', 'spawn')):
            if callable(getattr(_mod, _name, None)):
                setattr(_mod, _name, _no_processes)
del _name, _mod
`;

/** Defines run(code, stdin) -> [status, exitCode, error, healthy] and compile_check(code) -> error | None. */
export const RUNNER_PY = String.raw`
import builtins, gc, io, os, shutil, sys, traceback, warnings

_HOME = '/home/pyodide'
_MISSING = object()
_BUILTINS = dict(builtins.__dict__)
_MODULES = set(sys.modules)
_META = list(sys.meta_path)
_PATH = list(sys.path)
_ENV = dict(os.environ)
_LIMIT = sys.getrecursionlimit()
_STREAMS = (sys.stdin, sys.stdout, sys.stderr)
_INT_DIGITS = sys.get_int_max_str_digits()
# Attributes of the modules loaded at start, so a program's monkey-patching (os.getcwd = ...) is undone.
_MODULE_ATTRS = {
    name: (m, dict(m.__dict__))
    for name, m in sys.modules.items()
    if m is not None and name not in ('sys', 'builtins', '__main__')
}
_WARNINGS = list(warnings.filters)


def _one_line(e):
    try:
        text = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    except BaseException:
        text = type(e).__name__
    text = text.splitlines()[0] if text else type(e).__name__
    return text[:500]


def _clear_dir(path):
    for entry in os.listdir(path):
        full = os.path.join(path, entry)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full, ignore_errors=True)
        else:
            try:
                os.unlink(full)
            except OSError:
                pass


def _restore():
    """Everything a program may have changed goes back to how it was at start."""
    d = builtins.__dict__
    d.clear()
    d.update(_BUILTINS)
    sys.stdin, sys.stdout, sys.stderr = _STREAMS
    sys.settrace(None)
    sys.setprofile(None)
    sys.excepthook, sys.displayhook = sys.__excepthook__, sys.__displayhook__
    sys.set_int_max_str_digits(_INT_DIGITS)
    gc.enable()
    warnings.filters[:] = _WARNINGS
    for name in list(sys.modules):
        if name not in _MODULES:
            del sys.modules[name]
    for name, (module, saved) in _MODULE_ATTRS.items():
        sys.modules[name] = module
        current = module.__dict__
        if len(current) != len(saved) or any(current.get(k, _MISSING) is not v for k, v in saved.items()):
            for k in [k for k in current if k not in saved]:
                del current[k]
            current.update(saved)
    sys.meta_path[:] = _META
    sys.path[:] = _PATH
    os.environ.clear()
    os.environ.update(_ENV)
    sys.setrecursionlimit(_LIMIT)
    os.chdir(_HOME)
    for path in ('/tmp', _HOME):
        _clear_dir(path)


def _healthy():
    """False when the program broke something restore cannot mend (closed std streams, deleted home)."""
    try:
        _restore()
        for stream in _STREAMS[1:]:
            if stream.closed:
                return False
        os.fstat(1)
        os.fstat(2)
        return os.path.isdir(_HOME)
    except BaseException:
        return False


def run(code, stdin):
    """Returns [status, exit code, error, healthy]."""
    g = {'__name__': '__main__', '__builtins__': builtins}
    status, exit_code, error = 'ok', 0, None
    sys.stdin = io.StringIO(stdin)
    sys.argv = ['main.py']
    try:
        exec(compile(code, 'main.py', 'exec'), g)
    except SystemExit as e:
        c = e.code
        if c is None:
            exit_code = 0
        elif isinstance(c, int):
            exit_code = int(c)
        else:
            exit_code = 1
            try:
                print(c, file=sys.stderr)
            except BaseException:
                pass
        if exit_code != 0:
            status, error = 'exit', f"sys.exit({exit_code})"
    except MemoryError as e:
        status, exit_code, error = 'memory', None, _one_line(e)
    except BaseException as e:
        status, exit_code, error = 'error', 1, _one_line(e)
        try:
            traceback.print_exception(type(e), e, e.__traceback__.tb_next if e.__traceback__ else None, limit=20)
        except BaseException:
            pass
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:
            pass
    del g
    return [status, exit_code, error, _healthy()]


def compile_check(code):
    try:
        compile(code, 'main.py', 'exec')
        return None
    except SyntaxError as e:
        return f"{type(e).__name__}: {e.msg} (line {e.lineno})"
    except BaseException as e:
        return _one_line(e)
`;
