"""`TimbreSpace` (latentplay.timbre): training with and without the perceptual regulariser, the protocol, checkpoints,
the widgets, and bad input. Tiny models on the real `gm-notes` notes."""
import warnings
import numpy as np
import pytest
import torch

from conftest import tiny_grain_model
from latentplay.models import check_protocol, capabilities, load_model, ProtocolOnly
from latentplay.sound import Sound
from latentplay.train import CheckpointError
from latentplay.timbre import TimbreSpace, perceptual_fit, rated_instruments, split_notes, neighbour_probabilities, perceptual_loss

TINY = dict(latent_dim=8, hidden=64, layers=2)


@pytest.fixture(scope='module')
def pair(gm_notes):
    "The same tiny model trained for the same steps without and with the regulariser."
    torch.set_num_threads(1)
    plain = TimbreSpace.fit(gm_notes, max_steps=240, regularise=False, progress=False, **TINY)
    space = TimbreSpace.fit(gm_notes, max_steps=240, regularise=True, progress=False, **TINY)
    return plain, space


def test_the_regulariser_pulls_the_space_towards_the_ratings(pair, gm_notes):
    plain, space = pair
    assert space.info['steps'] == {'plain': 120, 'perceptual': 120} and plain.info['steps'] == {'plain': 240}
    reg = [h['perceptual'] for h in space.history if h.get('stage') == 'perceptual']
    assert np.mean(reg[-20:]) < 0.5 * np.mean(reg[:5])                     # the loss term falls as it trains
    fp, fr = plain.perceptual_fit(permutations=199), space.perceptual_fit(permutations=199)
    assert fr['n'] == 12 and fr['spearman'] > fp['spearman'] + 0.3 and fr['mantel_p'] < 0.05
    held = perceptual_fit(space.project(gm_notes, indices=space.info['held_out']), permutations=199)
    assert held['spearman'] > 0.5                                          # notes it never trained on land where they should


def test_the_normalisations_agree():
    "Both sides go through the same normalisation: proportional distances cost nothing, others do."
    Z = torch.randn(6, 3)
    D = torch.cdist(Z, Z)
    assert perceptual_loss(7.0 * Z, neighbour_probabilities(D)) < 1e-5
    P = neighbour_probabilities(D)
    assert abs(P.sum().item() - 1) < 1e-6 and P.diag().abs().sum() == 0 and torch.allclose(P, P.T)
    assert perceptual_loss(torch.randn(6, 3), P) > 1e-3


def test_it_follows_the_protocol(pair, gm_notes):
    space = pair[1]
    assert check_protocol(space) is space and space.hop_length is None and space.sr == gm_notes.sr
    assert {'embed', 'morph', 'axes'} <= set(capabilities(space))
    assert space.conditions['instrument'] == rated_instruments(gm_notes) and space.decode_conditions == {'pitch': (space.low, space.high)}
    z = space.encode(gm_notes[0])
    assert z.shape == (1, space.latent_dim) and space.prior(5).shape == (5, space.latent_dim)
    for s in (space.decode(z), ProtocolOnly(space).decode(z[0]), space.decode(z, pitch=62.5, seconds=0.3, inversion='griffin-lim')):
        assert isinstance(s, Sound) and s.sr == space.sr and np.isfinite(s.audio).all() and s.rms > 0
    assert abs(space.decode(z, seconds=0.3).duration - 0.3) < 1e-3


def test_processes(pair, gm_notes):
    space = pair[1]
    pts = space.instrument_points()
    assert list(pts) == space.instruments and all(torch.isfinite(p).all() for p in pts.values())
    notes = space.morph('Flute', gm_notes[5], steps=3, mode='spherical', seconds=0.2)
    assert len(notes) == 3 and all(np.isfinite(n.audio).all() for n in notes)
    unseen = [c for c in gm_notes.classes_of('instrument') if c not in space.instruments]
    placed = space.project(gm_notes, instruments=unseen)
    assert len(placed) == 9 and all(torch.isfinite(p).all() for p in placed.values())
    dm = space.descriptor_map(plane=(0, 2), descriptor='flatness', n=6)
    assert dm.values.shape == (6, 6) and np.isfinite(dm.values).all() and set(dm.points) == set(space.instruments)
    assert np.isfinite(space.sound_at_plane(1.0, -1.0, seconds=0.2).audio).all()


def test_save_load_round_trip(pair, gm_notes, tmp_path):
    space = pair[1]
    back = load_model(space.save(tmp_path / 'space.lp'), kind='timbre')
    assert back.instruments == space.instruments and (back.low, back.high) == (space.low, space.high)
    z = space.encode(gm_notes[7])
    assert torch.equal(back.encode(gm_notes[7]), z)
    assert np.array_equal(back.decode(z, seconds=0.3).audio, space.decode(z, seconds=0.3).audio)
    with pytest.raises(CheckpointError, match='timbre'):
        load_model(tmp_path / 'space.lp', kind='grains')
    tiny_grain_model(22050).save(tmp_path / 'grains.lp')
    with pytest.raises(CheckpointError, match='grains'):
        load_model(tmp_path / 'grains.lp', kind='timbre')


def test_the_widgets_play_it(pair):
    from latentplay.widgets import sliders
    w = sliders(pair[1], threaded=False, autoplay=False).set(coords=[1.0, -0.5], seconds=0.5)
    assert w.sound.sr == pair[1].sr and np.isfinite(w.sound.audio).all() and w.sound.rms > 0


def test_bad_input_is_refused_clearly(pair, gm_notes):
    space = pair[1]
    z = space.prior(1)
    with pytest.raises(ValueError, match="unknown instrument 'Kazoo'"): space.morph('Kazoo', 'Flute')
    with pytest.raises(ValueError, match='outside the keys this model was trained on'): space.decode(z, pitch=space.high + 1)
    with pytest.raises(ValueError, match='pitch must be a MIDI key'): space.decode(z, pitch=float('nan'))
    with pytest.raises(ValueError, match='NaN'): space.decode(torch.full((space.latent_dim,), float('nan')))
    with pytest.raises(ValueError, match='latents must be shaped'): space.decode(torch.zeros(3))
    with pytest.raises(ValueError, match='one point or a path'): space.decode(space.prior(4).reshape(2, 2, -1))
    assert len(space.decode(space.prior(2)).audio) == space.spectral.hop_length            # a path: one frame per point
    with pytest.raises(ValueError, match='needs at least'): space.encode(gm_notes[0].slice(0, 0.02))
    with pytest.raises(ValueError, match='silent'): space.encode(Sound(np.zeros(22050, np.float32), 22050))
    with pytest.raises(ValueError, match='inversion must be'): space.decode(z, inversion='magic')
    with pytest.raises(ValueError, match='unknown descriptor'): space.descriptor_map(descriptor='sparkle')
    with pytest.raises(ValueError, match='finite number'): space.sound_at_plane(float('nan'), 0.0)
    with pytest.raises(ValueError, match="unknown instrument 'Kazoo'"):
        TimbreSpace.fit(gm_notes, max_steps=1, instruments=['Flute', 'Kazoo'], progress=False)
    with pytest.raises(ValueError, match='regularise=False'):
        TimbreSpace.fit(gm_notes, max_steps=1, instruments=['Flute', 'Harp'], progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        s = space.decode(z, pitch=space.low, seconds=0.2)                   # the lowest key it knows: fine
    assert np.isfinite(s.audio).all()


def test_split_is_fixed_and_disjoint(gm_notes):
    tr, te = split_notes(gm_notes, rated_instruments(gm_notes))
    assert not set(tr) & set(te) and len(te) * 4 <= len(tr) and split_notes(gm_notes, rated_instruments(gm_notes)) == (tr, te)


def test_it_trains_in_the_background(gm_notes, tmp_path):
    job = TimbreSpace.fit(gm_notes, max_steps=20, background=True, checkpoint=tmp_path / 't.lp', **TINY)
    m = job.wait(120)
    assert job.status == 'finished' and m.info['steps'] == {'plain': 10, 'perceptual': 10}
    assert np.isfinite(job.model.decode(job.model.prior(1), seconds=0.2).audio).all()
    again = TimbreSpace.fit(gm_notes, max_steps=20, checkpoint=tmp_path / 't.lp', resume=True)   # a finished file: returned as it is
    assert torch.equal(again.centroids, m.centroids)


def test_cli_trains_and_generates_timbre(tmp_path):
    "`latentplay train builtin:gm-notes --model timbre` and `generate --instrument (mixture) --pitch`; a --style is refused."
    import subprocess, sys
    run = lambda *a: subprocess.run([sys.executable, '-m', 'latentplay.cli', *map(str, a)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    r = run('train', 'builtin:gm-notes', '--model', 'timbre', '--max-steps', 10, '--out', 't.lp')
    assert r.returncode == 0, r.stderr[-2000:]
    r = run('generate', 't.lp', '--instrument', 'Flute:0.5,Oboe:0.5', '--pitch', 67, '--out', 'n.wav')
    assert r.returncode == 0 and (tmp_path / 'n.wav').is_file(), r.stderr
    r = run('generate', 't.lp', '--style', 'pizzicato', '--out', 'x.wav')
    assert r.returncode == 2 and 'no --style' in r.stderr and not (tmp_path / 'x.wav').exists()


def test_paths_and_magnitudes(pair):
    "`render_magnitudes` keeps gradients and agrees with `magnitudes`; `decode` plays a path, one frame per point."
    from latentplay.models import can
    space = pair[1]
    assert can(space, 'magnitudes')
    z = space.prior(6).requires_grad_()
    M = space.render_magnitudes(z, pitch=60)
    assert M.shape == (space.spectral.n_bins, 6) and torch.isfinite(M).all()
    M.sum().backward(); assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    p = space.prior(1)
    assert torch.allclose(space.magnitudes(p, 60, 0.5), space.render_magnitudes(p, 60, frames=space.magnitudes(p, 60, 0.5).shape[-1]).detach())
    s = space.decode(z.detach(), pitch=60)
    assert len(s.audio) == 5 * space.spectral.hop_length and np.isfinite(s.audio).all()
    assert abs(space.decode(z.detach(), pitch=60, seconds=0.4).duration - 0.4) < 1e-3
    assert abs(space.decode(p).duration - 1.0) < 1e-3                   # one point: a 1 s note, as before
    with pytest.raises(ValueError, match='outside'): space.render_magnitudes(z, pitch=130)
    with pytest.raises(ValueError, match='NaN'): space.render_magnitudes(torch.full((2, space.latent_dim), float('nan')))
