"""The stored-grain baseline (CataRT style): the model protocol, faithful resynthesis from stored grains, label
restriction, checkpoints and clear errors for bad input."""
import warnings
import numpy as np
import pytest
import torch
from latentplay.sound import Sound
from latentplay.dsp import lsd, sc
from latentplay.features import descriptors
from latentplay.models import load_model, model_class
from latentplay.catart import StoredGrains

SR = 22050


@pytest.fixture(scope='module')
def split(gm_drums):
    return gm_drums.split(test=0.1, seed=0)


@pytest.fixture(scope='module')
def model(split):
    return StoredGrains.fit(split[0], max_grains=3000, progress=False)


def _noise_like(s, seed=0):
    "White noise with the rms envelope of `s` (a floor any resynthesis should clear)."
    env = np.sqrt(np.convolve(s.audio.astype(np.float64) ** 2, np.ones(512) / 512, mode='same'))
    return Sound((np.random.default_rng(seed).standard_normal(len(s)) * env).astype(np.float32), s.sr)


def test_kind_is_registered():
    assert model_class('stored-grains') is StoredGrains


def test_constructor_defaults_and_config():
    m = StoredGrains()
    assert (m.frame_length, m.hop_length, m.latent_dim, m.n_grains) == (2048, 512, 5, 0)
    low = StoredGrains(sr=16000, names=['loudness', 'centroid'], n_grains=7, labels=['a'])
    assert (low.frame_length, low.hop_length, low.latent_dim) == (1024, 256, 2)
    assert low.grains.shape == (7, 1024) and low.feats.shape == (7, 2) and low.grain_label.dtype == torch.long
    assert StoredGrains(**low.config()).config() == low.config()
    with pytest.raises(ValueError, match='distinct descriptors'): StoredGrains(names=['brightness'])
    with pytest.raises(ValueError, match='stores no grains'): m.decode(torch.zeros(2, 5))
    with pytest.raises(ValueError, match='stores no grains'): m.prior(2)


def test_protocol_shapes(model, split):
    train, test = split
    assert model.n_grains == 3000 and model.labels == train.classes
    assert model.conditions == {'label': train.classes}
    assert (model.grains.abs().amax(-1) >= 1e-4).all(), "silent grains are not stored"
    hit = test[0]
    z = model.encode(hit)
    assert z.shape == (1 + len(hit) // model.hop_length, model.latent_dim) and torch.isfinite(z).all()
    out = model.decode(z)
    assert isinstance(out, Sound) and out.sr == SR and len(out) == len(z) * model.hop_length
    assert np.isfinite(out.audio).all()
    p = model.prior(6, seed=3)
    assert p.shape == (6, model.latent_dim) and torch.equal(p, model.prior(6, seed=3))
    assert not torch.equal(p, model.prior(6, seed=4))
    assert len(model.decode(model.prior(1)[0])) == model.hop_length


def test_encode_measures_descriptors(model, split):
    hit = split[1][5]
    d = model.to_descriptors(model.encode(hit))
    ref = descriptors(hit, n_fft=2048, hop_length=512)
    torch.testing.assert_close(d['loudness'], ref['loudness'], atol=1e-3, rtol=0)
    torch.testing.assert_close(d['rolloff'], ref['rolloff'].clamp_min(20), atol=0.5, rtol=1e-4)
    z = model.from_descriptors(centroid=[400., 4000.], loudness=-30)
    assert torch.allclose(model.to_descriptors(z)['centroid'], torch.tensor([400., 4000.]), rtol=1e-4)


def test_fit_is_seeded(split):
    small = split[0].filter(label='clap')
    a = StoredGrains.fit(small, max_grains=50, progress=False)
    assert torch.equal(a.grains, StoredGrains.fit(small, max_grains=50, progress=False).grains)
    assert not torch.equal(a.grains, StoredGrains.fit(small, max_grains=50, seed=1, progress=False).grains)


def test_stored_sound_comes_back(split):
    "With all its grains stored, a sound is rebuilt from its own grains: far closer than loudness-matched noise."
    toms = split[0].filter(label='tom')[:5]
    m = StoredGrains.fit(toms, max_grains=100_000, progress=False)
    for s in toms.sounds[:3]:
        out = m.resynthesize(s)
        assert len(out) == len(s)
        assert float(lsd(s, out)) < 0.25 * float(lsd(s, _noise_like(s)))
        assert float(sc(s, out)) < 0.2


def test_held_out_resynthesis_beats_noise(model, split):
    test = split[1]
    hits = [test[i] for i in range(0, len(test), 8)]
    ours = np.median([float(lsd(s, model.resynthesize(s))) for s in hits])
    noise = np.median([float(lsd(s, _noise_like(s))) for s in hits])
    assert ours < 0.6 * noise, (ours, noise)


def test_label_restriction(model):
    z = model.prior(40, seed=0)
    for lab in ('kick', 'hihat'):
        chosen = model.grain_label[model.select(z, label=lab)]
        assert set(chosen.tolist()) == {model.labels.index(lab)}
    mix = model.grain_label[model.select(z, label={'kick': 1, 'cymbal': 3, 'snare': 0})]
    assert set(mix.tolist()) <= {model.labels.index('kick'), model.labels.index('cymbal')}
    free = model.grain_label[model.select(z)]
    assert len(set(free.tolist())) > 2
    assert not np.array_equal(model.decode(z, label='kick').audio, model.decode(z, label='hihat').audio)


def test_silence_stays_silent(model):
    silence = Sound(np.zeros(3000, np.float32), SR)
    assert np.array_equal(model.resynthesize(silence).audio, np.zeros(3000, np.float32))
    assert not model.decode(model.encode(silence)).audio.any()


def test_save_load_round_trip(model, tmp_path):
    path = model.save(tmp_path / 'grains.lp')
    assert path.stat().st_size > model.grains.numel() * 4    # the file holds the grains
    back = load_model(path)
    assert isinstance(back, StoredGrains) and back.config() == model.config() and back.labels == model.labels
    z = model.prior(20, seed=1)
    assert np.array_equal(back.decode(z, label='snare').audio, model.decode(z, label='snare').audio)
    assert load_model(path, kind='stored-grains').n_grains == model.n_grains


def test_bad_inputs(model, split):
    hit = split[1][0]
    with pytest.raises(ValueError, match=r'\[\.\.\., T, 5\]'): model.decode(torch.zeros(3, 4))
    with pytest.raises(ValueError, match='NaN'): model.decode(torch.tensor([[0., float('nan'), 0, 0, 0]]))
    with pytest.raises(ValueError, match="unknown label 'tuba'"): model.decode(torch.zeros(2, 5), label='tuba')
    with pytest.raises(ValueError, match='sum to 0'): model.decode(torch.zeros(2, 5), label={'kick': 0})
    with pytest.raises(ValueError, match='one path'): model.decode(torch.zeros(2, 3, 5))
    with pytest.raises(ValueError, match='empty'): model.encode(Sound(np.zeros(0, np.float32), SR))
    with pytest.raises(ValueError, match='empty'): model.resynthesize(Sound(np.zeros(0, np.float32), SR))
    with pytest.raises(TypeError, match='resynthesize'): model.decode(hit)
    with pytest.raises(ValueError, match='no .pitch.'): model.from_descriptors(pitch=[1.0])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        out = model.resynthesize(hit.resample(16000))
    assert any('resampled' in str(x.message) for x in w)
    assert out.sr == SR and abs(len(out) - len(hit)) <= 2


def test_unlabelled_corpus(split):
    from latentplay.corpus import Corpus
    c = Corpus([Sound(s.audio, SR) for s in split[0].filter(label='shaker').sounds[:4]], SR)
    m = StoredGrains.fit(c, max_grains=200, progress=False)
    assert m.labels == [] and m.conditions == {} and (m.grain_label == -1).all()
    with pytest.raises(ValueError, match='without labels'): m.decode(m.prior(2), label='shaker')
    silent = Corpus([Sound(np.zeros(4000, np.float32), SR)], SR)
    with pytest.raises(ValueError, match='silent'): StoredGrains.fit(silent, progress=False)


def _new_names(rec): return {str(w.message).split(' is now ')[1].split('=')[0] for w in rec if '=...' in str(w.message)}


def test_old_names_still_work_and_warn(model, split):
    with pytest.warns(DeprecationWarning) as rec: m = StoredGrains(sample_rate=16000, window=512, hop=128)
    assert {'sr', 'frame_length', 'hop_length'} <= _new_names(rec)
    assert (m.sr, m.frame_length, m.hop_length) == (16000, 512, 128)
    with pytest.warns(DeprecationWarning, match=r'\.sr\b'): assert m.sample_rate == 16000
    with pytest.warns(DeprecationWarning, match='frame_length'): assert m.window == 512
    with pytest.warns(DeprecationWarning, match='hop_length'): assert m.hop == 128
    with pytest.warns(DeprecationWarning, match='n_steps'): z = model.from_descriptors(steps=4, loudness=-20)
    assert torch.equal(z, model.from_descriptors(n_steps=4, loudness=-20))
    with pytest.warns(DeprecationWarning) as rec:
        f = StoredGrains.fit(split[0][:6], window=1024, hop=256, max_grains=50, progress=False)
    assert {'frame_length', 'hop_length'} <= _new_names(rec)
    assert (f.frame_length, f.hop_length) == (1024, 256) and f.grains.shape[1] == 1024


def test_fit_cuts_the_centred_grains(split):
    "The stored grains are exactly grains of `frame(x, frame_length, hop_length, center=True)`, the package's one grain cut."
    from latentplay.dsp import frame
    c = split[0][:1]
    m = StoredGrains.fit(c, max_grains=100_000, progress=False)
    g = frame(c[0].audio, 2048, 512, center=True)
    g = g[g.abs().amax(-1) >= 1e-4]
    assert torch.equal(m.grains, g)


def test_old_config_names_load_silently(model, tmp_path):
    from latentplay.train import read_checkpoint, write_checkpoint
    t, meta = read_checkpoint(model.save(tmp_path / 'g.lp', half=True))
    c = dict(meta['config']); c['sample_rate'], c['window'], c['hop'] = c.pop('sr'), c.pop('frame_length'), c.pop('hop_length')
    write_checkpoint(tmp_path / 'old.lp', t, {**meta, 'config': c})
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        old = load_model(tmp_path / 'old.lp')
    assert old.config() == model.config()
