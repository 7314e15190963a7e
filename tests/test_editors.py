"""The path editor and the blend pad driven by scripts: state, sound, undo, bad input (real shipped models)."""
import numpy as np
import pytest
import torch

from latentplay.models import pretrained
from latentplay.maps import latent_steps, to_axes
from latentplay.editors import path_editor, blend_pad, source_path, blend_weights, PathEditor, BlendPad
from latentplay.widgets import sliders, Snapshot


@pytest.fixture(scope='module')
def drums():
    torch.set_num_threads(1)
    return pretrained('gm-drums')


@pytest.fixture
def ed(drums, gm_drums):
    snare = [s for s in gm_drums if s.meta.get('label') == 'snare'][0]
    return path_editor(drums, snare, threaded=False, names=False)


def audio(w): return w.sound.audio.copy()


def test_every_edit_changes_the_sound_and_undo_takes_it_back(ed):
    a0, p0 = audio(ed), ed.path
    steps = [lambda: ed.scale(2.0, axis=0), lambda: ed.bias(1.0, axis=1), lambda: ed.randomize(0.5),
             lambda: ed.smooth(3), lambda: ed.reverse(), lambda: ed.draw(0, [[0.0, 2.0], [0.2, -2.0]]), lambda: ed.loop()]
    sounds, paths = [a0], [p0]
    for step in steps:
        step()
        assert ed.rendered is not None and torch.equal(ed.rendered, ed.path)    # the sound is of the path shown
        a = audio(ed)
        assert np.isfinite(a).all() and not (len(a) == len(sounds[-1]) and np.allclose(a, sounds[-1])), step
        sounds.append(a); paths.append(ed.path)
    assert len(sounds[-1]) > len(sounds[-2])                                  # the loop made it longer
    for k in range(len(steps) - 1, -1, -1):                                   # undo all the way back
        ed.undo()
        assert torch.equal(ed.path, paths[k])
        assert np.allclose(audio(ed), sounds[k], atol=1e-6)
    ed.undo()                                                                 # nothing left: says so, changes nothing
    assert 'nothing to undo' in ed.status.value and torch.equal(ed.path, p0)


def test_the_curves_show_the_path(ed):
    ed.draw(1, [0.0, 2.5, 0.0])
    c = to_axes(ed.model, ed.path)[:, :ed.k].numpy()
    for i, src in enumerate(ed.curves): assert np.allclose(src.data['y'], c[:, i], atol=1e-5)
    assert abs(max(ed.curves[1].data['y']) - 2.5) < 0.1
    assert ed.figures[0].x_range.end == pytest.approx((len(c) - 1) * ed.step_seconds)


def test_buttons_are_the_methods(ed):
    "A click on a button with its box does what the method does; a bad box value is an error line and no edit."
    ref = path_editor(ed.model, ed.path, threaded=False, names=False)
    buttons = {c._dom_classes[0]: c for row in ed._toolbar.children[1:] for c in row.children if hasattr(c, 'on_click')}
    assert set(buttons) == {'lp-scale', 'lp-bias', 'lp-randomize', 'lp-smooth', 'lp-reverse', 'lp-loop'}
    assert ed.axis_picker.value == -1 and ed.axis_picker.label == 'all axes'
    ed.axis_picker.value = 2
    ed.amounts['scale'].value = 0.5
    buttons['lp-scale'].click()
    ref.scale(0.5, axis=2)
    assert torch.allclose(ed.path, ref.path, atol=1e-6)
    n = len(ed._history)
    ed.amounts['smooth'].value = -3.0
    buttons['lp-smooth'].click()
    assert 'width must be at least 0' in ed.status.value and len(ed._history) == n


def test_sources(drums):
    w = sliders(drums, threaded=False, seconds=0.5)
    w.set(coords=[1.0, -1.0])
    e = path_editor(drums, w, threaded=False, names=False)
    assert torch.allclose(e.path, w.path) and e.sound.duration == pytest.approx(w.sound.duration, abs=1e-3)
    e2 = path_editor(drums, e, threaded=False, names=False)
    e2.bias(0.5)                                                           # (a held point: scaling about its mean moves nothing)
    assert not torch.allclose(e2.path, e.path)                             # a copy: editing one leaves the other
    assert torch.allclose(e.path, w.path)
    with pytest.raises(ValueError, match='64'): path_editor(drums, torch.zeros(10, 8), threaded=False)
    with pytest.raises(ValueError, match='NaN'): path_editor(drums, torch.full((10, 64), float('nan')), threaded=False)
    with pytest.raises(ValueError, match='principal axis'): e.draw(-1, [0.0])
    assert isinstance(e.snapshot(), Snapshot) and '<img' in e.snapshot()._repr_html_()


def test_pad_blends_and_strokes(drums):
    T = latent_steps(drums, 0.5)
    corners = [drums.prior(1, seed=k)[0].expand(T, -1).clone() for k in range(4)]
    corners[3] = corners[3][:T // 2]                                         # one shorter corner: resampled to one length
    pad = blend_pad(drums, *corners, threaded=False)
    assert pad.corners.shape == (4, T, 64)
    a_mid = audio(pad)
    assert torch.allclose(pad.path, pad.corners.mean(0), atol=1e-5)       # it starts at the centre
    for k, (x, y) in enumerate([(0, 1), (1, 1), (0, 0), (1, 0)]):
        pad.at(x, y)
        assert torch.allclose(pad.path, pad.corners[k], atol=1e-6)
        assert np.allclose(audio(pad), drums.decode(pad.corners[k]).audio, atol=1e-6)
    pad.stroke([[0.0, 1.0, 0], [1.0, 0.0, 500]])
    w = pad.weights
    assert w.shape == (T, 4) and np.allclose(w.sum(1), 1) and w[0, 0] == 1 and w[-1, 3] == 1
    assert (np.diff(w[:, 0]) <= 1e-9).all()                                  # a fades out as the stroke leaves it
    s = audio(pad)
    pad.undo(); pad.undo()
    assert pad.xy == (0, 0) or pad.xy == (0.0, 0.0)
    assert np.allclose(audio(pad), drums.decode(pad.corners[2]).audio, atol=1e-6)
    assert not np.allclose(s, a_mid)
    for bad, words in [((1.5, 0.5), 'at most 1'), ((float('nan'), 0.5), 'finite')]:
        with pytest.raises(ValueError, match=words): pad.at(*bad)
    with pytest.raises(ValueError, match='at least 2 points'): pad.stroke([[0.1, 0.1]])
    with pytest.raises(ValueError, match=r'\[0, 1\]'): pad.stroke([[0.1, 0.1], [0.5, 1.7]])
    assert np.allclose(blend_weights(0.25, 0.5), [0.375, 0.125, 0.375, 0.125])
    assert isinstance(pad.snapshot(), Snapshot)
