"""A real-browser harness: JupyterLab from this virtualenv, driven by Chromium through Playwright.

The browser tests (test_browser.py) import the fixtures from here: `lab` (one JupyterLab server per module), `chromium`
(one headless browser per module) and `page` (a fresh tab per test). The helpers write a notebook into the server's
root, open it, run every cell, run more code in the live kernel (`run_code`, how a test reads state on the Python
side), drag and draw with the mouse, and read the `<audio>` elements and the browser-side players (`.lp-synth`) of the widgets. Screenshots and the server's log go
to tests/artifacts/browser/, which CI keeps.

Why it is built the way it is:
- Chromium is the distribution's package (/usr/bin/chromium, installed by `make browser`), not Playwright's download,
  which needs the internet. When no Chromium is found the tests skip with that reason; every other failure fails.
- JupyterLab runs with `LabApp.expose_app_in_browser`, so `window.jupyterapp` is there: cells are run through
  JupyterLab's own commands (`notebook:run-all-cells`, `notebook:run-cell`), whose promises settle when the kernel has
  answered; no clicking menus, no fixed sleeps. The DOM is checked too (no `[*]` prompt left, kernel idle).
- Config, settings, workspaces and runtime files live in temporary folders, so a user's JupyterLab set-up can neither
  break nor be changed by the tests; news and update checks are off (no internet here); notebook windowing is off, so
  the outputs of every cell stay in the DOM.
- Each test opens its notebook in its own workspace (`/lab/workspaces/<name>/tree/...?reset`), so no tab from an
  earlier test is restored and starts a second kernel; a test's kernels are shut down when its page closes.
"""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).parent / 'artifacts' / 'browser'
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--autoplay-policy=no-user-gesture-required', '--mute-audio']
SKIP_NO_CHROMIUM = "Chromium is not installed and could not be installed (apt-get install chromium); browser tests skipped"
SERVER_START_S = 90      # JupyterLab answering /api/status
KERNEL_START_S = 120     # a kernel started and idle (2 busy cores)
FIRST_RUN_S = 240        # running a notebook's cells: the first imports torch and loads a model
CELL_S = 120             # one `run_code` cell

__all__ = ['ARTIFACTS', 'find_chromium', 'Lab', 'lab', 'chromium', 'page', 'Notebook', 'run_code',
           'shot', 'drag', 'stroke', 'widget_errors',
           'plot_frames', 'to_page', 'in_frame', 'audio_src', 'wait_audio_change', 'audio_duration', 'CellError',
           'synth_state', 'wait_synth', 'record_synth', 'stop_synth_record']


def find_chromium():
    "Path of a Chromium to drive, or None: $LATENTPLAY_CHROMIUM, /usr/bin/chromium, or `chromium` on PATH."
    for p in [os.environ.get('LATENTPLAY_CHROMIUM'), '/usr/bin/chromium', shutil.which('chromium')]:
        if p and os.path.isfile(p) and os.access(p, os.X_OK): return p
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _safe(name):
    "A test's name as a file name."
    return re.sub(r'[^A-Za-z0-9_.-]+', '_', name).strip('_')[:120]


# -------------------------------------------------------------------------------------------------- the server
class Lab:
    "A JupyterLab server from this virtualenv on 127.0.0.1, a free port and a random token, rooted in `root`."
    def __init__(self, root:Path, home:Path, log:Path):
        self.root, self.home, self.log_path = Path(root), Path(home), Path(log)
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.url = f'http://127.0.0.1:{self.port}'
        self.proc, self._log = None, None

    def _env(self):
        env = dict(os.environ)
        for k, sub in [('JUPYTER_CONFIG_DIR', 'config'), ('JUPYTER_RUNTIME_DIR', 'runtime'),
                       ('JUPYTERLAB_SETTINGS_DIR', 'settings'), ('JUPYTERLAB_WORKSPACES_DIR', 'workspaces'),
                       ('IPYTHONDIR', 'ipython')]:
            env[k] = str(self.home / sub); (self.home / sub).mkdir(parents=True, exist_ok=True)
        # the kernels inherit this: one thread each (2 busy cores), no GUI backend, librosa's numba cache where
        # `make warm` compiled it, and the test session's LATENTPLAY_CACHE (set by conftest.py)
        env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', MPLBACKEND='Agg', PYTHONUNBUFFERED='1')
        env.setdefault('NUMBA_CACHE_DIR', str(Path(sys.prefix) / 'numba-cache'))
        env.pop('JUPYTER_TOKEN', None); env.pop('JUPYTER_PATH', None)
        return env

    def _configure(self):
        cfg = {'LabApp': {'news_url': None, 'expose_app_in_browser': True,
                          'check_for_updates_class': 'jupyterlab.handlers.announcements.NeverCheckForUpdate'},
               'ServerApp': {'terminals_enabled': False}}
        (self.home / 'config' / 'jupyter_server_config.json').write_text(json.dumps(cfg))
        settings = {
            '@jupyterlab/apputils-extension/notification': {'fetchNews': 'false', 'checkForUpdates': False},
            '@jupyterlab/notebook-extension/tracker': {'windowingMode': 'none'},
            '@jupyterlab/extensionmanager-extension/plugin': {'enabled': False},
            '@jupyterlab/docmanager-extension/plugin': {'autosave': False},
        }
        for key, value in settings.items():
            f = self.home / 'settings' / f'{key}.jupyterlab-settings'
            f.parent.mkdir(parents=True, exist_ok=True); f.write_text(json.dumps(value))

    def start(self):
        env = self._env()
        self._configure()
        cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', '--ServerApp.ip=127.0.0.1',
               f'--ServerApp.port={self.port}', '--ServerApp.port_retries=0',
               f'--IdentityProvider.token={self.token}', f'--ServerApp.root_dir={self.root}']
        if hasattr(os, 'getuid') and os.getuid() == 0: cmd.append('--allow-root')
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, 'w')
        self._log.write('$ ' + ' '.join(cmd).replace(self.token, '<token>') + '\n'); self._log.flush()
        # its own process group, so that stopping it cannot signal pytest; kernels start in sessions of their own and
        # are shut down through the API first (and exit by themselves when their server is gone)
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline, last = time.monotonic() + SERVER_START_S, None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'JupyterLab exited with {self.proc.returncode}; log:\n{self.log_tail()}')
            try:
                self.api('GET', '/api/status', timeout=5)
                return self
            except (OSError, urllib.error.URLError) as e: last = e
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f'JupyterLab did not answer within {SERVER_START_S} s ({last}); log:\n{self.log_tail()}')

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try: self.shutdown_kernels()     # kernels run in their own sessions, outside the server's group
            except Exception: pass
            try:
                for sig, wait in [(signal.SIGTERM, 10), (signal.SIGKILL, 5)]:
                    os.killpg(self.proc.pid, sig)
                    try: self.proc.wait(wait); break
                    except subprocess.TimeoutExpired: pass
            except ProcessLookupError: pass
        if self._log: self._log.close(); self._log = None

    def log_tail(self, n=60):
        try: return '\n'.join(self.log_path.read_text(errors='replace').splitlines()[-n:])
        except OSError: return ''

    def api(self, method, path, body=None, timeout=30):
        "Call the server's REST API; returns the decoded JSON (or None)."
        req = urllib.request.Request(self.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={'Authorization': f'token {self.token}', 'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            data = r.read()
        return json.loads(data) if data else None

    def shutdown_kernels(self):
        "Shut down every running kernel (between tests: each test's notebook has its own)."
        for k in self.api('GET', '/api/kernels'):
            try: self.api('DELETE', f"/api/kernels/{k['id']}")
            except urllib.error.HTTPError: pass

    def write_notebook(self, name, cells):
        "Write a notebook of code cells (strings; a string starting with '#md' is a markdown cell) into the root."
        import nbformat
        nb = nbformat.v4.new_notebook()
        nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
        nb.metadata['language_info'] = {'name': 'python'}
        nb.cells = [nbformat.v4.new_markdown_cell(c[3:].lstrip()) if c.startswith('#md')
                    else nbformat.v4.new_code_cell(c) for c in cells]
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(path))
        return path

    def open(self, page, name, cells=None, run=True, timeout=FIRST_RUN_S):
        "Write `cells` (when given) to `name`, open it in `page`, wait for its kernel, and run all cells."
        if cells is not None: self.write_notebook(name, cells)
        ws = _safe(Path(name).stem) + '-' + secrets.token_hex(3)
        page.goto(f'{self.url}/lab/workspaces/{ws}/tree/{name}?reset&token={self.token}', wait_until='domcontentloaded')
        nb = page._lp_notebook = Notebook(page, self, name)
        nb.wait_ready()
        # more room for the outputs: close the file browser
        page.evaluate("() => { const app = window.jupyterapp; if (!app.shell.leftCollapsed) app.shell.collapseLeft(); }")
        if run: nb.run_all(timeout=timeout)
        return nb


# -------------------------------------------------------------------------------------------------- a notebook
class CellError(AssertionError):
    "A cell raised in the kernel; the message is the traceback."


_JS_CURRENT = """
const app = window.jupyterapp;
const panel = app && app.shell.currentWidget;
const ok = panel && panel.content && panel.sessionContext && panel.context && panel.context.path === NAME;
"""

_JS_OUTPUTS = """
(cell) => {
  const outs = cell.model.outputs.toJSON();
  let text = '', error = null;
  for (const o of outs) {
    if (o.output_type === 'stream') text += Array.isArray(o.text) ? o.text.join('') : o.text;
    else if (o.output_type === 'error') error = o.ename + ': ' + o.evalue + '\\n' +
        (o.traceback || []).join('\\n').replace(/\\u001b\\[[0-9;]*m/g, '');
    else if (o.data && o.data['text/plain'] !== undefined && !o.data['application/vnd.jupyter.widget-view+json']) {
      const t = o.data['text/plain']; text += (Array.isArray(t) ? t.join('') : t) + '\\n';
    }
  }
  return {text, error};
}
"""


class Notebook:
    "An open notebook in JupyterLab: run its cells, run more code in its kernel, read what came back."
    def __init__(self, page, lab, name):
        self.page, self.lab, self.name = page, lab, name
        self._n = 0

    def _js(self, body, arg=None):
        "Evaluate `body` (JS statements after NAME/app/panel are defined; `return` a value) in the page."
        fn = '(A) => { const NAME = A.name, arg = A.arg; ' + _JS_CURRENT + body + ' }'
        return self.page.evaluate(fn, {'name': self.name, 'arg': arg})

    def kernel_idle(self):
        return self._js("if (!ok) return false; const s = panel.sessionContext; const k = s.session && s.session.kernel;"
                        "return !!k && s.isReady && k.status === 'idle' && k.connectionStatus === 'connected';")

    def wait_ready(self, timeout=KERNEL_START_S):
        "Wait until the notebook is the current document and its kernel is connected and idle."
        self.page.wait_for_function(
            "(name) => { const app = window.jupyterapp; const p = app && app.shell.currentWidget;"
            " if (!p || !p.context || p.context.path !== name || !p.sessionContext) return false;"
            " const s = p.sessionContext, k = s.session && s.session.kernel;"
            " return !!k && s.isReady && k.status === 'idle' && k.connectionStatus === 'connected'"
            "   && !!document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell'); }",
            arg=self.name, timeout=timeout * 1000, polling=250)

    def _run_command(self, command, timeout):
        "Start a JupyterLab command, then wait for its promise to settle, every prompt to leave `[*]` and the kernel to idle."
        self._n += 1
        key = f'__lp_run_{self._n}'
        self.page.evaluate(
            "([cmd, key]) => { window[key] = null; window.jupyterapp.commands.execute(cmd).then("
            " r => { window[key] = {ok: r === undefined ? true : r}; }, e => { window[key] = {error: String(e)}; }); }",
            [command, key])
        try:
            self.page.wait_for_function(f"() => window['{key}'] !== null", timeout=timeout * 1000, polling=250)
            self.page.wait_for_function(
                "(name) => { const p = window.jupyterapp.shell.currentWidget; if (!p || p.context.path !== name) return false;"
                " const prompts = [...p.node.querySelectorAll('.jp-InputPrompt')].map(e => e.textContent);"
                " const k = p.sessionContext.session && p.sessionContext.session.kernel;"
                " return !prompts.some(t => t.includes('*')) && !!k && k.status === 'idle'; }",
                arg=self.name, timeout=timeout * 1000, polling=250)
        except Exception:
            shot(self.page, f'timeout-{_safe(self.name)}-{self._n}')
            raise
        res = self.page.evaluate(f"() => window['{key}']")
        if 'error' in res: raise RuntimeError(f'{command} failed: {res["error"]}')
        return res['ok']

    def cells(self):
        "[(source, text, error)] of every code cell, as the notebook's model holds them now."
        return [tuple(c) for c in self._js(
            "const f = " + _JS_OUTPUTS + "; return panel.content.widgets.filter(c => c.model.type === 'code')"
            ".map(c => { const o = f(c); return [c.model.sharedModel.getSource(), o.text, o.error]; });")]

    def run_all(self, timeout=FIRST_RUN_S):
        "Run all cells; raise CellError with the traceback of the first cell that raised."
        self._run_command('notebook:run-all-cells', timeout)
        for src, _, err in self.cells():
            if err: raise CellError(f'cell failed:\n{src}\n---\n{err}')
        unrun = self._js("return panel.content.widgets.filter(c => c.model.type === 'code' && "
                         "c.model.executionCount === null && c.model.sharedModel.getSource().trim()).length;")
        assert unrun == 0, f'{unrun} cells did not run'

    def run_code(self, code, timeout=CELL_S):
        """Append a code cell at the end with `code` (set in the cell's model: a paste, without the editor's auto-indent
        and bracket closing), run it, return its text output (stripped); CellError if it raised."""
        self._js("const nb = panel.content; nb.activeCellIndex = nb.widgets.length - 1; nb.mode = 'command';"
                 "nb.deselectAll(); return true;")
        self.page.evaluate("() => window.jupyterapp.commands.execute('notebook:insert-cell-below')")
        ok = self._js("const nb = panel.content; const c = nb.activeCell;"
                      "if (!c || c.model.type !== 'code' || nb.activeCellIndex !== nb.widgets.length - 1) return false;"
                      "c.model.sharedModel.setSource(arg); return true;", arg=code)
        assert ok, 'could not append a code cell'
        self._run_command('notebook:run-cell', timeout)
        text, err = self._js("const nb = panel.content; const c = nb.widgets[nb.widgets.length - 1];"
                             "if (c.model.sharedModel.getSource() !== arg) return [null, 'the last cell is not ours'];"
                             "const o = (" + _JS_OUTPUTS + ")(c); return [o.text, o.error];", arg=code)
        if err: raise CellError(f'cell failed:\n{code}\n---\n{err}')
        return text.strip()

    def py(self, expr, pre='', timeout=CELL_S):
        "The value of the Python expression `expr` in the kernel (after running the statements `pre`), through JSON."
        out = self.run_code(f'{pre}\nimport json as _json\nprint("@@" + _json.dumps({expr}))'.lstrip(), timeout=timeout)
        line = [l for l in out.splitlines() if l.startswith('@@')]
        assert line, f'no value printed for {expr!r}: {out!r}'
        return json.loads(line[-1][2:])


def run_code(page, code, timeout=CELL_S) -> str:
    "Run `code` in a new cell at the end of the notebook last opened in `page`; its text output."
    return page._lp_notebook.run_code(code, timeout)


# -------------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "One JupyterLab server for the module; its log goes to tests/artifacts/browser/jupyterlab-<worker>.log."
    if find_chromium() is None: pytest.skip(SKIP_NO_CHROMIUM)     # before spending half a minute on a server
    base = tmp_path_factory.mktemp('jupyterlab')
    (base / 'root').mkdir()
    worker = os.environ.get('PYTEST_XDIST_WORKER', 'main')
    server = Lab(base / 'root', base / 'home', ARTIFACTS / f'jupyterlab-{worker}.log')
    server.start()
    try: yield server
    finally: server.stop()


@pytest.fixture(scope='module')
def chromium():
    "One headless Chromium for the module (the distribution's; skip only when there is none)."
    exe = find_chromium()
    if exe is None: pytest.skip(SKIP_NO_CHROMIUM)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        try: yield browser
        finally: browser.close()


@pytest.fixture
def page(chromium, lab, request):
    """A fresh tab (its own context) for one test. Console errors and page errors go to
    tests/artifacts/browser/<test>.console.log; a last screenshot <test>-end.png is always taken."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ctx = chromium.new_context(viewport={'width': 1400, 'height': 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    name = _safe(request.node.name)
    pg._lp_test = name
    log = []
    pg.on('console', lambda m: log.append(f'[{m.type}] {m.text}') if m.type in ('error', 'warning') else None)
    pg.on('pageerror', lambda e: log.append(f'[pageerror] {e}'))
    try: yield pg
    finally:
        try: shot(pg, 'end')
        except Exception: pass
        try: log.extend(f'[widget error] {e}' for e in widget_errors(pg))
        except Exception: pass
        (ARTIFACTS / f'{name}.console.log').write_text('\n'.join(log) + '\n')
        ctx.close()
        try: lab.shutdown_kernels()
        except Exception: pass


# -------------------------------------------------------------------------------------------------- interaction
def widget_errors(page):
    "Texts of the widgets that failed to render in the page (ipywidgets shows an error box in their place)."
    return page.evaluate("() => [...document.querySelectorAll('.jupyter-widgets-error-widget')]"
                         ".map(e => (e.title || e.textContent || '').trim().slice(0, 500))")


def shot(page, step, root=None):
    "Save a screenshot tests/artifacts/browser/<test>-<step>.png (with `root` scrolled to the top); returns its path."
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if root is not None: page.locator(root).first.evaluate("e => e.scrollIntoView({block: 'start'})")
    path = ARTIFACTS / f"{getattr(page, '_lp_test', 'page')}-{_safe(step)}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def _box(locator):
    locator.scroll_into_view_if_needed()
    b = locator.bounding_box()
    assert b and b['width'] > 0 and b['height'] > 0, f'{locator} has no box'
    return b


def drag(page, locator, dx, dy=0, steps=20):
    "Press the mouse on the centre of `locator`, move by (dx, dy) in `steps` steps, release."
    b = _box(locator)
    x, y = b['x'] + b['width'] / 2, b['y'] + b['height'] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y + dy, steps=steps)
    page.mouse.up()


_JS_FRAMES = """
(root) => {
  const r = document.querySelector(root);
  if (!r || !window.Bokeh || !Bokeh.index) return [];
  const within = (el) => { while (el) { if (el === r) return true; el = el.parentNode || el.host; } return false; };
  const out = [], seen = new Set(), views = [];
  const visit = (v) => {          // Bokeh.index holds the root views (a layout); plots may be their children
    if (!v || seen.has(v)) return; seen.add(v); views.push(v);
    let kids = [];
    try { kids = typeof v.children === 'function' ? [...v.children()] : []; } catch (e) {}
    for (const k of [...kids, ...(v.child_views || [])]) visit(k);
  };
  for (const v of Bokeh.index) visit(v);
  for (const v of views) {
    if (!v.frame || !v.canvas_view || !v.canvas_view.el || !within(v.el)) continue;
    const c = v.canvas_view.el.getBoundingClientRect(), b = v.frame.bbox;
    if (!c.width || !b.width) continue;
    out.push({x0: c.left + b.x0, x1: c.left + b.x1, y0: c.top + b.y0, y1: c.top + b.y1,
              xr: [v.model.x_range.start, v.model.x_range.end], yr: [v.model.y_range.start, v.model.y_range.end],
              id: v.model.id});
  }
  out.sort((a, b) => a.y0 - b.y0 || a.x0 - b.x0);
  return out;
}
"""


def plot_frames(page, root, timeout=90):
    """The plot frames (the data areas, axes excluded) of the Bokeh plots under `root`, top to bottom, in page pixels:
    dicts x0, x1, y0, y1 (pixels; y0 is the top), xr, yr (the data ranges), id. Waits until at least one is laid out."""
    canvas = page.locator(f'{root} .bk-Canvas').first
    canvas.wait_for(state='visible', timeout=timeout * 1000)
    canvas.scroll_into_view_if_needed()
    h = page.wait_for_function('(root) => { const f = (' + _JS_FRAMES.strip() + ')(root); return f.length ? f : null; }',
                               arg=root, timeout=timeout * 1000, polling=250)
    return h.json_value()


def to_page(frame, x, y):
    "Page pixels of the data point (x, y) in a frame from `plot_frames` (linear axes)."
    (a, b), (c, d) = frame['xr'], frame['yr']
    return (frame['x0'] + (x - a) / (b - a) * (frame['x1'] - frame['x0']),
            frame['y1'] - (y - c) / (d - c) * (frame['y1'] - frame['y0']))


def in_frame(frame, u, v):
    "Page pixels of the point at fractions (u, v) of a frame, u from the left, v from the bottom."
    return (frame['x0'] + u * (frame['x1'] - frame['x0']), frame['y1'] - v * (frame['y1'] - frame['y0']))


def stroke(page, points, pause_ms=15):
    "Press at points[0], move through the rest one by one with a short pause each (a stroke has a speed), release."
    (x, y), rest = points[0], points[1:]
    page.mouse.move(x, y)
    page.mouse.down()
    for x, y in rest:
        page.mouse.move(x, y, steps=2)
        page.wait_for_timeout(pause_ms)
    page.mouse.up()


# -------------------------------------------------------------------------------------------------- audio
def _audio(root):
    "CSS selector of the `<audio>` of the player in `root` (a widget, or a `.lp-player` itself)."
    return f'{root} audio' if root.rstrip().endswith('.lp-player') else f'{root} .lp-player audio'


def audio_src(page, root):
    "The `src` of the widget's `<audio>` element (`root .lp-player audio`), or None."
    el = page.locator(_audio(root)).first
    el.wait_for(state='attached', timeout=60_000)
    return el.get_attribute('src')


def wait_audio_change(page, root, old, timeout=60):
    "Wait until the widget's `<audio>` `src` is set and differs from `old`; returns the new one."
    page.wait_for_function(
        "([sel, old]) => { const a = document.querySelector(sel);"
        " return !!a && !!a.getAttribute('src') && a.getAttribute('src') !== old; }",
        arg=[_audio(root), old], timeout=timeout * 1000, polling=200)
    return audio_src(page, root)


def audio_duration(page, root, timeout=30):
    "Load the widget's `<audio>` and return its `duration` in seconds once its metadata is there."
    el = page.locator(_audio(root)).first
    return el.evaluate(
        """(a, ms) => new Promise((resolve, reject) => {
             const t = setTimeout(() => reject(new Error('no loadedmetadata within ' + ms + ' ms; error='
                                                           + (a.error && a.error.code) + ' src=' + a.getAttribute('src'))), ms);
             a.addEventListener('loadedmetadata', () => { clearTimeout(t); resolve(a.duration); }, {once: true});
             a.addEventListener('error', () => { clearTimeout(t); reject(new Error('<audio> error ' + (a.error && a.error.code)
                                                                              + ' src=' + a.getAttribute('src'))); }, {once: true});
             a.load();
           })""", timeout * 1000)


# -------------------------------------------------------------------------------------------------- the browser-side player
def synth_state(page, root, i=0):
    """The data attributes of the `i`-th browser-side player (`.lp-synth`) under `root`: state, playing, received, decoded,
    applied, duration, position, elapsed, restarts, now, step... (strings, as the page holds them)."""
    el = page.locator(f'{root} .lp-synth').nth(i)
    el.wait_for(state='attached', timeout=60_000)
    return el.evaluate('e => ({...e.dataset})')


def wait_synth(page, root, cond, i=0, timeout=60):
    "Wait until the JS expression `cond` (on `d`, the dataset of the `i`-th `.lp-synth` under `root`) is true; its dataset."
    page.wait_for_function(f"([root, i]) => {{ const e = document.querySelectorAll(root + ' .lp-synth')[i];"
                           f" if (!e) return false; const d = e.dataset; return {cond}; }}",
                           arg=[root, i], timeout=timeout * 1000, polling=50)
    return synth_state(page, root, i)


def record_synth(page, root, i=0, every_ms=25):
    "Start recording the `i`-th `.lp-synth`'s dataset every `every_ms` in the page; `stop_synth_record` returns the samples."
    page.evaluate("([root, i, ms]) => { window.__lpRec = []; window.__lpRecT = setInterval(() => {"
                  " const e = document.querySelectorAll(root + ' .lp-synth')[i]; if (e) window.__lpRec.push({...e.dataset}); }, ms); }",
                  [root, i, every_ms])


def stop_synth_record(page):
    return page.evaluate("() => { clearInterval(window.__lpRecT); return window.__lpRec; }")
