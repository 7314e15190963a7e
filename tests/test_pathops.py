"""Path edits (latentplay.paths) and the names of the principal axes (latentplay.maps), on the shipped models."""
import numpy as np
import pytest
import torch

from latentplay.models import pretrained, ProtocolOnly
from latentplay.paths import scale, bias, randomize, reverse, smooth, set_curve, loop, random_walk
from latentplay.maps import along_axes, axis_names, axis_effects, to_axes, from_axes, direction_effect, change_words, CorpusMap


@pytest.fixture(scope='module')
def drums():
    torch.set_num_threads(1)
    return pretrained('gm-drums')


@pytest.fixture(scope='module')
def walk(drums):
    return random_walk(drums.latent_mean, 43, 0.4 * float(drums.latent_scales[0]), seed=2, momentum=0.5)


def test_edits_keep_what_they_should(walk):
    "Each edit changes what it says and nothing else; the input path is never modified."
    w0 = walk.clone()
    assert torch.allclose(scale(walk, 3.0).mean(0), walk.mean(0), atol=1e-5)
    assert torch.equal(scale(walk, 2.0, dims=[1, 2])[:, 3:], walk[:, 3:])
    assert torch.allclose(bias(walk, 0.7, dims=5)[:, 5], walk[:, 5] + 0.7)
    assert torch.equal(reverse(reverse(walk)), walk)
    assert torch.equal(smooth(walk, 0), walk) and torch.equal(randomize(walk, 0), walk)
    s = smooth(walk, 3)
    assert (s.diff(dim=0).norm(dim=-1).mean() < walk.diff(dim=0).norm(dim=-1).mean())
    assert torch.equal(walk, w0)


def test_randomize_is_seeded_and_sized(walk):
    a, b, c = randomize(walk, 0.2, seed=5), randomize(walk, 0.2, seed=5), randomize(walk, 0.2, seed=6)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert abs(float((a - walk).std()) - 0.2) < 0.02


@pytest.mark.parametrize('call, words', [
    (lambda p: scale(p, float('nan')), 'NaN'),
    (lambda p: scale(p, [1.0, 2.0]), 'one per dimension'),
    (lambda p: bias(p, 1.0, dims=64), 'does not exist'),
    (lambda p: randomize(p, -0.1), 'at least 0'),
    (lambda p: randomize(p, 1e4), 'at most'),
    (lambda p: smooth(p, 2, kind='box'), "'gaussian'"),
    (lambda p: set_curve(p, 0, [0.0, 1.0], times=[0.0, 1.5]), '[0, 1]'),
    (lambda p: set_curve(p, 0, []), 'empty'),
    (lambda p: scale(p[0], 2.0), 'p[None]'),
])
def test_bad_input_says_what_to_do(walk, call, words):
    with pytest.raises(ValueError, match=None) as e: call(walk)
    assert words in str(e.value)


def test_along_axes_moves_along_the_principal_axis(drums, walk):
    "A bias of 1 along axis 0 in principal coordinates moves the sound one spread along the model's main direction."
    moved = along_axes(drums, walk, bias, 1.0, dims=0)
    d = to_axes(drums, moved) - to_axes(drums, walk)
    assert torch.allclose(d[:, 0], torch.ones(len(walk)), atol=1e-3) and d[:, 1:].abs().max() < 1e-3
    drawn = along_axes(drums, walk, set_curve, 1, [2.0, -2.0])
    c = to_axes(drums, drawn)[:, 1]
    assert abs(float(c[0]) - 2) < 1e-3 and abs(float(c[-1]) + 2) < 1e-3
    a, b = drums.decode(walk).audio, drums.decode(drawn).audio
    assert np.isfinite(b).all() and not np.allclose(a, b)          # the redrawn curve is heard


def test_axis_names_every_model_kind(drums):
    "The names of the drum model agree with what was measured; a protocol-only model gets names too (through its prior)."
    names = axis_names(drums, 6)
    assert len(names) == 6 and any('→' in n for n in names), names
    for e in axis_effects(drums, 6):
        if e['descriptor'] is None: assert e['name'].startswith('axis')
        else:
            vals, t = np.array(e['values'][e['descriptor']]), np.array(e['t'])
            up = np.corrcoef(np.argsort(np.argsort(t)), np.argsort(np.argsort(vals)))[0, 1] > 0
            assert e['name'] == change_words(e['descriptor'], 1 if up else -1) and (e['rho'] > 0) == up
    fake = ProtocolOnly(pretrained('gm-textures'))
    fn = axis_names(fake, 3, n_points=5)
    assert len(fn) == 3 and all(isinstance(n, str) and n for n in fn)
    assert axis_effects(fake, 3, n_points=5) is axis_effects(fake, 3, n_points=5)   # remembered per model


def test_axis_name_flips_with_the_direction(drums):
    "Walking the same line the other way flips the words: 'louder →' becomes 'softer →'."
    t = np.linspace(-2, 2, 7)
    c = torch.zeros(7, 1); c[:, 0] = torch.from_numpy(t).float()
    Z = from_axes(drums, c)
    fwd, back = direction_effect(drums, Z, t), direction_effect(drums, Z.flip(0), t)
    assert fwd['descriptor'] == back['descriptor'] and fwd['descriptor'] is not None
    assert fwd['words'] != back['words'] and fwd['rho'] == pytest.approx(-back['rho'])


def test_map_axes_named_by_listening(drums, gm_drums):
    cm = CorpusMap(drums, gm_drums[::12])
    plain = cm.axis_label(0, decode=False)
    assert plain == 'main direction 1 of the corpus (spread)'
    named = cm.axis_label(0)
    assert named.startswith(plain)
    e = cm.axis_effect(0)
    assert (named != plain) == (e['descriptor'] is not None)
    assert cm.axis_effect(0) is e
