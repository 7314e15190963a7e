"""`make docs` without Quarto: scripts/build_docs.py renders every notebook into a site that opens offline. The site is
built into a temporary folder, its index opened in headless Chromium, and every link of the navigation followed:
each page loads with its title, and no request fails or goes to the network."""
import importlib.util, os, re, shutil, sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
# the flags of tests/browser.py: no GPU, no sandbox (root in a container), no background requests to Google
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--autoplay-policy=no-user-gesture-required', '--mute-audio']

def _build_docs():
    spec = importlib.util.spec_from_file_location('build_docs', ROOT / 'scripts' / 'build_docs.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

bd = _build_docs()

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('site') / '_site'
    return bd.build(out, quiet=True).parent

def test_page_names_and_links():
    "Pages are named as nbdev names them; links to notebooks become links to pages, relative to the page."
    assert bd.page_name('09_paths.ipynb') == 'paths.html' and bd.page_name('index.ipynb') == 'index.html'
    assert bd.page_name('tutorials/play_a_model.ipynb') == 'tutorials/play_a_model.html'
    known = {'index.ipynb', '09_paths.ipynb', 'tutorials/play_a_model.ipynb', 'tutorials/neural_drum_machine.ipynb'}
    got = bd.rewrite_links('<a href="../09_paths.ipynb#Loops">p</a> <a href="neural_drum_machine.ipynb">d</a> '
                           '<a href="https://x.org/a.ipynb">x</a> <a href="#top">t</a>', 'tutorials/play_a_model.ipynb', known)
    assert got == ('<a href="../paths.html#Loops">p</a> <a href="neural_drum_machine.html">d</a> '
                   '<a href="https://x.org/a.ipynb">x</a> <a href="#top">t</a>')
    assert bd.rewrite_links('<a href="tutorials/play_a_model.ipynb">', 'index.ipynb', known) == '<a href="tutorials/play_a_model.html">'

def test_site_is_complete_and_offline(site):
    "Every notebook has its page; no page loads a script or stylesheet from the network or links to a notebook."
    for rel in bd.notebooks(): assert (site / bd.page_name(rel)).exists(), rel
    for page in site.rglob('*.html'):
        text = page.read_text()
        assert not re.search(r'<(script|link)[^>]*\s(src|href)=["\']https?://', text), f"{page.name} loads from the network"
        assert not re.search(r'href=["\'](?![a-z]+:)[^"\']*\.ipynb', text), f"{page.name} links to a notebook"
        assert '<nav class="lp-nav"' in text
    index = (site / 'index.html').read_text()
    assert 'href="tutorials/play_a_model.html"' in index and 'href="paths.html"' in index

def _chromium():
    exe = os.environ.get('LATENTPLAY_CHROMIUM', '/usr/bin/chromium')
    if not Path(exe).exists(): exe = shutil.which('chromium')
    if not exe: pytest.skip("Chromium is not installed (apt-get install chromium): the docs site is not opened")
    return exe

def test_site_opens_in_chromium(site):
    "From the index, every link of the navigation opens its page with its title, and no request fails or leaves the machine."
    from playwright.sync_api import sync_playwright
    titles = {bd.page_name(rel): bd.title_of(__import__('nbformat').read(bd.NBS / rel, as_version=4)) for rel in bd.notebooks()}
    failed, remote = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on('requestfailed', lambda r: failed.append((r.url[:120], r.failure)))
            page.on('request', lambda r: remote.append(r.url) if not r.url.startswith(('file:', 'data:', 'blob:', 'about:')) else None)
            page.goto((site / 'index.html').as_uri(), wait_until='load')
            assert page.title() == titles['index.html']
            hrefs = page.eval_on_selector_all('nav.lp-nav a', 'els => els.map(e => e.href)')
            assert len(set(hrefs)) == len(titles), "the navigation lists every page once"
            for href in dict.fromkeys(hrefs):
                page.goto(href, wait_until='load')
                rel = Path(unquote(urlparse(href).path)).relative_to(site).as_posix()
                assert page.title() == titles[rel], rel
                assert page.locator('h1').first.inner_text().strip().rstrip('¶').strip() == titles[rel], rel
                assert page.locator(f'nav.lp-nav a.lp-here').count() == 1, rel
            page.goto((site / 'tutorials' / 'play_a_model.html').as_uri(), wait_until='load')
            page.click('.jp-Notebook a[href="../paths.html"]')           # a link in the text, from a sub-folder
            assert page.url.endswith('/paths.html') and page.title() == titles['paths.html']
        finally: browser.close()
    assert not failed, failed
    assert not remote, remote[:5]
