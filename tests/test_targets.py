"Tests of latentplay.targets: descriptor-targeted synthesis by gradient descent and by the greedy baseline."
import numpy as np
import pytest
import torch

from latentplay.targets import (follow_descriptors, greedy_descriptor_path, resolve_targets, descriptor_error,
                                plot_targets, TargetResult, HOLD)


@pytest.fixture(scope='module')
def model(request):
    """The shipped drum model; without it, a tiny granular model trained for a few steps on a dozen real drum hits
    (too untrained to follow a target, enough to check shapes, counts and errors)."""
    from latentplay.granular import GrainModel
    from latentplay.models import pretrained_names
    if 'gm-drums' in pretrained_names(): return request.getfixturevalue('drums')
    gm_drums = request.getfixturevalue('gm_drums')
    torch.manual_seed(0)
    hits = gm_drums[np.linspace(0, len(gm_drums) - 1, 12).astype(int).tolist()]        # a dozen different hits
    return GrainModel.fit(hits, max_steps=8, hidden=64, latent_dim=8, n_mels=32, embed_dim=8, rnn_hidden=32,
                          progress=False)


SWEEP = {'centroid': [800., 4000.]}


def test_resolve_targets_frames(model):
    tg, T = resolve_targets(model, {'centroid': [500, 6000], 'loudness': -30}, seconds=1.0)
    assert T == round(model.sr / model.hop_length)
    assert tg['centroid'].shape == (T + 1,) and tg['loudness'].shape == (T + 1,)
    assert torch.allclose(tg['centroid'][[0, -1]], torch.tensor([500., 6000.]))
    tg2, T2 = resolve_targets(model, {'rms': np.linspace(.01, .1, 21)})     # per analysis frame
    assert T2 == 20 and tg2['rms'].shape == (21,)


@pytest.mark.parametrize('targets,seconds,words', [
    ({'brightness': 1000.}, 1, 'choose from'),
    ({'f0': 440.}, 1, 'not differentiable'),
    ({'centroid': [500., float('nan'), 900.]}, 1, 'NaN'),
    ({'centroid': 500.}, 0, 'positive'),
    ({'centroid': 500.}, -2, 'positive'),
    ({'centroid': 500.}, None, 'give seconds'),
    ({'centroid': 0.}, 1, 'positive'),
    ({'loudness': 2.}, 1, 'below 0'),
    ({'flatness': 1.5}, 1, '(0, 1]'),
    ({'centroid': [[1., 2.]]}, 1, '1-D'),
    ({}, 1, 'non-empty'),
])
def test_bad_targets(model, targets, seconds, words):
    for f in (follow_descriptors, greedy_descriptor_path):
        with pytest.raises(ValueError) as e: f(model, targets, seconds)
        assert words in str(e.value)


def test_descriptor_error():
    assert descriptor_error(np.array([110., 95, 100]), np.full(3, 100.)) == pytest.approx(0.05)
    e = descriptor_error({'a': [2., 2.]}, {'a': [1., 1.]})
    assert e == {'a': 1.0, 'overall': 1.0}


def test_error_decreases_with_iterations(model):
    if not hasattr(model, 'source'): pytest.skip("needs the shipped gm-drums model (a model that has learned something)")
    r = follow_descriptors(model, SWEEP, seconds=0.5, n_iter=12, tol=None, init=model.latent_mean)
    errs = [h['error'] for h in r.history]
    assert len(errs) == 13 and max(errs[-3:]) < 0.5 * errs[0]
    assert r.error['overall'] < 0.5 * errs[0]                  # the best path is kept and decoded


def test_result_shapes_and_counts(model):
    r = follow_descriptors(model, {'centroid': [800., 4000.], 'loudness': -35.}, seconds=0.5, n_iter=3, tol=None)
    T = round(0.5 * model.sr / model.hop_length)
    assert isinstance(r, TargetResult) and r.method == 'gradient'
    assert r.z.shape == (T, model.latent_dim) and len(r.sound) == T * model.hop_length and r.sound.sr == model.sr
    assert set(r.achieved) == set(r.target) == {'centroid', 'loudness'}
    assert all(v.shape == (T + 1,) for v in (*r.achieved.values(), *r.target.values()))
    assert set(r.error) == {'centroid', 'loudness', 'overall'} and all(np.isfinite(list(r.error.values())))
    assert r.decoder_calls == 64 * HOLD + T * len(r.history) + T
    assert np.isfinite(r.sound.audio).all() and torch.isfinite(r.z).all()
    assert [h['iteration'] for h in r.history] == [0, 1, 2, 3] and r.seconds > 0
    assert 'gradient' in repr(r)


def test_gradient_budget_and_init(model):
    T = round(0.5 * model.sr / model.hop_length)
    r = follow_descriptors(model, SWEEP, seconds=0.5, budget=64 * HOLD + 4 * T, tol=None)
    assert r.decoder_calls <= 64 * HOLD + 4 * T
    with pytest.raises(ValueError, match='too small'): follow_descriptors(model, SWEEP, seconds=0.5, budget=10)
    r2 = follow_descriptors(model, SWEEP, seconds=0.5, init=model.latent_mean, n_iter=2, tol=None)
    assert r2.decoder_calls == 3 * T + T
    with pytest.raises(ValueError, match='NaN'):
        follow_descriptors(model, SWEEP, seconds=0.5, init=torch.full((model.latent_dim,), float('nan')))


def test_greedy_runs_and_respects_budget(model):
    T = round(0.5 * model.sr / model.hop_length)
    g = greedy_descriptor_path(model, SWEEP, seconds=0.5, n_neighbours=4)
    assert g.method == 'greedy' and g.z.shape == (T, model.latent_dim) and len(g.sound) == T * model.hop_length
    assert g.decoder_calls == HOLD + T * 4 * HOLD + T and len(g.history) == T
    assert np.isfinite(g.sound.audio).all()
    b = greedy_descriptor_path(model, SWEEP, seconds=0.5, n_neighbours=16, budget=3 * T * HOLD + T + HOLD)
    assert b.decoder_calls <= 3 * T * HOLD + T + HOLD
    with pytest.raises(ValueError, match='too small'): greedy_descriptor_path(model, SWEEP, seconds=0.5, budget=T)
    with pytest.raises(ValueError, match='positive'): greedy_descriptor_path(model, SWEEP, seconds=0.5, radius=-1)
    same = greedy_descriptor_path(model, SWEEP, seconds=0.5, n_neighbours=4)
    assert torch.equal(same.z, g.z)                                        # seeded


from conftest import BareModel as DecodeOnly   # the protocol without a differentiable renderer


def test_model_without_render(model):
    with pytest.raises(ValueError, match='greedy_descriptor_path'): follow_descriptors(DecodeOnly(model), SWEEP, 0.5)
    g = greedy_descriptor_path(DecodeOnly(model), SWEEP, seconds=0.2, n_neighbours=2)
    assert np.isfinite(g.sound.audio).all() and g.z.shape[-1] == model.latent_dim


def test_silent_targets_never_nan(model):
    r = follow_descriptors(model, {'loudness': -90., 'flatness': 0.5}, seconds=0.3, n_iter=3, tol=None)
    assert np.isfinite(r.sound.audio).all() and torch.isfinite(r.z).all()


def test_plot(model):
    import matplotlib
    matplotlib.use('Agg')
    r = follow_descriptors(model, {'centroid': [800., 4000.], 'loudness': -35.}, seconds=0.3, n_iter=1)
    fig = plot_targets(r, r, labels=['a', 'b'])
    assert len(fig.axes) == 2
    with pytest.raises(ValueError): plot_targets()
