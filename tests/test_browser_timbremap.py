"""The timbre map in a real browser (JupyterLab + headless Chromium, the harness of browser.py): a click on an empty
spot, a click on an instrument's dot, a drag from one instrument to another, and undo. Each step checks the kernel's
state (read back with `nb.py`: the point, the gesture, the sound equal to the model's decode or morph) and the page's
audio (a new `<audio>` src, and the browser-side player received it). Skips without Chromium, like test_browser.py."""
import numpy as np
import pytest

from browser import (lab, chromium, page, shot, stroke, plot_frames, to_page, audio_src,  # noqa: F401
                     wait_audio_change, wait_synth)

pytestmark = [pytest.mark.xdist_group('browser'), pytest.mark.slow]

SETUP = ("import numpy as np, torch\nimport latentplay as lp\nfrom latentplay.timbremap import timbre_map, morph_sound\n"
         "m = lp.pretrained('gm-notes-timbre')")
RENDER_S = 120
EMPTY = ("(lambda d, e: (lambda g: g[np.argmax(np.min(np.linalg.norm(g[:, None] - d[None], axis=-1), 1))].tolist())("
         "np.stack(np.meshgrid(np.linspace(e[0], e[1], 30)[4:-4], np.linspace(e[2], e[3], 30)[4:-4]), -1).reshape(-1, 2)))"
         "(np.array(list(tm.map.model_xy.values())), tm.map.extent())")


def settle(nb):
    out = nb.py("[tm.wait(120), repr(tm.error)]", timeout=RENDER_S + 30)
    assert out == [True, 'None'], out


def arrived(nb, kind, n):
    "Wait until the kernel has heard gesture number `n` of `kind` (the page's message may come after the next cell is sent)."
    for _ in range(40):
        if nb.py(f"[len(tm._history), (tm.gesture or {{}}).get('kind')]") == [n, kind]: return settle(nb)
        nb.page.wait_for_timeout(500)
    shot(nb.page, f'lost-{n}', '.lp-timbre-map')
    raise AssertionError(f"gesture {n} ({kind}) never reached the kernel: {nb.py('[len(tm._history), repr(tm.gesture)]')}")


def heard(page, root, nb, old):
    "The page has a new sound, and the browser-side player received it; returns the new `<audio>` src."
    src = wait_audio_change(page, root, old)
    wait_synth(page, root, f"+d.received >= {nb.py('tm.player.synth.sent')}")
    return src


def test_timbre_map_click_drag_undo(lab, page):
    root = '.lp-timbre-map'
    nb = lab.open(page, 'timbremap.ipynb', [SETUP, "tm = timbre_map(m, seconds=0.4, steps=3); tm"])
    plot_frames(page, root)
    page.wait_for_timeout(500)                                                   # the plot's own event handlers set up
    shot(page, 'shown', root)
    src0 = audio_src(page, root)

    # a click on an empty spot: the kernel gets the point, and a sound that is the model's decode of it
    x, y = nb.py(EMPTY)
    f = plot_frames(page, root)[0]                                                # where it is now (running a cell scrolls the page)
    page.mouse.click(*to_page(f, x, y))
    arrived(nb, 'point', 1)
    kind, xy, same = nb.py("[tm.gesture['kind'], list(tm.xy), bool(torch.allclose(tm.point, tm.map.plane.point(*tm.xy))"
                           " and np.array_equal(tm.sound.audio, m.decode(tm.point, pitch=tm.pitch, seconds=tm.seconds).audio))]")
    px = (f['xr'][1] - f['xr'][0]) / (f['x1'] - f['x0'])                          # map units per pixel
    assert kind == 'point' and np.hypot(xy[0] - x, xy[1] - y) < 3 * px, (kind, xy, (x, y))
    assert same, "the sound is not the model's decode of the clicked point"
    src1 = heard(page, root, nb, src0)
    shot(page, 'clicked', root)

    # a click on the oboe's dot: the oboe's own point
    ox, oy = nb.py("tm.map.model_xy['Oboe'].tolist()")
    page.mouse.click(*to_page(plot_frames(page, root)[0], ox, oy))
    arrived(nb, 'point', 2)
    assert nb.py("[tm.gesture['name'], bool(torch.allclose(tm.point, m.point_of('Oboe')))]") == ['Oboe', True]
    src2 = heard(page, root, nb, src1)

    # a drag from the cello to the trumpet: a morph arrives
    (ax, ay), (bx, by) = nb.py("[tm.map.model_xy['Cello'].tolist(), tm.map.model_xy['Trumpet'].tolist()]")
    f = plot_frames(page, root)[0]
    stroke(page, [to_page(f, ax + (bx - ax) * i / 20, ay + (by - ay) * i / 20) for i in range(21)], pause_ms=15)
    arrived(nb, 'morph', 3)
    name, steps, same = nb.py("[tm.gesture['name'], len(tm.path), bool(np.allclose(tm.sound.audio, "
                              "morph_sound(m, 'Cello', 'Trumpet', 3, 'linear', tm.pitch, tm.seconds).audio, atol=1e-6))]")
    assert (name, steps, same) == ('Cello to Trumpet', 3, True)
    src3 = heard(page, root, nb, src2)
    shot(page, 'morph', root)

    # undo (the button): back to the oboe
    page.locator(f'{root} button.lp-undo').click()
    page.wait_for_function("(c) => document.querySelector(c).innerText.includes('undone')", arg=f'{root} .lp-status', timeout=20_000)
    assert nb.py("[tm.gesture['name'], tm.path is None]") == ['Oboe', True]
    wait_audio_change(page, root, src3)
