// Python run inside each sandbox child: once at start (HARDEN_PY, RUNNER_PY), then _unitrace_job per program.

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

/** The job folder: the harness writes the program (and its stdin) here and reads the runner's verdict. */
export const JOB_DIR = '/unitrace';

/**
 * Defines _unitrace_job(), which the harness calls (through PyRun_SimpleString, no JavaScript in between)
 * once per program. It reads JOB_DIR/mode, code and stdin, runs or compiles the code with fresh globals and
 * writes `status\nexit code\nerror` to JOB_DIR/verdict. It needs no cleanup afterwards: the harness puts
 * the whole interpreter back to the state it had before the first program. What it uses is bound at
 * definition time, so a program that patches os, io or builtins does not change how its verdict is written.
 */
export const RUNNER_PY = String.raw`
import builtins, io, os, sys, traceback

def _unitrace_job(_open=os.open, _read=os.read, _write=os.write, _close=os.close, _exec=exec, _compile=compile,
                  _StringIO=io.StringIO, _sys=sys, _tb=traceback, _builtins=builtins, _str=str, _type=type,
                  _int=int, _isinstance=isinstance, _BaseException=BaseException, _SystemExit=SystemExit,
                  _MemoryError=MemoryError, _SyntaxError=SyntaxError):
    def read(name):
        fd = _open('${JOB_DIR}/' + name, os.O_RDONLY)
        try:
            chunks = []
            while True:
                b = _read(fd, 1 << 20)
                if not b:
                    return b''.join(chunks).decode('utf-8', 'surrogateescape')
                chunks.append(b)
        finally:
            _close(fd)

    def one_line(e):
        try:
            text = f"{_type(e).__name__}: {e}" if _str(e) else _type(e).__name__
        except _BaseException:
            text = _type(e).__name__
        return (text.splitlines() or [_type(e).__name__])[0][:500]

    def answer(status, exit_code, error):
        fd = _open('${JOB_DIR}/verdict', os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            _write(fd, f"{status}\n{'' if exit_code is None else exit_code}\n{error or ''}".encode('utf-8', 'replace'))
        finally:
            _close(fd)

    code = read('code')
    if read('mode') == 'compile':
        try:
            _compile(code, 'main.py', 'exec')
            answer('ok', 0, None)
        except _SyntaxError as e:
            answer('error', 1, f"{_type(e).__name__}: {e.msg} (line {e.lineno})")
        except _BaseException as e:
            answer('error', 1, one_line(e))
        return
    _sys.stdin = _StringIO(read('stdin'))
    _sys.argv = ['main.py']
    status, exit_code, error = 'ok', 0, None
    try:
        _exec(_compile(code, 'main.py', 'exec'), {'__name__': '__main__', '__builtins__': _builtins})
    except _SystemExit as e:
        c = e.code
        exit_code = 0 if c is None else _int(c) if _isinstance(c, _int) else 1
        if not _isinstance(c, (_int, _type(None))):
            try:
                print(c, file=_sys.stderr)
            except _BaseException:
                pass
        if exit_code != 0:
            status, error = 'exit', f"sys.exit({exit_code})"
    except _MemoryError as e:
        status, exit_code, error = 'memory', None, one_line(e)
    except _BaseException as e:
        status, exit_code, error = 'error', 1, one_line(e)
        try:
            _tb.print_exception(_type(e), e, e.__traceback__.tb_next if e.__traceback__ else None, limit=20)
        except _BaseException:
            pass
    for stream in (_sys.stdout, _sys.stderr, _sys.__stdout__, _sys.__stderr__):
        try:
            stream.flush()
        except _BaseException:
            pass
    answer(status, exit_code, error)
`;
