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


# --- models that decode magnitudes (capability `magnitudes`): the timbre space and the note model ---

@pytest.fixture(scope='module')
def space():
    from latentplay.models import pretrained
    return pretrained('gm-notes-timbre')


@pytest.fixture(scope='module')
def notes_model():
    from latentplay.models import pretrained
    return pretrained('gm-techniques-notes')


def _f0_key(sound):
    from latentplay.features import f0_yin
    f0, per = f0_yin(sound.audio, sound.sr)
    return 69 + 12 * np.log2(np.median(f0[per > 0.5].numpy()) / 440)


def test_magnitude_descriptors_match_audio(notes_model, gm_notes):
    from latentplay.targets import magnitude_descriptors, N_FFT
    from latentplay.features import descriptors
    sp = notes_model.spectral
    for s in gm_notes.filter(instrument=['Violin', 'Flute', 'Trumpet'], velocity=[85]).sounds[:6]:
        x = torch.from_numpy(s.audio[:notes_model.length])
        md = magnitude_descriptors(sp(x), sp, ['centroid', 'bandwidth', 'loudness'])
        ad = descriptors(x, sp.sr, N_FFT, sp.hop_length, names=['centroid', 'bandwidth', 'loudness'])
        on = ad['loudness'] > ad['loudness'].max() - 30
        assert descriptor_error(md['centroid'][on], ad['centroid'][on]) < 0.05
        assert descriptor_error(md['bandwidth'][on], ad['bandwidth'][on]) < 0.1
        assert (md['loudness'][on] - ad['loudness'][on]).abs().median() < 1.5
    M = sp(torch.from_numpy(gm_notes[0].audio)).requires_grad_()
    magnitude_descriptors(M, sp, 'centroid')['centroid'].mean().backward()
    assert torch.isfinite(M.grad).all() and M.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='choose from'): magnitude_descriptors(M, sp, ['zcr'])


def test_timbre_path_follows_rising_brightness(space):
    from latentplay.models import can
    assert can(space, 'magnitudes') and not can(space, 'render')
    rise = {'centroid': np.geomspace(600, 1600, 12)}
    r = follow_descriptors(space, rise, seconds=1.0, conditions={'pitch': 60}, n_iter=60)
    start = follow_descriptors(space, rise, seconds=1.0, conditions={'pitch': 60}, n_iter=0)
    T = round(space.sr / space.spectral.hop_length)
    assert r.z.shape == (T + 1, space.latent_dim) and len(r.sound) == T * space.spectral.hop_length
    assert r.achieved['centroid'].shape == r.target['centroid'].shape == (T + 1,)
    on = slice(4, -4)
    assert np.corrcoef(np.log(r.achieved['centroid'][on]), np.log(r.target['centroid'][on]))[0, 1] > 0.9
    assert r.error['centroid'] < min(0.12, start.error['centroid'])
    assert np.isfinite(r.sound.audio).all() and torch.isfinite(r.z).all()
    assert r.conditions == {'pitch': 60} and abs(_f0_key(r.sound) - 60) < 0.5      # the pitch held
    low = follow_descriptors(space, rise, seconds=1.0, conditions={'pitch': 48}, n_iter=5)
    assert abs(_f0_key(low.sound) - 48) < 0.5
    with pytest.raises(ValueError, match='outside'): follow_descriptors(space, rise, seconds=1.0, conditions={'pitch': 120})
    with pytest.raises(ValueError, match='follow_descriptors'): greedy_descriptor_path(space, rise, seconds=1.0)


def test_note_model_follows_through_its_point(notes_model):
    nm, cond = notes_model, dict(pitch=60, instrument='Violin', style='arco')
    r = follow_descriptors(nm, {'loudness': -22.0, 'centroid': 1250.0}, conditions=cond, n_iter=20)
    assert r.z.shape == (1, nm.latent_dim) and len(r.sound) == nm.length
    assert r.target['loudness'].shape == (88,) == r.achieved['loudness'].shape
    assert r.history[-1]['error'] <= r.history[0]['error'] and np.isfinite(r.sound.audio).all()
    assert np.allclose(r.sound.audio, nm.decode(r.z, **cond).audio, atol=1e-5)      # decoded under the conditions
    curve = follow_descriptors(nm, {'loudness': np.linspace(-20, -30, 10)}, conditions=cond, n_iter=2)
    assert curve.target['loudness'][0] == -20 and curve.target['loudness'][-1] == -30
    with pytest.raises(ValueError, match='leave seconds=None'): follow_descriptors(nm, {'loudness': -22.}, 3.0, conditions=cond)
    with pytest.raises(ValueError, match='unknown instrument'):
        follow_descriptors(nm, {'loudness': -22.}, conditions={**cond, 'instrument': 'Kazoo'})
    with pytest.raises(ValueError, match='render_magnitudes'): follow_descriptors(DecodeOnly(nm), {'loudness': -22.})


def test_conditions_refused_for_render_models(model):
    with pytest.raises(ValueError, match='conditions='): follow_descriptors(model, SWEEP, 0.3, conditions={'pitch': 60})


def test_code_words_follow_without_a_search():
    "A model of code words (the shipped violin VQTimbre) follows a brightness curve by picking code words; its widget offers it."
    import latentplay as lp
    from latentplay.targets import code_descriptor_path
    from latentplay.widgets import descriptor_target
    violin = lp.pretrained('gm-violin-vq')
    res = code_descriptor_path(violin, {'centroid': [1000, 3000]}, seconds=1.0, switch=0.05)
    assert res.method == 'codes' and res.error['centroid'] < 0.2 and np.isfinite(res.sound.audio).all()
    assert np.corrcoef(res.achieved['centroid'], res.target['centroid'])[0, 1] > 0.8
    w = descriptor_target(violin, seconds=1.0, threaded=False, autoplay=False)
    assert w.method == 'codes' and list(w.method_buttons.options) == ['gradient', 'greedy', 'codes']
    w.set_target('centroid', [800, 2500]); w.synthesize(seed=0)
    assert w.result.method == 'codes' and w.sound is not None
    with pytest.raises(ValueError, match="one of \\['gradient', 'greedy'\\]"):
        descriptor_target(lp.pretrained('gm-drums'), method='codes', threaded=False)
