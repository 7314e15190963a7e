"""The notebooks are the docs: each must render to HTML, stay small, keep its place in the sidebar, and the
exported modules must respect the layers of the design guide."""
import ast, json, re, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted(p for p in (ROOT / 'nbs').rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts)
MODULE_NBS = [p for p in NBS if re.match(r'\d\d_', p.name)]

# Layers, bottom to top (DESIGN.md): a module may import only modules of lower layers.
# `train` sits below `models`: the fit loop and checkpoint file know no model, and every model's `fit` uses them.
LAYERS = [['core'], ['sound'], ['dsp'], ['features'], ['soundfont'], ['corpus'], ['train'], ['export'], ['models'],
          ['spectral'], ['granular', 'catart', 'timbre', 'notes', 'vq', 'timbrevae'], ['move'], ['lottery'], ['mir'], ['paths'], ['maps'], ['targets'],
          ['patterns'], ['widgets'], ['editors', 'live', 'timbremap', 'recorder'], ['oscbridge'], ['demo'], ['cli']]
# `patterns` is the sequencer layer (the widget `lp.sequencer` must not share its name with a module); `paths`, `maps`
# (principal axes, corpus maps, drawn strokes: the script-level engine of the widgets) and `targets` make up DESIGN.md's
# paths layer, in that order.
RANK = {m: i for i, ms in enumerate(LAYERS) for m in ms}

def _src(nb): return [''.join(c['source']) for c in json.loads(nb.read_text())['cells']]

@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_notebook_renders_to_html(nb):
    "Every page builds: nbconvert renders the stored notebook (with its outputs) to HTML."
    from nbconvert import HTMLExporter
    import nbformat
    html, _ = HTMLExporter(template_name='classic').from_notebook_node(nbformat.read(nb, as_version=4))
    title = next(l for l in _src(nb)[0].split('\n') if l.startswith('# '))[2:].strip()
    assert title.replace('`', '') in html.replace('<code>', '').replace('</code>', '')
    assert len(html) > 5_000

@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_notebook_is_a_page(nb):
    "A page opens with a title and a summary, and its stored outputs are kept small."
    first = _src(nb)[0]
    assert first.startswith('# ') and '\n> ' in first, f"{nb.name}: first cell must be '# Title' then '> summary'"
    assert nb.stat().st_size < 3_000_000, f"{nb.name} is {nb.stat().st_size/1e6:.1f} MB: keep stored outputs small"

@pytest.mark.parametrize('nb', MODULE_NBS, ids=lambda p: p.name)
def test_module_notebook_exports_its_module(nb):
    exp = [re.search(r'#\|\s*default_exp\s+(\S+)', s) for s in _src(nb)]
    mods = [m.group(1) for m in exp if m]
    assert len(mods) == 1, f"{nb.name}: one default_exp per notebook"
    assert (ROOT / 'latentplay' / (mods[0] + '.py')).exists()

def test_sidebar_lists_every_page():
    side = (ROOT / 'nbs' / 'sidebar.yml').read_text()
    for nb in NBS: assert nb.relative_to(ROOT / 'nbs').as_posix() in side, f"{nb.name} missing from nbs/sidebar.yml"
    quarto = (ROOT / 'nbs' / '_quarto.yml').read_text()
    assert 'metadata-files: [nbdev.yml, sidebar.yml]' in quarto and (ROOT / 'nbs' / 'nbdev.yml').exists()

def _imports(py: Path):
    for node in ast.walk(ast.parse(py.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module: yield node.module.split('.')[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith('latentplay.'): yield node.module.split('.')[1], node.lineno
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith('latentplay.'): yield a.name.split('.')[1], node.lineno

def test_layers_import_only_downwards():
    mods = [p for p in (ROOT / 'latentplay').glob('*.py') if not p.name.startswith('_')]
    assert mods
    for py in mods:
        me = py.stem
        assert me in RANK, f"latentplay/{py.name}: add its layer to LAYERS in this test (see DESIGN.md)"
        for other, line in _imports(py):
            if other.startswith('_'): continue
            assert RANK[other] < RANK[me], f"latentplay/{py.name}:{line} imports upward/sideways from {other}"

def test_readme_is_generated_from_index():
    r = subprocess.run([sys.executable, str(ROOT / 'scripts' / 'make_readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

def test_docs_preprocessing_builds_every_page(tmp_path):
    """`nbdev-proc-nbs` is the part of `nbdev-docs` that runs before Quarto: it executes the export, import and
    `show_doc` cells of every page. It must succeed, give every exported public function its API entry, and the
    processed pages must render to HTML."""
    import shutil
    from nbconvert import HTMLExporter
    import nbformat
    work = tmp_path / 'proj'
    shutil.copytree(ROOT, work, ignore=shutil.ignore_patterns('.venv', '.git', '_proc', '_docs', 'demo', 'build', '__pycache__', '_site', 'latentplay-work', 'artifacts'))
    exe = Path(sys.executable).parent / 'nbdev-proc-nbs'
    r = subprocess.run([str(exe)], cwd=work, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    proc = work / '_proc'
    for nb in MODULE_NBS:
        raw = json.loads((proc / nb.name).read_text())
        for c in raw['cells']:                                  # drop nbdev's own markers, not part of the format
            c.pop('has_sd', None); c['metadata'].pop('execution', None); c['source'] = ''.join(c['source'])
            for o in c.get('outputs', []):
                for k, v in o.get('data', {}).items(): o['data'][k] = ''.join(v) if isinstance(v, list) else v
                if isinstance(o.get('text'), list): o['text'] = ''.join(o['text'])
        out = nbformat.from_dict(raw)
        docs = [o['data'].get('text/markdown', '') for c in out.cells if c.cell_type == 'code' and 'show_doc' in c.source
                for o in c.get('outputs', []) if 'data' in o]
        assert any('### ' in d for d in docs), f"{nb.name}: no API documentation was generated"
        html, _ = HTMLExporter(template_name='classic').from_notebook_node(out)
        assert '<h3' in html, f"{nb.name}: the API entries did not render"
