"""The path editor and the blend pad in a real browser (JupyterLab + headless Chromium, the harness of browser.py):
a curve redrawn with the mouse, a tool button, undo, a click and a stroke on the pad. Each step checks the kernel's
state (read back with `nb.py`) and the page's audio (a new `<audio>` src, and the browser-side player received it).
Skips without Chromium, like test_browser.py. About a minute on 2 cores."""
import numpy as np
import pytest

from browser import (lab, chromium, page, shot, stroke, plot_frames, in_frame, audio_src,  # noqa: F401
                     wait_audio_change, wait_synth)

pytestmark = [pytest.mark.xdist_group('browser'), pytest.mark.slow]

SETUP = ("import numpy as np, torch\nimport latentplay as lp\nfrom latentplay.editors import path_editor, blend_pad\n"
         "m = lp.pretrained('gm-drums')\nT = lp.maps.latent_steps(m, 1.0)")
RENDER_S = 120


_JS_SOURCE_Y = """(id) => { for (const v of Object.values(Bokeh.index)) { const doc = v.model && v.model.document;
  const m = doc && doc.get_model_by_id(id); if (m) return Array.from(m.data.y); } return null; }"""


def page_curve(page, nb, i=0, like=None, timeout=30):
    "The y values of the editor's curve `i` as the page holds them (waits until they match `like`, when given)."
    sid = nb.py(f'w.curves[{i}].id')
    if like is not None:
        page.wait_for_function("([id, want]) => { const y = (" + _JS_SOURCE_Y + ")(id);"
                               " return !!y && y.length === want.length && y.every((v, k) => Math.abs(v - want[k]) < 1e-4); }",
                               arg=[sid, like], timeout=timeout * 1000, polling=200)
    return page.evaluate(_JS_SOURCE_Y, sid)


def settle(nb, w):
    out = nb.py(f"[{w}.wait({RENDER_S}), repr({w}.error)]", timeout=RENDER_S + 30)
    assert out == [True, 'None'], out


def test_path_editor_draw_tool_undo(lab, page):
    root = '.lp-editor'
    nb = lab.open(page, 'editor.ipynb', [SETUP, "w = path_editor(m, m.prior(1, seed=3)[0].expand(T, -1).clone()); w"])
    frames = plot_frames(page, root)
    assert len(frames) == 4, f'{len(frames)} curve panels, 4 expected'
    settle(nb, 'w')
    src0 = audio_src(page, root)
    renders0, c0 = nb.py('[w.renders, float(w.coords[:, 0].mean())]')
    shot(page, 'start', root)

    # redraw the first axis high across the whole panel (y range -3..3: 0.85 of the height is about +2.1)
    f = plot_frames(page, root)[0]                                    # where it is now (running a cell scrolls the page)
    stroke(page, [in_frame(f, 0.01 + 0.98 * i / 20, 0.85) for i in range(21)], pause_ms=15)
    settle(nb, 'w')
    shot(page, 'drawn', root)
    mid, renders1, hist = nb.py('[float(w.coords[len(w.path) // 4: 3 * len(w.path) // 4, 0].mean()), w.renders, len(w._history)]')
    assert mid > 1.5 and abs(mid - c0) > 1, f'axis 1 after drawing high: {c0:.2f} -> {mid:.2f}'
    assert renders1 > renders0 and hist == 1, (renders0, renders1, hist)
    assert nb.py('bool(torch.equal(w.rendered, w.path))') is True
    src1 = wait_audio_change(page, root, src0)
    y_drawn = page_curve(page, nb, 0, like=nb.py('w.coords[:, 0].tolist()'))      # the page shows the redrawn curve
    sent = nb.py('w.player.synth.sent')
    wait_synth(page, root, f'+d.received >= {sent}')                 # the browser-side player has the new sound

    # a tool button: reverse
    before = nb.py(pre='_p = w.path', expr='1')
    page.locator(f'{root} button.lp-reverse').click()
    settle(nb, 'w')
    assert nb.py('bool(torch.allclose(w.path, _p.flip(0)))') is True, 'reverse did not reverse the path'
    src2 = wait_audio_change(page, root, src1)
    y = page_curve(page, nb, 0, like=nb.py('w.coords[:, 0].tolist()'))
    assert np.allclose(y, y_drawn[::-1], atol=1e-4), 'the page does not show the reversed curve'
    shot(page, 'reversed', root)

    # undo (the button): back to the drawn path, and its sound
    page.locator(f'{root} button.lp-undo').click()
    settle(nb, 'w')
    assert nb.py('[bool(torch.allclose(w.path, _p)), len(w._history)]') == [True, 1]
    wait_audio_change(page, root, src2)
    assert before == 1


def test_blend_pad_click_and_stroke(lab, page):
    root = '.lp-pad'
    nb = lab.open(page, 'pad.ipynb', [SETUP, "pad = blend_pad(m, *[m.prior(1, seed=k)[0].expand(T, -1).clone() for k in range(4)]); pad"])
    settle(nb, 'pad')
    src0 = audio_src(page, root)
    f = plot_frames(page, root)[0]

    # a click near the top right corner (b)
    page.mouse.click(*in_frame(f, 0.9, 0.9))
    settle(nb, 'pad')
    xy, w = nb.py('[list(pad.xy), pad.weights.tolist()]')
    assert abs(xy[0] - 0.9) < 0.05 and abs(xy[1] - 0.9) < 0.05, xy
    assert int(np.argmax(w)) == 1 and w[1] > 0.7, w
    src1 = wait_audio_change(page, root, src0)
    shot(page, 'clicked', root)

    # a stroke from the top left corner (a) to the bottom right one (d)
    f = plot_frames(page, root)[0]
    stroke(page, [in_frame(f, 0.03 + 0.94 * i / 25, 0.97 - 0.94 * i / 25) for i in range(26)], pause_ms=15)
    settle(nb, 'pad')
    n, w0, w1, ok = nb.py('[len(pad.drawn), pad.weights[0].tolist(), pad.weights[-1].tolist(), '
                          'bool(np.allclose(pad.sound.audio, m.decode(pad.path).audio, atol=1e-6))]')
    assert n > 5, f'{n} stroke points reached the kernel'
    assert int(np.argmax(w0)) == 0 and int(np.argmax(w1)) == 3, (w0, w1)
    assert ok, 'the sound is not the blended path'
    wait_audio_change(page, root, src1)
    sent = nb.py('pad.player.synth.sent')
    wait_synth(page, root, f'+d.received >= {sent}')
    shot(page, 'stroked', root)
