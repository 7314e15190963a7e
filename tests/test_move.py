"MoVE (latentplay.move): transfer keeps length, pitch and loudness; mixtures; bad input; files; resume; the protocol."
import math
import latentplay as lp
import numpy as np
import pytest
import torch
from latentplay.corpus import Corpus
from latentplay.features import loudness as measured_loudness, f0_yin
from latentplay.models import ModelProtocol, ProtocolOnly, check_protocol, load_model, can, pretrained_names
from latentplay.sound import Sound
from latentplay.train import CheckpointError, checkpoint_info
from latentplay.move import MoVE, slice_starts, overlap_add
from conftest import stop_once_saved

THREE = ['Flute', 'Trumpet', 'Violin']


@pytest.fixture(scope='module')
def split(gm_notes):
    return gm_notes.split(test=0.1, seed=0)


@pytest.fixture(scope='module')
def three(split):
    return split[0].filter(instrument=THREE)


@pytest.fixture(scope='module')
def tiny(three):
    torch.set_num_threads(1)
    return MoVE.fit(three, max_steps=10, batch_size=16, channels=32, progress=False, validate_every=1e9)


@pytest.fixture(scope='module')
def shipped():
    if 'gm-move' not in pretrained_names(): pytest.skip('no shipped gm-move model in this checkout (scripts/train_move.py)')
    return lp.pretrained('gm-move')


@pytest.fixture(scope='module')
def flute(split):
    return split[1].filter(instrument='Flute')[0]


def _midi(s):
    f0, per = f0_yin(s, s.sr)
    v = f0[(per > 0.7) & (f0 > 0)]
    return 69 + 12 * math.log2(float(v.median()) / 440)


def _loud_corr(a, b):
    la, lb = measured_loudness(a), measured_loudness(b)
    k = la > la.max() - 40
    return float(np.corrcoef(la[k], lb[k])[0, 1])


def test_tiny_trains(tiny):
    h = [x for x in tiny.history if 'rec' in x]
    assert len(h) == 10 and all(math.isfinite(x['loss']) for x in h) and {'kl', 'mmd'} <= set(h[0])
    assert tiny.instruments == THREE and tiny.info['slices'] > 100


def test_transfer_keeps_length_pitch_loudness(shipped, flute):
    for target in ('Violin', 'Trumpet'):
        y = shipped.transfer(flute, instrument=target)
        assert len(y.audio) == len(flute.audio) and y.sr == flute.sr and np.isfinite(y.audio).all()
        assert abs(_midi(y) - _midi(flute)) < 0.5, target                       # within 50 cents
        assert _loud_corr(flute, y) > 0.9, target


def test_voice_keeps_its_melody(shipped):
    v = Corpus.builtin('gm-voice', progress=False).filter(kind='note', voice='oohs', pitch=66)[0]
    y = shipped.transfer(v, instrument='Violin')
    assert abs(_midi(y) - _midi(v)) < 0.5 and _loud_corr(v, y) > 0.9
    up = shipped.transfer(v, instrument='Violin', transpose=5)
    assert abs(_midi(up) - _midi(v) - 5) < 0.7


def test_mixtures(tiny, flute):
    a, b = tiny.transfer(flute, 'Violin').audio, tiny.transfer(flute, 'Trumpet').audio
    mix = tiny.transfer(flute, {'Violin': 0.5, 'Trumpet': 0.5}).audio
    assert np.isfinite(mix).all() and not np.allclose(mix, a) and not np.allclose(mix, b)
    np.testing.assert_allclose(tiny.transfer(flute, {'Violin': 1.0}).audio, a, atol=1e-6)
    even = tiny.transfer(flute)                                                  # None: an even mix of all
    assert np.isfinite(even.audio).all()
    with pytest.raises(ValueError, match='weights must be finite'): tiny.transfer(flute, {'Violin': -1})


def test_bad_input(tiny, flute, gm_drums):
    with pytest.raises(ValueError, match='unknown instrument .Banjo.*Flute, Trumpet, Violin'): tiny.transfer(flute, 'Banjo')
    silent = tiny.transfer(Sound(np.zeros(3000, np.float32), 22050), 'Violin')
    assert len(silent.audio) == 3000 and (silent.audio == 0).all()
    with pytest.warns(UserWarning, match='resampled'): y = tiny.transfer(flute.resample(16000), 'Violin')
    assert y.sr == 22050 and abs(len(y.audio) - len(flute.audio)) < 5 and np.isfinite(y.audio).all()
    noise = Sound((np.random.default_rng(0).standard_normal(22050) * 0.1).astype(np.float32), 22050)
    y = tiny.transfer(noise, 'Violin')                                          # no pitch anywhere: played at C4
    assert np.isfinite(y.audio).all() and y.peak > 0
    short = tiny.transfer(Sound(flute.audio[:300], 22050), 'Violin')            # shorter than one frame hop
    assert len(short.audio) == 300 and np.isfinite(short.audio).all()
    with pytest.raises(ValueError, match='empty'): tiny.transfer(Sound(np.zeros(0, np.float32), 22050))
    with pytest.raises(ValueError, match='outside MIDI'): tiny.decode(tiny.prior(2), pitch=5)
    with pytest.raises(ValueError, match='NaN'): tiny.decode(torch.full((2, tiny.latent_dim), float('nan')))
    with pytest.raises(ValueError, match='method must be'): tiny.decode(tiny.prior(2), method='magic')
    assert np.isfinite(tiny.decode(tiny.prior(3) * 1e6, instrument='Violin').audio).all()
    with pytest.raises(ValueError, match='labelled with pitch and instrument'):
        MoVE.fit(gm_drums[:4], max_steps=1, progress=False)


def test_slices_blend_without_seams(tiny, flute):
    "A path decoded whole equals, frame for frame, the overlap-add of its slices; a constant path decodes to a steady sound."
    S = torch.randn(7, 5, 16)
    whole = overlap_add(S, 8)
    assert whole.shape == (5, 6 * 8 + 16)
    torch.testing.assert_close(overlap_add(S[:4], 8)[:, :3 * 8 + 4], whole[:, :3 * 8 + 4])   # later slices leave earlier frames alone
    y = tiny.decode(tiny.prior(1).expand(20, -1), pitch=62, instrument='Flute')
    from latentplay.features import rms
    r = rms(torch.from_numpy(y.audio), 2048, 512)[2:-2]
    assert float(r.max() / r.min()) < 2.0                                       # no dips or clicks at slice boundaries


def test_round_trip(tiny, flute, tmp_path):
    p = tiny.save(tmp_path / 'm.lp')
    m2 = load_model(p)
    assert isinstance(m2, MoVE) and m2.config() == tiny.config()
    torch.testing.assert_close(m2.encode(flute), tiny.encode(flute))
    np.testing.assert_array_equal(m2.transfer(flute, 'Violin').audio, tiny.transfer(flute, 'Violin').audio)
    with pytest.raises(CheckpointError, match="'move' model, not a 'notes' model"): load_model(p, kind='notes')
    h = load_model(tiny.save(tmp_path / 'h.lp', half=True))
    assert np.isfinite(h.transfer(flute, 'Trumpet').audio).all()


def test_background_stop_and_resume(three, tmp_path):
    "A run stopped in the background leaves a resumable checkpoint; resume=True continues its steps and its optimizer."
    p = tmp_path / 'run.lp'
    small = three.filter(instrument=['Flute', 'Violin'])
    job = MoVE.fit(small, max_steps=400, batch_size=8, channels=16, checkpoint=p, checkpoint_every=0.2, validate_every=1e9, background=True)
    tr = stop_once_saved(job, p, timeout=60)
    assert tr and tr['state']['step'] >= 2 and 'optim' in tr
    done = tr['state']['step']
    m = MoVE.fit(small, max_steps=done + 3, batch_size=8, channels=16, checkpoint=p, resume=True, progress=False, validate_every=1e9)
    assert m.info['steps'] == done + 3
    assert checkpoint_info(p).get('training') is None                          # finished: the file holds the model only


def test_protocol(tiny):
    assert isinstance(tiny, ModelProtocol) and check_protocol(tiny) is tiny and isinstance(ProtocolOnly(tiny), ModelProtocol)
    assert {'transfer', 'generate'} <= tiny.capabilities and not can(tiny, 'stream')
    assert tiny.conditions['instrument'] == THREE and tiny.decode_conditions == tiny.conditions
    assert set(tiny.conditions['pitch']) >= {60, 72}
    z = tiny.prior(9, seed=3)
    assert z.shape == (9, tiny.latent_dim) and torch.equal(z, tiny.prior(9, seed=3))
    y = tiny.decode(z, pitch=np.linspace(60, 64, 9), instrument={'Flute': 0.3, 'Violin': 0.7})
    assert len(y.audio) == tiny.spectral.hop_length * ((9 - 1) * tiny.slice_hop + tiny.size - 1) and np.isfinite(y.audio).all()
    g = tiny.generate(pitch=67, instrument='Trumpet', seconds=0.6, seed=1)
    assert np.isfinite(g.audio).all() and g.peak > 1e-3
    assert len(tiny.encode(Sound(np.zeros(22050, np.float32), 22050))) == slice_starts(1 + 22050 // 256, 16, 8)


def test_cli_signature_and_loudness_shift(tiny, flute):
    "What `latentplay transfer ... --to NAME` passes (seed=, loudness_shift=): seed changes nothing, the shift is in dB."
    a = tiny.transfer(flute, instrument='Violin', seed=0)
    np.testing.assert_array_equal(tiny.transfer(flute, instrument='Violin', seed=5).audio, a.audio)
    q = tiny.transfer(flute, instrument='Violin', loudness_shift=-12)
    assert abs(20 * np.log10(q.rms / a.rms) + 12) < 3
