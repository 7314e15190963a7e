"""The harness of the hostile-input suite (tests/test_hostile_*.py): every case runs in a fresh Python with a time limit
and a memory cap, so that a hang or a memory blow-up fails that one test with a clear message instead of stalling or
killing the CI run."""
import os, resource, signal, subprocess, sys, textwrap

MEM_GB = 3.0       # address-space cap of a case (importing torch and a pretrained model needs well under 2 GB)
TIMEOUT = 90       # seconds a case may take


def _cap(mem_gb, ctrl_c:bool=False):
    """A `preexec_fn` capping the child's memory; with `ctrl_c`, it also gives the child a terminal's Ctrl-C (SIGINT back to
    its default, so Python raises KeyboardInterrupt): a pytest started from a background job ignores SIGINT, and so would
    every child it starts."""
    lim = int(mem_gb * 2**30)
    def pre():
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
        if ctrl_c: signal.signal(signal.SIGINT, signal.SIG_DFL)
    return pre


def run_py(code:str, timeout:float=TIMEOUT, mem_gb:float=MEM_GB, cwd=None, env=None, stdin=None) -> subprocess.CompletedProcess:
    "Run Python `code` (dedented) in a subprocess under the caps; a hang raises with the case's code in the message."
    code = textwrap.dedent(code)
    try:
        return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=timeout, cwd=cwd,
                              env={**os.environ, **(env or {})}, preexec_fn=_cap(mem_gb), stdin=stdin)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the case hung (no answer in {timeout} s):\n{code}") from None


def run_cli(*args, timeout:float=TIMEOUT, mem_gb:float=MEM_GB, cwd=None, env=None, stdin=None) -> subprocess.CompletedProcess:
    "Run `latentplay ARGS...` (as `python -m latentplay.cli`) under the caps."
    cmd = [sys.executable, '-m', 'latentplay.cli', *map(str, args)]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd, env={**os.environ, **(env or {})},
                              preexec_fn=_cap(mem_gb), stdin=stdin)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"`latentplay {' '.join(map(str, args))}` hung (no answer in {timeout} s)") from None


def user_error(r:subprocess.CompletedProcess, *words:str) -> str:
    "Assert that a command failed as a user error should: exit status 2, one line on stderr, no traceback, these words."
    err = r.stderr.strip()
    assert r.returncode == 2, f"exit status {r.returncode}, expected 2; stderr:\n{r.stderr[-2000:]}"
    assert 'Traceback' not in err and len(err.splitlines()) == 1, f"not a one-line message:\n{err[-2000:]}"
    for w in words: assert w.lower() in err.lower(), f"{w!r} not in the message: {err}"
    return err


def refused(r:subprocess.CompletedProcess, *words:str, exc:str='ValueError') -> str:
    """Assert that a Python case ended with a clean refusal: it printed `REFUSED <ExceptionType>: <message>` (the case
    catches the exception and prints it that way), exited 0, and the message holds these words."""
    assert r.returncode == 0, f"exit status {r.returncode}; stderr:\n{r.stderr[-2000:]}"
    line = next((l for l in r.stdout.splitlines() if l.startswith('REFUSED ')), None)
    assert line is not None, f"the case was not refused; stdout:\n{r.stdout[-2000:]}\nstderr:\n{r.stderr[-1000:]}"
    kind, _, msg = line[len('REFUSED '):].partition(': ')
    assert exc in kind.split('|'), f"refused with {kind}, expected {exc}: {msg}"
    for w in words: assert w.lower() in msg.lower(), f"{w!r} not in the message: {msg}"
    return msg


REFUSE = '''
def refuse(fn):
    "Run fn(); print `REFUSED <type and bases>: <message>` for an exception, `OK <repr>` otherwise."
    try: out = fn()
    except Exception as e:
        kinds = '|'.join(c.__name__ for c in type(e).__mro__ if issubclass(c, Exception))
        print(f"REFUSED {kinds}: {e}".replace('\\n', ' ')); return None
    print(f"OK {out!r}"[:300]); return out
'''
