"""Build the docs as a website that opens offline, without Quarto: every notebook of nbs/ rendered by nbconvert
(with its stored outputs) into a folder (default `_site/`), the sidebar of nbs/sidebar.yml on every page, and the
links between notebooks (`tutorials/play_a_model.ipynb`, `../09_paths.ipynb`) turned into links between pages.

Pages are named as nbdev names them (`09_paths.ipynb` -> `paths.html`, `index.ipynb` -> `index.html`), so links
written for the Quarto site (`paths.html`) work here too. Nothing is fetched from the network: nbconvert's
<script src="https://..."> tags (require.js, MathJax, the widget manager) are removed; players keep their sound
inline as data: URLs. `make docs` runs this where Quarto is not installed (where it is, `nbdev-docs`).
Usage: python scripts/build_docs.py [--out _site] [--template lab|classic]"""
import argparse, html, json, posixpath, re, shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT / 'nbs'

def page_name(rel:str) -> str:
    "The page of notebook `rel` (relative to nbs/, posix): nbdev's name, without the number prefix."
    d, f = posixpath.split(rel)
    return posixpath.join(d, re.sub(r'^\d+_', '', f[:-len('.ipynb')]) + '.html')

def read_sidebar(path=NBS / 'sidebar.yml') -> list:
    "[(section or None, [notebook, ...]), ...] from Quarto's sidebar file."
    import yaml
    out = [(None, [])]
    for item in yaml.safe_load(Path(path).read_text())['website']['sidebar']['contents']:
        if isinstance(item, str): out[0][1].append(item)
        else: out.append((item['section'], [c for c in item['contents'] if isinstance(c, str)]))
    return [(s, c) for s, c in out if c]

def notebooks() -> list:
    return sorted(p.relative_to(NBS).as_posix() for p in NBS.rglob('*.ipynb')
                  if '.ipynb_checkpoints' not in p.parts and not any(q.startswith(('_', '.')) for q in p.relative_to(NBS).parts))

def title_of(nb) -> str:
    for c in nb.cells:
        if c.cell_type == 'markdown':
            for line in c.source.split('\n'):
                if line.startswith('# '): return line[2:].strip().replace('`', '')
    return 'latentplay'

_HREF = re.compile(r'''(href|src)=(["'])([^"']*)\2''')

def rewrite_links(page_html:str, rel:str, known:set) -> str:
    "Links to notebooks (relative to notebook `rel`) become links to their pages; relative links to other files stay."
    here = posixpath.dirname(rel)
    def fix(m):
        attr, q, url = m.groups()
        target, _, anchor = html.unescape(url).partition('#')
        if re.match(r'[a-zA-Z][\w+.-]*:', target) or not target.endswith('.ipynb'): return m.group(0)
        nb = posixpath.normpath(posixpath.join(here, target))
        if nb not in known: return m.group(0)
        new = posixpath.relpath(page_name(nb), here or '.') + ('#' + anchor if anchor else '')
        return f'{attr}={q}{html.escape(new)}{q}'
    return _HREF.sub(fix, page_html)

_CSS = """<style>
.lp-nav{position:fixed;top:0;left:0;bottom:0;width:15rem;overflow-y:auto;padding:1rem;box-sizing:border-box;
 background:#f7f7f9;border-right:1px solid #ddd;font:14px/1.4 system-ui,sans-serif;z-index:1000}
.lp-nav a{display:block;padding:.15rem .3rem;color:#1a5fb4;text-decoration:none;border-radius:3px}
.lp-nav a:hover{background:#e6eefb}.lp-nav a.lp-here{background:#1a5fb4;color:#fff}
.lp-nav h2{font-size:15px;margin:0 0 .6rem}.lp-nav h3{font-size:12px;text-transform:uppercase;color:#666;margin:.9rem 0 .3rem}
body{margin-left:15rem !important}
@media (max-width:800px){.lp-nav{position:static;width:auto;border:0}body{margin-left:0 !important}}
</style>"""

def nav_html(sidebar, titles:dict, rel:str) -> str:
    "The sidebar for page `rel`: every notebook of the sidebar, by title, with links relative to that page."
    here = posixpath.dirname(rel)
    def link(nb):
        href = posixpath.relpath(page_name(nb), here or '.')
        cls = ' class="lp-here"' if nb == rel else ''
        return f'<a href="{html.escape(href)}"{cls}>{html.escape(titles.get(nb, nb))}</a>'
    parts = [f'<nav class="lp-nav" aria-label="pages"><h2>{link("index.ipynb") if "index.ipynb" in titles else "latentplay"}</h2>']
    for section, nbs in sidebar:
        if section: parts.append(f'<h3>{html.escape(section)}</h3>')
        parts += [link(nb) for nb in nbs if nb in titles and not (section is None and nb == 'index.ipynb')]
    return '\n'.join(parts + ['</nav>'])

_REMOTE_SCRIPT = re.compile(r'<script[^>]*\ssrc=["\']https?://[^"\']*["\'][^>]*>\s*</script>', re.I)
_REMOTE_LINK = re.compile(r'<link[^>]*\shref=["\']https?://[^"\']*["\'][^>]*>', re.I)

def build(out=ROOT / '_site', template='lab', quiet=False) -> Path:
    "Render every notebook of nbs/ into `out`; returns the path of the index page."
    import nbformat
    from nbconvert import HTMLExporter
    out = Path(out)
    if out.exists(): shutil.rmtree(out)
    rels = notebooks()
    nbs = {rel: nbformat.read(NBS / rel, as_version=4) for rel in rels}
    titles = {rel: title_of(nb) for rel, nb in nbs.items()}
    sidebar = read_sidebar()
    listed = {nb for _, c in sidebar for nb in c}
    extra = [rel for rel in rels if rel not in listed]
    if extra: sidebar.append(('Other pages', extra))
    exporter = HTMLExporter(template_name=template)
    # the lab template runs bleach over every highlighted code input (most of the build's time); these are our own
    # notebooks, and outputs are not sanitised either way (nbconvert's default)
    exporter.register_filter('clean_html', lambda x: x.decode() if isinstance(x, bytes) else str(x))
    for rel, nb in nbs.items():
        nb.metadata['title'] = titles[rel]
        for c in nb.cells:                                   # what the docs hide (`#| hide`) is not on the page
            if c.cell_type == 'code' and re.search(r'^#\|\s*hide\s*$', c.source, re.M): c.source, c.outputs = '', []
        nb.cells = [c for c in nb.cells if c.source.strip() or c.get('outputs')]
        body, _ = exporter.from_notebook_node(nb, resources={'metadata': {'name': titles[rel]}})
        body = _REMOTE_LINK.sub('', _REMOTE_SCRIPT.sub('', body))
        body = rewrite_links(body, rel, set(rels))
        body = re.sub(r'(<body[^>]*>)', lambda m: m.group(1) + '\n' + _CSS + '\n' + nav_html(sidebar, titles, rel), body, count=1)
        dest = out / page_name(rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(body, encoding='utf-8')
        if not quiet: print(f'{rel} -> {dest.relative_to(out)}')
    return out / 'index.html'

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=str(ROOT / '_site'))
    ap.add_argument('--template', default='lab', choices=['lab', 'classic'])
    a = ap.parse_args()
    index = build(a.out, a.template)
    print(f'open {index} in a browser')
