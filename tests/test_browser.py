"""The interactive widgets in a real browser: JupyterLab from this virtualenv, driven by headless Chromium.

Each test writes a notebook, opens it, runs it, then plays the widget with the mouse and the keyboard as a person
would, and checks three things: the state on the Python side (read back with `run_code` in the same kernel), the
sound (it changed, it has the right length), and the `<audio>` element in the page (a new `src` that loads, with a
duration). Screenshots of each step go to tests/artifacts/browser/. The harness is in browser.py.

All tests share one JupyterLab server and one browser (module-scoped fixtures), so the module must run in one xdist
worker: the Makefile's `test-py` passes `--dist loadfile`. (The `xdist_group` mark is for `--dist loadgroup`, which
pytest 9.2 with xdist 3.8 does not honour: xdist renames `item._nodeid`, pytest 9.2 derives the node id elsewhere.)
Without Chromium they skip (`make browser` installs it). About 2 minutes on 2 cores.
"""
import base64
import io
import time

import numpy as np
import pytest

from browser import (lab, chromium, page, shot, drag, stroke, plot_frames, to_page, in_frame, audio_src,  # noqa: F401
                     wait_audio_change, audio_duration, run_code, CellError, synth_state, wait_synth, record_synth,
                     stop_synth_record)

pytestmark = [pytest.mark.xdist_group('browser'), pytest.mark.slow]

SETUP = "import numpy as np\nimport latentplay as lp\nm = lp.pretrained('gm-drums')"
RENDER_S = 120       # a widget's renders after an interaction (2 busy cores)


def settle(nb, w='w', timeout=RENDER_S):
    "Wait (in the kernel) until the widget's renders are done; fail if they are not, or if the last one raised."
    out = nb.py(f"[{w}.wait({timeout}), repr(getattr({w}, 'error', None))]", timeout=timeout + 30)
    assert out[0] is True, f'{w}.wait({timeout}) timed out'
    assert out[1] == 'None', f'the last render of {w} raised: {out[1]}'


def snap(nb, w='w'):
    "What the kernel says about the widget's sound now: renders, samples, rate, a checksum, and a copy kept as `_a`."
    return nb.py(pre=f"_a = None if {w}.sound is None else {w}.sound.audio.copy()",
                 expr=f"[{w}.renders, None if _a is None else len(_a), None if _a is None else {w}.sound.sr,"
                 f" None if _a is None else float(np.abs(_a).sum())]")


def loaded_duration(page, root, expected, tol=0.05):
    "The `<audio>` element loads its new `src` and reports about `expected` seconds."
    d = audio_duration(page, root)
    assert d > 0, f'{root}: <audio> duration {d}'
    assert abs(d - expected) <= tol + 0.02 * expected, f'{root}: <audio> says {d:.3f} s, the sound is {expected:.3f} s'
    return d


_JS_TRUNCATED = """(root) => [...document.querySelectorAll(root + ' .widget-label, ' + root + ' button, ' + root + ' .widget-readout, '
    + root + ' .lp-row-name, ' + root + ' select')].filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map(e => (e.innerText || e.value || e.className).slice(0, 30))"""


def truncated(page, root):
    "The visible labels, buttons, readouts and menus under `root` whose text does not fit (cut off, shown with '...')."
    return page.evaluate(_JS_TRUNCATED, root)


# -------------------------------------------------------------------------------------------------- the harness
def test_harness_intslider(lab, page):
    "The harness itself, with a plain ipywidgets slider: dragging and the keyboard reach the kernel."
    nb = lab.open(page, 'harness.ipynb', [
        "import ipywidgets as W\nseen = []\ns = W.IntSlider(value=10, min=0, max=100, description='x')\n"
        "s.add_class('t-slider')\ns.observe(lambda ch: seen.append(ch['new']), 'value')\ns"])
    handle = page.locator('.t-slider .noUi-handle')
    handle.wait_for(state='visible', timeout=60_000)
    shot(page, 'before')
    drag(page, handle, 40)
    shot(page, 'dragged')
    v, n = nb.py('[s.value, len(seen)]')
    assert 10 < v < 100 and n > 0, (v, n)
    handle.focus()
    page.keyboard.press('ArrowRight')
    page.wait_for_function("(v) => document.querySelector('.t-slider .widget-readout').textContent.trim() === String(v)",
                           arg=v + 1)
    assert nb.py('[s.value, seen[-1]]') == [v + 1, v + 1]
    assert run_code(page, "print('hello', 6 * 7)") == 'hello 42'
    with pytest.raises(CellError, match='ZeroDivisionError'): run_code(page, '1 / 0')


# -------------------------------------------------------------------------------------------------- player
def test_player(lab, page):
    root = '.lp-player'
    nb = lab.open(page, 'player.ipynb', [
        SETUP, "sr = 22050\nt = np.arange(sr) / sr\n"
               "s = lp.Sound((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr)\np = lp.player(s); p"])
    page.locator(root).first.wait_for(state='visible', timeout=60_000)
    shot(page, 'shown', root)
    src = audio_src(page, root)
    assert src and src.startswith('blob:'), f'{root} audio src is {src!r}'
    loaded_duration(page, root, 1.0)
    link = page.locator(f'{root} a.lp-download')
    href, download = link.get_attribute('href'), link.get_attribute('download')
    assert href.startswith('data:audio/wav;base64,'), href[:40]
    assert download and download.endswith('.wav'), download
    import soundfile as sf
    a, sr = sf.read(io.BytesIO(base64.b64decode(href.split(',', 1)[1])), dtype='float32')
    assert sr == 22050 and len(a) == 22050, (sr, a.shape)
    ref = 0.3 * np.sin(2 * np.pi * 440 * np.arange(22050) / 22050)
    # the player's WAV is peak-normalized for listening (lp.sound.wav_bytes): the same waveform, up to its gain
    gain = float(np.abs(a).max() / np.abs(ref).max())
    assert gain > 0 and np.abs(a / gain - ref).max() < 1e-3, 'the downloaded WAV is not the sound'
    img = page.locator(f'{root} img').first
    assert img.evaluate('i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0'), 'no waveform/spectrogram picture'
    assert nb.py('p.sound is s') is True


# -------------------------------------------------------------------------------------------------- sliders
def test_sliders(lab, page):
    root = '.lp-sliders'
    nb = lab.open(page, 'sliders.ipynb', [SETUP, "w = lp.sliders(m, seconds=1.0); w"])
    handle = page.locator(f'{root} .lp-axis-0 .noUi-handle')
    handle.wait_for(state='visible', timeout=60_000)
    settle(nb)
    n_axes, zshape, dim, shape = nb.py('[len(w.coords), list(w.z.shape), m.latent_dim, w.shape]')
    assert n_axes == 8 and zshape == [dim] and shape == 'point', (n_axes, zshape, dim, shape)
    renders0, n0, _, _ = snap(nb)
    assert renders0 >= 1 and n0, 'the sliders rendered no first sound'
    c0 = nb.py('w.coords[0]')
    src0 = audio_src(page, root)
    shot(page, 'start', root)
    names = nb.py('[s.description for s in w.axis_sliders]')          # each slider says what it does, uncut
    assert sum('→' in n for n in names) >= 3, names
    assert truncated(page, root) == [], f'cut-off labels: {truncated(page, root)}'

    # drag axis 0 to the right
    drag(page, handle, 30, steps=15)
    shot(page, 'dragged', root)
    settle(nb)
    c1, renders1, same = nb.py('[w.coords[0], w.renders, len(_a) == len(w.sound.audio) and bool(np.allclose(_a, w.sound.audio))]')
    assert c1 > c0 + 0.1, f'.lp-axis-0 dragged right: coords[0] {c0} -> {c1}'
    assert renders1 > renders0, f'no render after the drag (renders {renders0} -> {renders1})'
    assert not same, 'the sound did not change after moving axis 0'
    assert abs(nb.py('w.coords[0] - float(w.axis_sliders[0].value)')) < 1e-9
    src1 = wait_audio_change(page, root, src0)
    assert nb.py('w.sound.duration') == pytest.approx(1.0, abs=0.05)
    loaded_duration(page, root, 1.0)

    # the keyboard: one step to the right
    handle.focus()
    page.keyboard.press('ArrowRight')
    page.wait_for_function("(c) => { const r = document.querySelector('.lp-sliders .lp-axis-0 .widget-readout');"
                           " return r && parseFloat(r.textContent) > c + 1e-6; }", arg=c1)
    settle(nb)
    assert nb.py('w.coords[0]') == pytest.approx(c1 + 0.01, abs=1e-6)
    src2 = wait_audio_change(page, root, src1)

    # a class picker: gm-drums' grain decoder is conditioned on the class, so the picker changes the sound (it starts on
    # an even mix of the classes; test_sliders_class plays it)
    assert page.locator(f'{root} .lp-label select').count() == 1
    assert page.locator(f'{root} .lp-label select').is_visible(), 'no class picker on a model whose class changes the sound'
    assert nb.py('w.label') is None

    # loop shape
    page.locator(f'{root} .lp-shape button', has_text='loop').click()
    shot(page, 'loop', root)
    settle(nb)
    assert nb.py('w.shape') == 'loop'
    wait_audio_change(page, root, src2)
    finite, peak = nb.py('[bool(np.isfinite(w.sound.audio).all()), float(np.abs(w.sound.audio).max())]')
    assert finite and peak > 0, f'the loop sound: finite {finite}, peak {peak}'


def test_sliders_class(lab, page):
    "The class picker, on a small untrained model whose grain decoder is conditioned on the class (so the class is heard)."
    root = '.lp-sliders'
    nb = lab.open(page, 'sliders_class.ipynb', [
        "import numpy as np, torch\nimport latentplay as lp\ntorch.manual_seed(0)\n"
        "m = lp.GrainModel(latent_dim=8, hidden=64, labels=['kick', 'snare', 'hihat'], grain_conditioning=True).eval()",
        "w = lp.sliders(m, seconds=0.5); w"])
    select = page.locator(f'{root} .lp-label select')
    select.wait_for(state='visible', timeout=60_000)
    settle(nb)
    assert nb.py('w.label') is None
    renders0, n0, _, _ = snap(nb)
    assert renders0 >= 1 and n0
    src0 = audio_src(page, root)
    select.select_option(label='snare')
    shot(page, 'snare', root)
    settle(nb)
    label, renders1, same = nb.py('[w.label, w.renders, len(_a) == len(w.sound.audio) and bool(np.allclose(_a, w.sound.audio))]')
    assert label == 'snare', label
    assert renders1 > renders0, 'choosing a class did not render'
    assert not same, "the sound did not change with the class"
    wait_audio_change(page, root, src0)
    loaded_duration(page, root, 0.5)


# -------------------------------------------------------------------------------------------------- latent map
def test_latent_map(lab, page):
    root = '.lp-map'
    nb = lab.open(page, 'map.ipynb', [SETUP, "corpus = lp.Corpus.builtin('gm-drums', progress=False)",
                                      "w = lp.latent_map(m, corpus); w"])
    plot_frames(page, root)
    shot(page, 'shown', root)
    src0 = audio_src(page, root)
    renders0 = nb.py('w.renders')

    # draw a stroke: press, ~30 small moves with short pauses (the drawing has a speed), release
    frame = plot_frames(page, root)[0]
    pts = [in_frame(frame, 0.15 + 0.7 * i / 30, 0.3 + 0.4 * np.sin(np.pi * i / 30)) for i in range(31)]
    stroke(page, pts, pause_ms=20)
    shot(page, 'drawn', root)
    settle(nb)
    drawn, path_len, dur, renders1 = nb.py('[len(w.drawn), int(w.path.shape[0]) if w.path is not None else 0, '
                                           'w.sound.duration if w.sound is not None else 0, w.renders]')
    assert drawn > 10, f'w.drawn has {drawn} points after a 31-point stroke'
    assert path_len > 1, f'w.path has {path_len} steps'
    assert dur > 0 and renders1 > renders0, (dur, renders0, renders1)
    t = nb.py('[p[2] for p in w.drawn]')
    assert t[-1] > t[0] and all(b >= a for a, b in zip(t, t[1:])), f'stroke times are not increasing: {t[:5]}...'
    src1 = wait_audio_change(page, root, src0)
    shot(page, 'path', root)
    loaded_duration(page, root, dur)

    # click (no drag) on a corpus sound: it is selected and played
    i = 0
    x, y = nb.py(f'w.map.xy[{i}].tolist()')
    frame = plot_frames(page, root)[0]
    px, py = to_page(frame, x, y)
    page.mouse.click(px, py)
    shot(page, 'clicked', root)
    settle(nb)
    sel, same, sx, sy = nb.py('[w.selected, w.selected is not None and len(w.sound.audio) == len(w.map.sounds[w.selected].audio)'
                              ' and bool(np.array_equal(w.sound.audio, w.map.sounds[w.selected].audio))]'
                              ' + (w.map.xy[w.selected].tolist() if w.selected is not None else [None, None])')
    assert sel is not None, 'a click on a sound selected nothing'
    # the selected sound is the one under the pointer (or one as near: dots overlap)
    w_px = (frame['x1'] - frame['x0']) / (frame['xr'][1] - frame['xr'][0])
    h_px = (frame['y1'] - frame['y0']) / (frame['yr'][1] - frame['yr'][0])
    assert np.hypot((sx - x) * w_px, (sy - y) * h_px) < 4, f'clicked sound {i} at {x, y}, selected {sel} at {sx, sy}'
    assert same, f'w.sound is not corpus sound {sel}'
    src2 = wait_audio_change(page, root, src1)
    loaded_duration(page, root, nb.py('w.sound.duration'))

    first = sel
    # click between dots (the emptiest spot among them): the blend of the neighbours, held for the seconds slider
    gx, gy = nb.py(pre="import torch; _x = w.map.xy; _g = torch.cartesian_prod(torch.linspace(*np.percentile(_x[:, 0], [10, 90]).tolist(), 25), "
                   "torch.linspace(*np.percentile(_x[:, 1], [10, 90]).tolist(), 25))",
                   expr="_g[torch.cdist(_g, _x).min(1).values.argmax()].tolist()")
    page.mouse.click(*to_page(plot_frames(page, root)[0], gx, gy))
    settle(nb)
    sel, status, dur, want = nb.py('[w.selected, w.status.value, w.sound.duration, w.seconds_slider.value]')
    shot(page, 'blend', root)
    assert sel is None and 'blend' in status, f'a click between dots: selected {sel}, status {status!r}'
    assert abs(dur - want) < 0.05, (dur, want)
    src3 = wait_audio_change(page, root, src2)
    # a legend beside the plot (not over it), axes in words, nothing cut short
    assert page.locator(f'{root} .bk-Canvas').first.is_visible()
    assert nb.py('[w.legend.visible, w.figure.xaxis[0].axis_label.startswith("main direction 1")]') == [True, True]
    assert truncated(page, root) == [], f'cut-off labels: {truncated(page, root)}'
    # undo goes back to the recording clicked before
    page.locator(f'{root} button.lp-undo').click()
    page.wait_for_function("(c) => document.querySelector(c).innerText.includes('undone')", arg=f'{root} .lp-status', timeout=20_000)
    assert nb.py('w.selected') == first, 'undo did not go back to the clicked recording'
    wait_audio_change(page, root, src3)


# -------------------------------------------------------------------------------------------------- descriptor target
def test_descriptor_target(lab, page):
    root = '.lp-target'
    nb = lab.open(page, 'target.ipynb', [SETUP, "w = lp.descriptor_target(m, descriptor='centroid', seconds=3.0); w"])
    plot_frames(page, root)
    shot(page, 'shown', root)
    src0 = audio_src(page, root)
    renders0 = nb.py('w.renders')

    # a rising stroke, left to right
    frame = plot_frames(page, root)[0]
    pts = [in_frame(frame, 0.02 + 0.96 * i / 30, 0.15 + 0.7 * i / 30) for i in range(31)]
    stroke(page, pts, pause_ms=20)
    shot(page, 'drawn', root)
    settle(nb, timeout=240)
    curve = nb.py("w.targets['centroid'].tolist()")
    assert curve[-1] > 1.5 * curve[0], f'the target does not rise: {curve[0]:.0f} -> {curve[-1]:.0f} Hz'
    assert np.all(np.diff(curve) >= -1e-6 * max(curve)), 'the drawn target is not monotonic'
    err, renders1, dur = nb.py("[w.result.error['overall'] if w.result is not None else None, w.renders, "
                               "w.sound.duration if w.sound is not None else 0]")
    assert renders1 > renders0, 'no synthesis after the stroke'
    assert err is not None and err < 0.5, f"w.result.error['overall'] = {err}"
    assert dur == pytest.approx(3.0, abs=0.1), dur
    src1 = wait_audio_change(page, root, src0)
    shot(page, 'synthesized', root)
    loaded_duration(page, root, dur)

    # the button, same target and method: the search starts from another guess (a new seed), so a new sound comes
    page.locator(f'{root} button.lp-synth').click()
    settle(nb, timeout=240)
    renders_again, err_again = nb.py("[w.renders, w.result.error['overall']]")
    assert renders_again > renders1 and err_again < 0.5, (renders1, renders_again, err_again)
    src1 = wait_audio_change(page, root, src1)

    # and with the paper's greedy search
    page.locator(f'{root} .lp-method button', has_text='greedy').click()
    page.locator(f'{root} button.lp-synth').click()
    shot(page, 'greedy', root)
    settle(nb, timeout=240)
    method, used, err, renders2 = nb.py("[w.method, w.result.method, w.result.error['overall'], w.renders]")
    assert method == used == 'greedy', (method, used)
    assert renders2 > renders_again and err < 0.5, (renders_again, renders2, err)
    wait_audio_change(page, root, src1)


# -------------------------------------------------------------------------------------------------- sequencer
def test_sequencer(lab, page):
    root = '.lp-sequencer'
    nb = lab.open(page, 'sequencer.ipynb', [SETUP, "w = lp.sequencer(m); w"])
    page.locator(f'{root} .lp-cell-0-1').wait_for(state='visible', timeout=60_000)
    settle(nb)
    assert nb.py('[w.pattern.cell(0, 1), w.pattern.cell(1, 5)]') == [None, None]
    renders0 = nb.py('w.renders')
    src0 = audio_src(page, root)
    color0 = page.locator(f'{root} .lp-cell-0-1').evaluate('b => getComputedStyle(b).backgroundColor')
    shot(page, 'empty', root)

    # two cells on
    page.locator(f'{root} .lp-cell-0-1').click()
    page.locator(f'{root} .lp-cell-1-5').click()
    shot(page, 'clicked', root)
    settle(nb)
    c01, c15, on = nb.py('[w.pattern.cell(0, 1), w.pattern.cell(1, 5), '
                         'sum(w.pattern.cell(t, s) is not None for t in range(len(w.pattern.tracks)) for s in range(w.pattern.n_steps))]')
    assert c01 is not None and c15 is not None, f'cells after clicking 0-1 and 1-5: {c01}, {c15}'
    assert on == 2, f'{on} cells are on, 2 were clicked'
    assert nb.py('w.renders') > renders0
    page.wait_for_function("([sel, c]) => getComputedStyle(document.querySelector(sel)).backgroundColor !== c",
                           arg=[f'{root} .lp-cell-0-1', color0], timeout=10_000)
    src1 = wait_audio_change(page, root, src0)
    n, sr, peak = nb.py('[len(w.sound.audio), w.sound.sr, float(np.abs(w.sound.audio).max())]')
    assert peak > 0, 'the pattern with two hits is silent'
    shot(page, 'rendered', root)
    loaded_duration(page, root, n / sr)

    # tempo: one step up with the keyboard; the loop is re-rendered at the new tempo
    tempo0 = nb.py('w.pattern.tempo')
    page.locator(f'{root} .lp-tempo .noUi-handle').focus()
    page.keyboard.press('ArrowRight')
    settle(nb)
    tempo1, n1 = nb.py('[w.pattern.tempo, len(w.sound.audio)]')
    assert tempo1 == tempo0 + 1, (tempo0, tempo1)
    assert n1 < n, f'faster tempo, but the sound went from {n} to {n1} samples'
    wait_audio_change(page, root, src1)

    # the sound is one loop of the pattern
    n, sr, seconds, loop_n, loops = nb.py('[len(w.sound.audio), w.sound.sr, w.pattern.seconds, '
                                          'w.pattern.loop_samples(w.sound.sr), getattr(w, "loops", None)]')
    assert abs(n - seconds * sr) <= 1, (f'w.sound is {n} samples ({n / sr:.4f} s); w.pattern.seconds is {seconds:.4f} s '
                                        f'({seconds * sr:.1f} samples; one loop = {loop_n} samples; w.loops = {loops})')

    # mute the kick row with its M button: the kick is gone, the snare still plays
    src2 = audio_src(page, root)
    page.locator(f'{root} .lp-mute-0').click()
    settle(nb)
    muted, same_as_snare_only = nb.py(
        pre="_p = w.pattern.copy(); _p.tracks[0].mute = False; _p.clear(0)",       # the same loop without the kick
        expr="[w.pattern.tracks[0].mute, bool(np.allclose(w.sound.audio, lp.render_pattern(m, _p).audio, atol=1e-5))]")
    assert muted is True, 'the M button did not mute the kick row'
    assert same_as_snare_only, 'with the kick row muted the loop should be the snare alone'
    src3 = wait_audio_change(page, root, src2)
    shot(page, 'muted', root)

    # at the default width nothing is cut short, and the row controls keep their size
    assert truncated(page, root) == [], f'cut-off labels: {truncated(page, root)}'
    track = page.locator(f'{root} .lp-stretch-0 .noUi-target').first.bounding_box()
    assert track['width'] > 60, f'the stretch slider is {track["width"]:.0f} px wide'
    assert page.locator(f'{root} .lp-steps').first.inner_text().split()[:4] == ['1', '2', '3', '4'], 'no step numbers'

    # undo (the button) takes the mute back
    page.locator(f'{root} button.lp-undo').click()
    settle(nb)
    assert nb.py('w.pattern.tracks[0].mute') is False, 'undo did not unmute the kick row'
    src4 = wait_audio_change(page, root, src3)

    # a pattern set from a script: the morph menu shows the row's class
    nb.py(pre="_p = w.pattern.copy(); _p.set('snare', [4], morph={'to': 'kick', 'amount': 0.5}); w.set_pattern(_p)", expr="1")
    settle(nb)
    page.wait_for_function("(s) => { const e = document.querySelector(s); return e && e.selectedOptions[0] && "
                           "e.selectedOptions[0].text.includes('kick'); }", arg=f'{root} .lp-morph-1 select', timeout=20_000)
    shot(page, 'morph', root)

    # save sound: one click, a numbered file in ./latentplay-work
    page.locator(f'{root} button.lp-save-sound').click()
    page.wait_for_function("(c) => document.querySelector(c).innerText.includes('saved')", arg=f'{root} .lp-status', timeout=30_000)
    saved = nb.py("sorted(p.name for p in __import__('pathlib').Path('latentplay-work').glob('pattern*.wav'))")
    assert 'pattern.wav' in saved, saved


# -------------------------------------------------------------------------------------------------- the browser-side player
def test_synth_keeps_playing_while_dragging(lab, page):
    "A slider drag sounds like a synth: the loop keeps playing, and each new render crossfades in at the same place."
    root = '.lp-sliders'
    nb = lab.open(page, 'synth_drag.ipynb', [SETUP, "w = lp.sliders(m, seconds=1.0); w"])
    handle = page.locator(f'{root} .lp-axis-0 .noUi-handle')
    handle.wait_for(state='visible', timeout=60_000)
    settle(nb)
    d0 = wait_synth(page, root, "d.playing === 'true' && +d.received >= 1")
    assert d0['state'] == 'running', f"the page's AudioContext is {d0['state']}"
    assert d0['loop'] == 'true' and abs(float(d0['duration']) - 1.0) < 0.05, d0
    record_synth(page, root)
    b = handle.bounding_box()
    x, y = b['x'] + b['width'] / 2, b['y'] + b['height'] / 2
    page.mouse.move(x, y); page.mouse.down()
    for k in range(12):                                   # a slow drag, 3 s: renders arrive while the hand moves
        page.mouse.move(x + 5 * (k + 1), y, steps=3)
        page.wait_for_timeout(250)
    page.mouse.up()
    settle(nb)
    sent = nb.py('w.player.synth.sent')
    wait_synth(page, root, f"+d.applied >= {sent}", timeout=30)
    page.wait_for_timeout(300)
    rec = stop_synth_record(page)
    shot(page, 'dragged', root)
    received = [int(r['decoded']) for r in rec]
    assert received[-1] - received[0] >= 2, f'only {received[-1] - received[0]} new sounds were played during the drag'
    assert all(r['state'] == 'running' and r['playing'] == 'true' for r in rec), 'the sound stopped during the drag'
    restarts = {r['restarts'] for r in rec}
    assert restarts == {d0['restarts']}, f'the playback restarted from zero: restarts {sorted(restarts)}'
    el = [float(r['elapsed']) for r in rec]
    assert all(b2 >= a2 for a2, b2 in zip(el, el[1:])), 'the playing time went back'
    gaps, jumps = [], []
    for r1, r2 in zip(rec, rec[1:]):                      # across each new sound: the position moved on with the clock
        dt = float(r2['now']) - float(r1['now'])
        gaps.append(float(r2['elapsed']) - float(r1['elapsed']) - dt)
        if r2['decoded'] != r1['decoded']:
            dur = float(r2['duration'])
            dp = (float(r2['position']) - float(r1['position'])) % dur
            jumps.append(min(abs(dp - dt), dur - abs(dp - dt)))
    assert jumps and max(jumps) < 0.06, f'the loop position jumped at a new sound by {max(jumps or [0]):.3f} s'
    print(f"\nsynth drag: {sent} sounds sent, {received[-1] - received[0]} new sounds crossfaded in {el[-1] - el[0]:.2f} s of unbroken playback "
          f"(restarts {d0['restarts']}), crossfade {rec[-1]['fade']} ms, position jump at a new sound max {1000 * max(jumps):.1f} ms, "
          f"playing-time vs clock max drift {1000 * max(abs(g) for g in gaps):.1f} ms, {len(rec)} samples")


def test_synth_global_stop_and_volume(lab, page):
    "The *■ all* button of any player stops every latentplay player of the page; the volume slider sets them all."
    nb = lab.open(page, 'synth_stop.ipynb', [SETUP, "a = lp.sliders(m, seconds=0.5); a", "b = lp.sliders(m, seconds=0.5); b"])
    page.locator('.lp-sliders .lp-synth').nth(1).wait_for(state='attached', timeout=60_000)
    settle(nb, 'a'); settle(nb, 'b')
    for i in (0, 1): wait_synth(page, '.lp-sliders', "d.playing === 'true'", i=i)
    assert nb.py('[a.player.synth.playing, b.player.synth.playing]') == [True, True]
    page.locator('.lp-sliders .lp-stop-all').nth(1).click()
    for i in (0, 1): wait_synth(page, '.lp-sliders', "d.playing === 'false'", i=i, timeout=10)
    page.wait_for_timeout(500)
    assert nb.py('[a.player.synth.playing, b.player.synth.playing]') == [False, False], 'Python was not told of the stop'
    shot(page, 'stopped')
    vol = page.locator('.lp-sliders .lp-volume').nth(0)
    vol.evaluate("e => { e.value = '0.3'; e.dispatchEvent(new Event('input', {bubbles: true})); }")
    vols = page.evaluate("() => [window.__latentplay.volume, window.__latentplay.master.gain.value,"
                         " ...[...document.querySelectorAll('.lp-volume')].map(e => +e.value)]")
    assert vols[0] == 0.3 and all(abs(v - 0.3) < 1e-6 for v in vols[2:]), vols
    page.locator('.lp-sliders .lp-synth-play').nth(0).click()       # this player's play button: only it plays
    wait_synth(page, '.lp-sliders', "d.playing === 'true'", i=0, timeout=10)
    assert synth_state(page, '.lp-sliders', 1)['playing'] == 'false'
    page.wait_for_timeout(500)
    assert nb.py('a.player.synth.playing') is True


def test_one_sequencer_plays_at_a_time(lab, page):
    "Starting a sequencer's loop stops the other's (exclusive=True, the default); a playhead moves over the playing grid."
    root = '.lp-sequencer'
    nb = lab.open(page, 'synth_seq.ipynb', [SETUP, "a = lp.sequencer(m); a.click('kick', 0); a", "b = lp.sequencer(m); b.click('snare', 4); b"])
    page.locator(f'{root} .lp-synth').nth(1).wait_for(state='attached', timeout=60_000)
    settle(nb, 'a'); settle(nb, 'b')
    for i in (0, 1): wait_synth(page, root, "+d.received >= 1", i=i)
    nb.py(pre='a.player.play()', expr='1')                      # start a: b stops
    wait_synth(page, root, "d.playing === 'true'", i=0, timeout=10)
    wait_synth(page, root, "d.playing === 'false'", i=1, timeout=10)
    page.wait_for_timeout(500)
    assert nb.py('[a.player.synth.playing, b.player.synth.playing]') == [True, False]
    steps = set()
    for _ in range(20):                                          # the playhead moves with the loop
        steps.add(synth_state(page, root, 0).get('step')); page.wait_for_timeout(100)
    assert len(steps - {None, '-1'}) >= 3, f'playhead steps seen: {steps}'
    assert page.locator(f'{root} .lp-playhead').count() >= 1
    shot(page, 'a-plays', root)
    page.locator(f'{root}').nth(1).locator('.lp-cell-0-2').click()     # a click on b re-renders b, which starts: a stops
    settle(nb, 'b')
    wait_synth(page, root, "d.playing === 'true'", i=1, timeout=30)
    wait_synth(page, root, "d.playing === 'false'", i=0, timeout=10)
    page.wait_for_timeout(500)
    assert nb.py('[a.player.synth.playing, b.player.synth.playing]') == [False, True]
    shot(page, 'b-plays', root)


def test_map_sounds_while_drawing(lab, page):
    "A stroke on the map sounds while it is drawn: the blend under the pen loops and follows it; the release plays the path."
    root = '.lp-map'
    nb = lab.open(page, 'map_pen.ipynb', [SETUP, "corpus = lp.Corpus.builtin('gm-drums', progress=False)",
                                          "w = lp.latent_map(m, corpus); w"])
    frame = plot_frames(page, root)[0]
    settle(nb)
    h0 = nb.py('len(w._history)')
    pts = [in_frame(frame, 0.15 + 0.7 * i / 40, 0.3 + 0.4 * np.sin(np.pi * i / 40)) for i in range(41)]
    t0 = time.monotonic()
    page.mouse.move(*pts[0]); page.mouse.down()
    for x, y in pts[1:]:                                   # a slow stroke, 2 s: the pen's point is sent while it moves
        page.mouse.move(x, y, steps=2); page.wait_for_timeout(50)
    d = wait_synth(page, root, "+d.decoded >= 2 && d.playing === 'true' && d.loop === 'true'", timeout=60)
    status, previews = nb.py("[w.status.value, w.renders]")
    most = 3 + 1.2 * 1000 * (time.monotonic() - t0) / 120
    assert previews <= most, f'{previews} renders while the pen was down, at most {most:.0f} expected: it sends more than a point per 120 ms'
    shot(page, 'pen-down', root)
    assert 'under the pen' in status or 'rendering' in status, f'while drawing the status says {status!r}'
    page.mouse.up()
    settle(nb)
    wait_synth(page, root, "d.loop === 'false'", timeout=30)
    path_len, hist, loop = nb.py('[int(w.path.shape[0]) if w.path is not None else 0, len(w._history), w.player.synth.loop]')
    shot(page, 'released', root)
    assert path_len > 1 and loop is False, (path_len, loop)
    assert hist == h0 + 1, f'the previews made undo steps: history {h0} -> {hist}'
    print(f"\nmap pen: {d['decoded']} sounds played while the pen was down ({previews} renders), then the path of {path_len} steps")


def test_widget_shown_twice_sounds_once(lab, page):
    "One widget displayed twice plays one sound: its first view sounds, the second mirrors it and its button acts on it."
    root = '.lp-sliders'
    nb = lab.open(page, 'twice.ipynb', [SETUP, "w = lp.sliders(m, seconds=0.5); w", "w"])
    page.locator(f'{root} .lp-synth').nth(1).wait_for(state='attached', timeout=60_000)
    settle(nb)
    a = wait_synth(page, root, "d.playing === 'true'", i=0)
    b = synth_state(page, root, 1)
    assert (a['view'], b['view']) == ('sounding', 'mirror'), (a['view'], b['view'])
    assert b['playing'] == 'false' and b['decoded'] == '0', f'the second view plays too: {b}'
    page.locator(f'{root} .lp-synth-play').nth(1).click()        # the mirror's button stops the one sound
    wait_synth(page, root, "d.playing === 'false'", i=0, timeout=10)
    page.wait_for_timeout(300)
    assert nb.py('w.player.synth.playing') is False
    shot(page, 'twice', root)
