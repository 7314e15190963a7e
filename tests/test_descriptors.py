"Tests of latentplay.features against librosa on real SoundFont renders."
import numpy as np
import pytest
import torch

from latentplay.features import (DESCRIPTORS, descriptors, spectral_centroid, spectral_bandwidth, spectral_flatness,
                                    spectral_rolloff, rms, loudness, a_weighting, zero_crossing_rate, f0_yin,
                                    median_relative_error, magnitude)
from latentplay.sound import Sound
from latentplay.soundfont import render_note

librosa = pytest.importorskip('librosa')
SR = 22050
PITCHED = {'flute': (73, 72), 'trumpet': (56, 67), 'cello': (42, 48), 'violin': (40, 69), 'clarinet': (71, 62)}


@pytest.fixture(scope='module')
def sounds():
    out = {k: render_note(p, key, hold=1.0, release=0.25, sr=SR) for k, (p, key) in PITCHED.items()}
    out['piano'] = render_note(0, 57, hold=1.0, release=0.25, sr=SR)
    out['snare'] = render_note(0, 38, hold=0.5, release=0.25, sr=SR, bank=128, drums=True)
    out['seashore'] = render_note(122, 60, hold=1.5, release=0.25, sr=SR)
    return out


def _librosa(y):
    kw = dict(y=y, sr=SR, n_fft=2048, hop_length=512)
    return {'centroid': librosa.feature.spectral_centroid(**kw)[0], 'bandwidth': librosa.feature.spectral_bandwidth(**kw)[0],
            'rolloff': librosa.feature.spectral_rolloff(**kw)[0],
            'flatness': librosa.feature.spectral_flatness(y=y, n_fft=2048, hop_length=512)[0],
            'rms': librosa.feature.rms(y=y, frame_length=2048, hop_length=512)[0],
            'zcr': librosa.feature.zero_crossing_rate(y, frame_length=2048, hop_length=512)[0]}


# measured worst cases over these 8 sounds: centroid 2e-7, bandwidth 6e-7, rolloff 4e-3 (interpolated crossing),
# flatness 2e-5, rms 0, zcr 0
TOLERANCE = {'centroid': 1e-3, 'bandwidth': 1e-3, 'rolloff': 1e-2, 'rms': 1e-4, 'flatness': 1e-3, 'zcr': 1e-6}


def test_agreement_with_librosa(sounds):
    for name, y in sounds.items():
        ours, ref = descriptors(y, SR), _librosa(y)
        loud = ref['rms'] > 1e-3 * ref['rms'].max()
        for k, v in ref.items():
            assert ours[k].shape == v.shape, (name, k)
            err = median_relative_error(ours[k], v, loud)
            assert err <= TOLERANCE[k], (name, k, err)


def test_single_functions_equal_descriptors(sounds):
    y = sounds['trumpet']
    d = descriptors(y, SR)
    assert torch.equal(spectral_centroid(y, SR), d['centroid'])
    assert torch.equal(spectral_bandwidth(y, SR), d['bandwidth'])
    assert torch.equal(spectral_flatness(y), d['flatness'])
    assert torch.equal(spectral_rolloff(y, SR), d['rolloff'])
    assert torch.equal(rms(y), d['rms'])
    assert torch.equal(zero_crossing_rate(y), d['zcr'])
    assert torch.equal(loudness(y, SR), d['loudness'])
    f0, per = f0_yin(y, SR)
    assert torch.equal(f0, d['f0']) and torch.equal(per, d['periodicity'])
    assert set(d) == set(DESCRIPTORS)
    assert list(descriptors(y, SR, names=['rms', 'centroid'])) == ['rms', 'centroid']


def test_rolloff_interpolation_within_one_bin(sounds):
    y = sounds['cello']
    ours, ref = spectral_rolloff(y, SR).numpy(), librosa.feature.spectral_rolloff(y=y, sr=SR)[0]
    df = SR / 2048
    assert np.all(ours <= ref + 1e-3) and np.all(ours > ref - df - 1e-3)


def test_f0_sustained_notes(sounds):
    for name, (prog, key) in PITCHED.items():
        y = sounds[name]
        f0, per = f0_yin(y, SR)
        voiced = (per > 0.5).numpy()
        assert voiced.mean() > 0.6, name
        hz = librosa.midi_to_hz(key)
        assert abs(np.median(f0.numpy()[voiced]) - hz) / hz < 0.01, name     # measured: <= 0.3%
        ly = librosa.yin(y, fmin=40, fmax=2000, sr=SR, frame_length=2048, hop_length=512)
        assert median_relative_error(f0, ly, voiced) < 0.01, name            # measured: <= 0.06%
    _, per = f0_yin(sounds['seashore'], SR)
    assert per.median() < 0.5


def test_f0_synthetic_tones():
    t = np.arange(SR) / SR
    for f in (55.0, 98.0, 440.0, 1318.5):
        x = (0.4 * np.sin(2 * np.pi * f * t) + 0.2 * np.sin(4 * np.pi * f * t)).astype(np.float32)
        f0, per = f0_yin(x, SR)
        assert abs(np.median(f0[4:-4].numpy()) - f) / f < 0.005 and per[4:-4].min() > 0.9, f
    with pytest.raises(ValueError): f0_yin(x, SR, fmin=1000, fmax=900)


def test_loudness_calibration():
    t = np.arange(SR) / SR
    sine = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    assert abs(loudness(sine, SR)[4:-4].mean().item() + 3.01) < 0.05
    assert abs(loudness(0.01 * sine, SR)[4:-4].mean().item() + 43.01) < 0.05
    low = loudness(np.sin(2 * np.pi * 100 * t), SR)[4:-4].mean().item()
    assert abs(low - (-3.01 + float(a_weighting([100.0])[0]))) < 0.2          # A-weighting at 100 Hz is -19.1 dB
    freqs = np.array([31.5, 100., 1000., 4000., 12000.])
    assert np.allclose(a_weighting(freqs).numpy(), librosa.A_weighting(freqs), atol=1e-3)
    noise = np.random.default_rng(0).uniform(-1, 1, SR).astype(np.float32)
    # white noise: the A-weighted level is its mean-square level plus the band average of the A-weighting
    f = np.linspace(0, SR / 2, 1025)
    with np.errstate(divide='ignore'): weights = 10 ** (librosa.A_weighting(f) / 10)     # 0 Hz: weight 0
    expected = 10 * np.log10(np.mean(noise ** 2) * np.mean(weights))
    assert abs(np.median(loudness(noise, SR)[4:-4].numpy()) - expected) < 0.3


def test_batched_and_sound_input(sounds):
    x = np.stack([sounds['flute'], sounds['cello']])
    d = descriptors(torch.tensor(x), SR)
    for k, v in d.items():
        assert v.shape == (2, 1 + x.shape[-1] // 512), k
        assert torch.allclose(v[1], descriptors(x[1], SR)[k], rtol=1e-4, atol=1e-4), k
    ds = descriptors(Sound(sounds['flute'], SR))
    assert torch.allclose(ds['centroid'], d['centroid'][0], rtol=1e-5)
    with pytest.raises(ValueError, match='differ'): descriptors(Sound(sounds['flute'], SR), sr=16000)
    assert descriptors(torch.zeros(3, 2, 1000))['rms'].shape == (3, 2, 2)


def test_gradients(sounds):
    x = torch.tensor(sounds['violin'][:8192]).requires_grad_()
    descriptors(x, SR)['centroid'].mean().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    for k in ['bandwidth', 'rolloff', 'flatness', 'loudness', 'rms']:
        x.grad = None
        descriptors(x, SR, names=[k])[k].mean().backward()
        assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0, k
    # raising the centroid along its gradient makes the sound brighter
    y = torch.tensor(sounds['violin'][:8192])
    c = lambda z: spectral_centroid(z, SR).mean()
    yg = y.clone().requires_grad_()
    c(yg).backward()
    step = 1e-3 * yg.grad / yg.grad.abs().max()
    assert c(y + step) > c(y) > c(y - step)


def test_silence_and_bad_input():
    z = torch.zeros(2, 4096, requires_grad=True)
    d = descriptors(z, SR)
    assert all(torch.isfinite(v).all() for v in d.values())
    assert d['centroid'].abs().max() == 0 and d['bandwidth'].abs().max() == 0 and d['rolloff'].abs().max() == 0
    assert d['loudness'].max() == -100.0 and d['rms'].max() == 0 and d['zcr'].max() == 0
    assert d['f0'].abs().max() == 0 and d['periodicity'].max() == 0
    sum(v.sum() for v in d.values() if v.requires_grad).backward()
    assert torch.isfinite(z.grad).all()
    assert torch.isfinite(magnitude(torch.zeros(100))).all()
    with pytest.raises(ValueError, match='empty'): descriptors(np.zeros(0))
    with pytest.raises(ValueError, match='unknown'): descriptors(np.zeros(100), names=['brightness'])
    with pytest.raises(ValueError, match='NaN'): descriptors(np.array([0.0, np.nan] * 100))
    short = descriptors(np.random.default_rng(0).standard_normal(300).astype(np.float32), SR)   # shorter than n_fft
    assert all(torch.isfinite(v).all() and v.shape == (1,) for v in short.values())
