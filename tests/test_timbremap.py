"""The timbre map driven by scripts and by what the page sends (the browser tests are in test_browser_timbremap.py):
the layout against the ratings, clicks and drags as the mouse sends them, undo, the static twin and bad input, with
the shipped timbre space and a small 2-D space."""
import numpy as np
import pytest
import torch

from latentplay.models import pretrained, CapabilityError
from latentplay.widgets import PEN_SECONDS
from latentplay.soundfont import timbre_ratings, classical_mds
from latentplay.timbre import TimbreSpace, perceptual_fit
from latentplay.timbremap import (timbre_map, timbre_layout, timbre_plane, procrustes, morph_sound, TimbreMap,
                                  TimbreSnapshot, DOT_PIXELS, GLIDE_POINTS)


@pytest.fixture(scope='module')
def space():
    torch.set_num_threads(1)
    return pretrained('gm-notes-timbre')


@pytest.fixture
def tm(space):
    return timbre_map(space, threaded=False, autoplay=False, seconds=0.4, steps=3)


def units(tm):
    "Map units per screen pixel, as the page sends them."
    f = tm.figure
    return (f.x_range.end - f.x_range.start) / 400, (f.y_range.end - f.y_range.start) / 380


def empty_spot(tm):
    "A plane position far from every dot."
    dots = np.array(list(tm.map.model_xy.values()))
    x0, x1, y0, y1 = tm.map.extent()
    g = np.stack(np.meshgrid(np.linspace(x0, x1, 30)[3:-3], np.linspace(y0, y1, 30)[3:-3]), -1).reshape(-1, 2)
    return tuple(g[np.argmax(np.min(np.linalg.norm(g[:, None] - dots[None], axis=-1), 1))])


def test_the_map_shows_model_and_ratings(space, tm):
    L = tm.map
    assert list(L.model_xy) == space.instruments and sorted(L.rated_xy) == sorted(timbre_ratings()['instruments'])
    fit = perceptual_fit(space.instrument_points(), permutations=999)
    assert L.fit['spearman'] == pytest.approx(fit['spearman']) and L.fit['spearman'] > 0.8
    assert f"Spearman {fit['spearman']:.2f}" in tm.legend.value                 # the correlation is on the map
    # the rated points are the ratings' MDS, moved, turned and scaled onto the model's points: their distances scale as one
    r = timbre_ratings()
    X = np.stack([L.rated_xy[n] for n in r['instruments']]); M = classical_mds(r['matrix'], 2)
    d = lambda P: np.sqrt(((P[:, None] - P[None]) ** 2).sum(-1))[np.triu_indices(12, 1)]
    assert np.allclose(d(X) / d(M), (d(X) / d(M)).mean(), rtol=1e-9)
    Y = np.stack([L.model_xy[n] for n in r['instruments']])
    assert np.sum((Y - X) ** 2) <= np.sum((Y - Y.mean(0) - (M - M.mean(0)) * np.std(Y) / np.std(M)) ** 2) + 1e-9
    # the page holds these points
    assert np.allclose(np.c_[tm.points.data['x'], tm.points.data['y']], np.stack(list(L.model_xy.values())))


def test_clicks_as_the_page_sends_them(space, tm):
    ux, uy = units(tm)
    x, y = empty_spot(tm)
    tm.tap_source.data = dict(x=[x], y=[y], n=[1], ux=[ux], uy=[uy])
    assert tm.gesture['kind'] == 'point' and tm.xy == (x, y)
    assert torch.allclose(tm.point, tm.map.plane.point(x, y))
    assert np.array_equal(tm.sound.audio, space.decode(tm.point, pitch=60, seconds=0.4).audio)
    assert tm.mark_source.data == dict(x=[x], y=[y])
    tm.tap_source.data = dict(x=[x], y=[y], n=[1], ux=[ux], uy=[uy])              # the same click sent twice: one gesture
    assert tm.renders == 1
    fx, fy = tm.map.model_xy['Oboe']                                               # a few pixels from the oboe's dot: the oboe itself
    tm.tap_source.data = dict(x=[fx + (DOT_PIXELS - 2) * ux], y=[fy], n=[2], ux=[ux], uy=[uy])
    assert tm.gesture['name'] == 'Oboe' and torch.allclose(tm.point, space.point_of('Oboe'))
    assert np.array_equal(tm.sound.audio, space.decode(space.point_of('Oboe'), pitch=60, seconds=0.4).audio)


def test_a_drag_is_a_morph(space, tm):
    ux, uy = units(tm)
    (ax, ay), (bx, by) = tm.map.model_xy['Cello'], tm.map.model_xy['Trumpet']
    t = np.linspace(0, 1, 15)
    tm.drawn_source.data = dict(x=list(ax + 3 * ux + t * (bx - ax)), y=list(ay + t * (by - ay) - 2 * uy), t=list(t * 600))
    assert tm.gesture['kind'] == 'morph' and tm.gesture['name'] == 'Cello to Trumpet'
    assert np.allclose(tm.sound.audio, morph_sound(space, 'Cello', 'Trumpet', 3, 'linear', 60, 0.4).audio, atol=1e-6)
    assert tm.sound.duration == pytest.approx(1.2, abs=1e-3)
    q = np.c_[tm.path_source.data['x'], tm.path_source.data['y']]                  # the way is drawn from dot to dot
    assert len(q) == 3 and np.allclose(q[0], (ax, ay), atol=1e-5) and np.allclose(q[-1], (bx, by), atol=1e-5)
    x, y = empty_spot(tm)                                                          # ends away from the dots: the plane's points
    tm.drag([[x, y], [bx, by]], ux, uy)
    assert torch.allclose(tm.path[0], tm.map.plane.point(x, y), atol=1e-6) and torch.allclose(tm.path[-1], space.point_of('Trumpet'))
    assert tm.gesture['name'] == f'the point ({x:.2f}, {y:.2f}) to Trumpet'
    tm.set(steps=4, mode='spherical')                                              # settings play the last gesture again
    assert tm.gesture['steps'] == 4 and tm.gesture['mode'] == 'spherical' and len(tm.path) == 4
    n, g = len(tm._history), tm.gesture
    tm.moves_source.data = dict(x=[0.1], y=[0.2], n=[5])                           # the pen moving: its point plays, looped
    assert tm.player.synth.loop and tm.sound.duration == pytest.approx(PEN_SECONDS, abs=1e-3)
    assert np.array_equal(tm.sound.audio, space.decode(tm.map.plane.point(0.1, 0.2), seconds=PEN_SECONDS).audio)
    assert len(tm._history) == n and tm.gesture == g and 'under the pen' in tm.status.value
    tm.set(glide=True)                                                             # one note whose timbre glides
    assert tm.gesture['glide'] and len(tm.path) == GLIDE_POINTS and tm.sound.duration == pytest.approx(4 * 0.4, abs=1e-3)
    assert np.allclose(tm.sound.audio, space.decode(tm.path, pitch=60, seconds=1.6).audio, atol=1e-6)
    with pytest.raises(ValueError, match='at least 2'): tm.drag([[0.0, 0.0]])
    with pytest.raises(ValueError, match='at least 2'): tm.drag([[0.0, float('nan')], [1.0, 1.0]])


def test_undo_and_settings(space, tm):
    tm.play('Flute'); tm.play_at(0.1, -0.2); tm.morph('Piano', {'Violin': 0.5, 'Cello': 0.5})
    assert len(tm._history) == 3
    tm.set(pitch=72)                                                               # not an edit
    assert len(tm._history) == 3 and tm.gesture['pitch'] == 72 and tm.note_label.value == '<b>C5</b>'
    tm.undo()
    assert tm.xy == (0.1, -0.2) and tm.gesture['pitch'] == 60 and tm.path_source.data == dict(x=[], y=[])
    tm.undo()
    assert tm.gesture['name'] == 'Flute' and torch.allclose(tm.point, space.point_of('Flute'))
    tm.undo()
    assert tm.sound is None and tm.gesture is None and tm.player.layout.display == 'none'
    tm.undo()
    assert 'nothing to undo' in tm.status.value
    with pytest.raises(ValueError, match='outside the keys'): tm.set(pitch=120)
    with pytest.raises(ValueError, match='seconds'): tm.set(seconds=0)
    with pytest.raises(ValueError, match='unknown mode'): tm.set(mode='wobbly')
    assert tm.pitch == 72 and tm.seconds == 0.4                                    # a bad value changes nothing


def test_colour_behind(space, tm):
    assert not tm.image.visible
    tm.recolor('centroid')
    g = tm.image_source.data['image'][0]
    assert tm.image.visible and g.shape == (32, 32) and np.isfinite(g).all()
    assert tm.mapper.low == pytest.approx(g.min()) and tm.mapper.high == pytest.approx(g.max())
    tm.set(pitch=84)                                                               # the colour follows the pitch
    assert not np.allclose(tm.image_source.data['image'][0], g) and 'C6' in tm.colorbar.title
    with pytest.raises(ValueError, match='colour is one of'): tm.recolor('sparkle')


def test_the_static_twin(space, tm, tmp_path):
    tm.set(pitch=62).morph('Flute', 'Oboe')
    snap = tm.snapshot()
    assert isinstance(snap, TimbreSnapshot)
    h = snap._repr_html_()
    assert h.count('<audio') == 12 + 1 and h.count('<img') == 2 and 'D4' in h and 'Flute to Oboe' in h
    p = snap.save(tmp_path / 'map.html')
    assert p.read_text().startswith('<!doctype html>') and p.stat().st_size < 400_000
    assert timbre_map(space, threaded=False).snapshot(players=False)._repr_html_().count('<audio') == 0


def test_instruments_it_never_heard(space, gm_notes):
    notes = gm_notes[::3]
    tm = timbre_map(space, notes, threaded=False, autoplay=False, seconds=0.3)
    unheard = set(notes.classes_of('instrument')) - set(space.instruments)
    assert set(tm.map.projected) == unheard and len(tm.projected_source.data['x']) == len(unheard)
    hx, hy = tm.map.projected_xy['Harp']
    tm.tap(hx, hy)                                                                 # a click on a placed instrument plays its point
    assert tm.gesture['name'] == 'Harp' and torch.allclose(tm.point, tm.map.projected['Harp'])
    tm.morph('Harp', 'Flute', steps=2)
    assert torch.allclose(tm.path[0], tm.map.projected['Harp'])


def test_a_two_dimensional_space_is_shown_as_it_is():
    torch.manual_seed(0)
    names = timbre_ratings()['instruments']
    m = TimbreSpace(latent_dim=2, hidden=16, layers=1, low=40, high=80, instruments=names).eval()
    Z = torch.tensor(classical_mds(timbre_ratings()['matrix'], 2), dtype=torch.float32)
    m.centroids.copy_(Z)
    pl = timbre_plane(m)
    assert torch.equal(pl.axes, torch.eye(2)) and torch.equal(pl.origin, torch.zeros(2))
    L = timbre_layout(m)
    assert np.allclose(np.stack(list(L.model_xy.values())), Z.numpy(), atol=1e-6)
    assert L.residual == pytest.approx(0, abs=1e-9)                                # the model *is* the ratings' map
    tm = timbre_map(m, threaded=False, autoplay=False, seconds=0.2)
    tm.play_at(0.5, -0.5)
    assert torch.allclose(tm.point, torch.tensor([0.5, -0.5])) and np.isfinite(tm.sound.audio).all()
    m2 = TimbreSpace(latent_dim=2, hidden=16, layers=1, instruments=['Harp', 'Tuba', 'Choir'])   # untrained, none rated
    L2 = timbre_layout(m2)
    assert L2.fit is None and not L2.rated_xy and 'fewer than 3 rated' in L2.caption()


def test_bad_input(space, tm):
    with pytest.raises(CapabilityError, match='no timbre space'): timbre_map(pretrained('gm-drums'))
    with pytest.raises(TypeError, match='latentplay model'): timbre_map(object())
    with pytest.raises(ValueError, match="unknown instrument 'Kazoo'"): tm.play('Kazoo')
    with pytest.raises(ValueError, match="unknown instrument 'Kazoo'"): tm.morph('Flute', 'Kazoo')
    with pytest.raises(ValueError, match='finite'): tm.play_at(float('nan'), 0)
    with pytest.raises(ValueError, match='colour is one of'): timbre_map(space, color='sparkle')
    with pytest.raises(ValueError, match='one shape'): procrustes(np.zeros((3, 2)), np.zeros((4, 2)))
    assert tm.renders == 0 and tm.error is None
