"""The sliders' conditions in a real browser (JupyterLab + headless Chromium, the harness of browser.py): on the shipped
note model, the pitch slider (keyboard arrows), a key of the piano keyboard, the instrument menu and a mixture weight,
each reaching the kernel's state and bringing a new sound (a new `<audio>` src) that is what `model.decode` makes of
the sliders' point under those conditions. The kernel-side twin is test_widget_conditions.py.

Module-scoped server and browser, like test_browser.py (run in one xdist worker: `--dist loadfile`)."""
import pytest

from browser import lab, chromium, page, shot, audio_src, wait_audio_change, audio_duration, run_code  # noqa: F401

pytestmark = [pytest.mark.xdist_group('browser'), pytest.mark.slow]

RENDER_S = 120
ROOT = '.lp-sliders'
SETUP = ("import numpy as np\nimport latentplay as lp\nnm = lp.pretrained('gm-techniques-notes')\n"
         "w = lp.sliders(nm, n_axes=2, names=False); w")


def settle(nb):
    "Wait (in the kernel) for the widget's renders; fail if they time out or the last one raised."
    ok, err = nb.py(f"[w.wait({RENDER_S}), repr(w.error)]", timeout=RENDER_S + 30)
    assert ok is True and err == 'None', (ok, err)


def check(nb, want:dict, renders_before:int):
    "The kernel holds `want`, rendered again, and the sound is `nm.decode(w.z, **w.conditions)` exactly."
    settle(nb)
    conds, renders, equal = nb.py("[w.conditions, w.renders, bool(np.array_equal(w.sound.audio, nm.decode(w.z, **w.conditions).audio))]")
    assert {k: conds[k] for k in want} == want, conds
    assert renders > renders_before, f'no render (renders {renders_before} -> {renders})'
    assert equal, f'the sound is not nm.decode(w.z, **{conds})'
    return renders


def test_note_conditions_in_the_page(lab, page):
    nb = lab.open(page, 'sliders_conditions.ipynb', [SETUP])
    handle = page.locator(f'{ROOT} .lp-cond-pitch .noUi-handle')
    handle.wait_for(state='visible', timeout=60_000)
    settle(nb)
    renders, pitch = nb.py("[w.renders, w.conditions['pitch']]")
    assert pitch == 60 and renders >= 1
    readout = page.locator(f'{ROOT} .lp-readout-pitch')
    assert 'C4' in readout.inner_text()
    src = audio_src(page, ROOT)
    shot(page, 'start', ROOT)

    # the pitch slider, with the keyboard's arrow: one key up, named in the readout
    handle.focus()
    page.keyboard.press('ArrowRight')
    page.wait_for_function("(sel) => document.querySelector(sel).innerText.includes('C#4')", arg=f'{ROOT} .lp-readout-pitch')
    renders = check(nb, {'pitch': 61}, renders)
    src = wait_audio_change(page, ROOT, src)

    # a click on a key of the piano keyboard: E4
    key = page.locator(f'{ROOT} .lp-keyboard .lp-key-64')
    key.scroll_into_view_if_needed()
    key.click()
    page.wait_for_function("(sel) => document.querySelector(sel).classList.contains('lp-key-on')", arg=f'{ROOT} .lp-keyboard .lp-key-64')
    renders = check(nb, {'pitch': 64}, renders)
    assert 'E4' in readout.inner_text(), 'the slider follows the keyboard'
    src = wait_audio_change(page, ROOT, src)
    shot(page, 'key', ROOT)

    # the instrument menu
    page.locator(f'{ROOT} .lp-cond-instrument select').select_option(label='Violin')
    renders = check(nb, {'pitch': 64, 'instrument': 'Violin'}, renders)
    src = wait_audio_change(page, ROOT, src)
    assert nb.py("bool(np.array_equal(w.sound.audio, nm.decode(w.z, pitch=64, instrument='Violin').audio))") is True

    # a mixture: 'mixture...', then a weight slider moved with the arrow keys
    page.locator(f'{ROOT} .lp-cond-instrument select').select_option(label='mixture...')
    i = nb.py("nm.decode_conditions['instrument'].index('Trumpet')")
    weight = page.locator(f'{ROOT} .lp-weight-{i} .noUi-handle').first
    weight.wait_for(state='visible', timeout=30_000)
    settle(nb)
    renders = nb.py('w.renders')
    weight.focus()
    for _ in range(4): page.keyboard.press('ArrowRight')
    page.wait_for_function("(sel) => parseFloat(document.querySelector(sel).textContent) >= 0.2 - 1e-6",
                           arg=f'{ROOT} .lp-weight-{i} .widget-readout')
    settle(nb)
    mix = nb.py("w.conditions['instrument']")
    assert list(mix) == ['Trumpet'] and mix['Trumpet'] == pytest.approx(0.2), mix
    check(nb, {'instrument': mix}, renders)
    wait_audio_change(page, ROOT, src)
    shot(page, 'mixture', ROOT)
    assert audio_duration(page, ROOT) == pytest.approx(nb.py('w.sound.duration'), abs=0.06)
    assert 'E4 (64)' in run_code(page, 'print(w.status.value)')
