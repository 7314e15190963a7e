"""Write README.md from nbs/index.ipynb (what `nbdev-readme` does, without Quarto, which cannot be installed here).

Markdown cells are copied, with their relative links (to other notebooks, written for JupyterLab, e.g.
`tutorials/play_a_model.ipynb`) rebased onto `nbs/` so that they work on the repository page; code cells become ```python blocks without their `#|` directives; `#| hide` cells are
left out; text outputs are kept, rich outputs (players, images) are replaced by a pointer to the docs page.
Usage: python scripts/make_readme.py [--check]   (--check: exit 1 if README.md is out of date)"""
import json, posixpath, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = "<!-- Generated from nbs/index.ipynb by scripts/make_readme.py: edit the notebook, not this file. -->\n\n"

def _text(v): return ''.join(v) if isinstance(v, list) else v

_LINK = re.compile(r'(```.*?```|`[^`\n]*`)|(\]\()([^)\s]+)(\))', re.S)   # code (left alone), or a link's target

def rebase_links(md:str, base='nbs/') -> str:
    "Relative link targets of markdown `md`, relative to the notebooks' folder, made relative to the repository root."
    def fix(m):
        if m.group(1): return m.group(0)
        t = m.group(3)
        if re.match(r'[a-zA-Z][\w+.-]*:', t) or t.startswith(('#', '/')): return m.group(0)   # a URL, an anchor, absolute
        return m.group(2) + posixpath.normpath(base + t) + m.group(4)
    return _LINK.sub(fix, md)

def cell_md(cell) -> str:
    src = _text(cell['source'])
    if cell['cell_type'] == 'markdown': return rebase_links(src.strip()) + '\n'
    if cell['cell_type'] != 'code': return ''
    lines = src.split('\n')
    directives = [l for l in lines if l.startswith('#|')]
    if any(d.split()[1:2] in (['hide'], ['export'], ['exporti'], ['default_exp']) for d in directives if len(d.split()) > 1): return ''
    code = '\n'.join(l for l in lines if not l.startswith('#|')).strip()
    if not code: return ''
    out = [f"```python\n{code}\n```\n"]
    for o in cell.get('outputs', []):
        data = o.get('data', {})
        if o.get('output_type') == 'stream': txt = _text(o['text'])
        elif any(k.startswith(('image/', 'text/html')) for k in data): txt = None; out.append('*(a player or figure: see the docs page or run the notebook)*\n')
        else: txt = _text(data.get('text/plain', ''))
        if txt: out.append(f"```\n{txt.rstrip()}\n```\n")
    return '\n'.join(out)

def render(nb_path=ROOT / 'nbs' / 'index.ipynb') -> str:
    nb = json.loads(Path(nb_path).read_text())
    parts = [cell_md(c) for c in nb['cells']]
    return HEADER + '\n'.join(p for p in parts if p).rstrip() + '\n'

if __name__ == '__main__':
    text, readme = render(), ROOT / 'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text() != text:
            sys.exit("README.md is out of date with nbs/index.ipynb: run `python scripts/make_readme.py` and commit.")
    else: readme.write_text(text)
