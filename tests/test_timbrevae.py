"TimbreVAE (latentplay.timbrevae): loudness outside the latent, the loudness control, transfer, files, resuming, the protocol, bad input."
import math
import numpy as np
import pytest
import torch
import latentplay as lp
from latentplay.corpus import Corpus
from latentplay.features import loudness as measured_loudness
from latentplay.models import ModelProtocol, ProtocolOnly, check_protocol, load_model, can
from latentplay.sound import Sound
from latentplay.train import CheckpointError, checkpoint_info
from latentplay.timbrevae import TimbreVAE, MelLoudness, loudness_r2, r2, fader_weight, SILENT_DB
from conftest import stop_once_saved

TINY = dict(channels=16, latent_dim=8, batch_size=4, segment_seconds=0.5)


@pytest.fixture(scope='module')
def flutes():
    "Flute notes of gm-notes (real sampled flutes), every third one."
    c = Corpus.builtin('gm-notes', progress=False).filter(instrument='Flute')
    return Corpus(list(c.sounds)[::3], c.sr)


@pytest.fixture(scope='module')
def model(flutes):
    torch.set_num_threads(1)
    return TimbreVAE.fit(flutes, max_steps=12, progress=False, validate_every=0, **TINY)


def test_trains_and_records(model):
    h = [x for x in model.history if 'loss' in x]
    assert len(h) == 12 and all(math.isfinite(x['loss']) for x in h)
    assert all(k in h[0] for k in ('rec', 'kl', 'adversary', 'weight'))
    assert h[0]['weight'] == 0 and h[-1]['weight'] == 1.0                     # ramped as the notes' fader
    val = [x for x in model.history if 'val_rec' in x]
    assert val and 'val_adversary_r2' in val[-1]
    assert model.info['adversary'] is True and model.typical_loudness < 0


def test_fader_weight_and_r2():
    assert [fader_weight(p, 2.0, 0.5) for p in (0, 0.25, 0.5, 1)] == [0, 1.0, 2.0, 2.0]
    t = torch.randn(100)
    assert r2(t, t) == 1.0 and abs(r2(torch.zeros(100) + t.mean(), t)) < 1e-6


def test_loudness_is_measured_on_the_frames_and_scales_exactly(flutes):
    sp = lp.spectral.default_spectral()
    ml = MelLoudness(sp)
    s = flutes[2]
    mine, ref = ml(sp(s.tensor())), measured_loudness(s.audio, n_fft=1024, hop_length=256)
    on = ref > ref.max() - 40
    assert (mine[on] - ref[on]).abs().median() < 3                           # agrees with features.loudness
    assert torch.allclose(ml(0.5 * sp(s.tensor()))[on], mine[on] - 20 * math.log10(2), atol=1e-3)
    assert torch.equal(ml(torch.zeros(256, 3)), torch.full((3,), SILENT_DB))


def test_loudness_control_is_monotone(model, flutes):
    "One latent point decoded at rising loudness: the measured level rises with it, close to what was asked."
    z = model.encode(flutes[1])
    pt = z[len(z) // 3].expand(30, -1)
    asked = [-50, -40, -30, -20, -10]
    got = [float(measured_loudness(model.decode(pt, loudness=l).audio, n_fft=1024, hop_length=256)[8:-8].mean()) for l in asked]
    assert all(b > a for a, b in zip(got, got[1:])), got
    assert abs((got[-1] - got[0]) - 40) < 8, got                             # 40 dB asked, about 40 dB heard
    curve = model.decode(pt, loudness=np.linspace(-50, -10, 30))             # a crescendo
    lo = measured_loudness(curve.audio, n_fft=1024, hop_length=256)
    assert lo[-12:-4].mean() > lo[4:12].mean() + 20


def test_transfer_keeps_length_loudness_and_silence(model):
    notes = Corpus.builtin('gm-notes', progress=False)
    cl = notes.filter(instrument='Clarinet')[3]
    out = model.transfer(cl)
    assert len(out) == len(cl) and out.sr == cl.sr and np.isfinite(out.audio).all() and out.peak > 1e-3
    li, lo = model.loudness(cl), model.loudness(out)
    on = li > li.max() - 30
    assert np.corrcoef(li[on], lo[on])[0, 1] > 0.8                             # its own loudness curve
    assert model.transfer(Sound(np.zeros(8000, np.float32), 22050)).peak == 0.0   # silence in, silence out
    half = Sound(np.concatenate([np.zeros(11025, np.float32), cl.audio[:11025]]), 22050)
    y = model.transfer(half)
    assert np.abs(y.audio[:10000]).max() == 0.0 and np.abs(y.audio[12000:]).max() > 1e-3
    quiet = model.transfer(cl, loudness_shift=-20)
    assert 15 < 20 * math.log10(out.rms / quiet.rms) < 25
    with pytest.warns(UserWarning, match='resampled'): assert len(model.transfer(cl.resample(16000))) == len(cl)


def test_adversary_changes_the_latent(flutes):
    "The mechanics: with the adversary its regressor trains and the encoder feels it; without, neither happens."
    torch.set_num_threads(1)
    kw = dict(max_steps=6, progress=False, validate_every=1e9, adversary_warmup=0.0, seed=1, **TINY)
    a, b = TimbreVAE.fit(flutes, adversary=True, **kw), TimbreVAE.fit(flutes, adversary=False, **kw)
    fresh = TimbreVAE.fit(flutes, adversary=False, **{**kw, 'max_steps': 1})
    assert not torch.equal(a.adversary[0].weight, fresh.adversary[0].weight)      # its regressor trained
    assert torch.equal(b.adversary[0].weight, fresh.adversary[0].weight)          # without: untouched
    assert all(h['weight'] == 1.0 for h in a.history if 'loss' in h) and all(h['weight'] == 0 for h in b.history if 'loss' in h)
    assert not torch.allclose(a.encoder[0].weight, b.encoder[0].weight)     # the same start, pushed elsewhere
    r = loudness_r2(a, flutes)
    assert set(r) == {'ridge', 'mlp', 'frames'} and r['frames'] > 50 and all(math.isfinite(r[k]) for k in ('ridge', 'mlp'))


def test_checkpoint_round_trip(model, flutes, tmp_path):
    p = model.save(tmp_path / 'flute.lp')
    m2 = load_model(p)
    assert type(m2).__name__ == 'TimbreVAE' and m2.kind == 'timbre-vae' and m2.config() == model.config()
    s = flutes[0]
    assert torch.allclose(m2.encode(s), model.encode(s), atol=1e-5)
    np.testing.assert_allclose(m2.transfer(s).audio, model.transfer(s).audio, atol=1e-5)
    assert float(m2.typical_loudness) == float(model.typical_loudness)
    with pytest.raises(CheckpointError, match="holds a 'timbre-vae' model, not a 'vq' model"): load_model(p, kind='vq')


def test_background_stop_and_resume(flutes, tmp_path):
    "A run stopped in the background leaves a resumable checkpoint; resume=True continues its steps and both optimizers."
    p = tmp_path / 'run.lp'
    job = TimbreVAE.fit(flutes, max_steps=400, checkpoint=p, checkpoint_every=0.2, validate_every=1e9, background=True, **TINY)
    tr = stop_once_saved(job, p, timeout=30)
    assert tr and tr['state']['step'] >= 2 and 'optim_d' in tr
    done = tr['state']['step']
    m = TimbreVAE.fit(flutes, max_steps=done + 2, checkpoint=p, resume=True, progress=False, validate_every=1e9, **TINY)
    assert [h['step'] for h in m.history if 'loss' in h][-1] == done + 2 and not checkpoint_info(p).get('training')
    with pytest.warns(UserWarning, match='finished model'):
        again = TimbreVAE.fit(flutes, max_steps=3, checkpoint=p, resume=True, progress=False)
    assert torch.equal(again.encoder[0].weight, m.encoder[0].weight)


def test_protocol(model):
    assert isinstance(model, ModelProtocol) and check_protocol(model) is model
    assert isinstance(ProtocolOnly(model), ModelProtocol)
    assert {'transfer', 'resynthesize', 'magnitudes'} <= model.capabilities and not can(model, 'generate')
    assert model.decode_conditions == model.conditions == {'loudness': (-60.0, 0.0)}
    z = model.prior(20, seed=3)
    assert z.shape == (20, 8) and torch.equal(z, model.prior(20, seed=3))
    out = model.decode(z)
    assert len(out) == 20 * model.hop_length and np.isfinite(out.audio).all() and out.peak > 0
    gl = model.decode(z, loudness=-30, method='griffin-lim')
    assert len(gl) == len(out) and np.isfinite(gl.audio).all()
    M = model.render_magnitudes(z[None].requires_grad_())
    assert M.shape == (1, 256, 40) and M.requires_grad


def test_widgets_offer_the_loudness(model):
    from latentplay.widgets import sliders
    w = sliders(model, n_axes=2, names=False, threaded=False, autoplay=False)   # rendered in this thread
    assert list(w.pickers) == ['loudness'] and (w.pickers['loudness'].low, w.pickers['loudness'].high) == (-60.0, 0.0)
    assert np.isfinite(w.sound.audio).all() and len(w.sound) > 0
    w.pickers['loudness'].value = -50.0
    soft = w.sound
    w.pickers['loudness'].value = -10.0
    assert w.sound.rms > 10 * soft.rms                                     # the slider sets the level (40 dB apart)


def test_bad_input(model, flutes):
    z = model.prior(5)
    with pytest.raises(ValueError, match='NaN'): model.decode(z, loudness=[float('nan')] * 5)
    with pytest.raises(ValueError, match='dB re full scale'): model.decode(z, loudness=0.5e2)
    with pytest.raises(ValueError, match='1-D curve'): model.decode(z, loudness=np.zeros((2, 5)))
    with pytest.raises(ValueError, match='latents must be shaped'): model.decode(torch.zeros(5, 3))
    with pytest.raises(ValueError, match='one path'): model.decode(torch.zeros(2, 5, 8))
    with pytest.raises(ValueError, match='method'): model.decode(z, method='magic')
    with pytest.raises(ValueError, match='empty'): model.transfer(Sound(np.zeros(0, np.float32), 22050))
    with pytest.raises(TypeError, match='lp.load'): model.transfer('voice.wav')
    with pytest.raises(ValueError, match='out of range'): model.transfer(Sound(np.full(1000, 5000.0, np.float32), 22050))
    with pytest.raises(ValueError, match='loudness_shift'): model.transfer(flutes[0], loudness_shift=1e6)
    with pytest.raises(ValueError, match='at least 2'): loudness_r2(model, flutes.sounds[:1])
    with pytest.raises(ValueError, match='stride'): TimbreVAE(stride=0)
    with pytest.raises(ValueError, match="'mel' or 'erb'"): TimbreVAE(spectral={'scale': 'stft'})
    with pytest.raises(ValueError, match='channels'): TimbreVAE(channels=10**9)
    with pytest.raises(ValueError, match='empty'): TimbreVAE.fit(Corpus([], 22050), max_steps=1)
    with pytest.raises(ValueError, match='adversary must be'): TimbreVAE.fit(flutes, max_steps=1, adversary='yes')
    with pytest.raises(ValueError, match='adversary_loss'): TimbreVAE.fit(flutes, max_steps=1, adversary_loss='max')
    silent = Corpus([Sound(np.zeros(22050, np.float32), 22050)], 22050)
    with pytest.raises(ValueError, match='silent'): TimbreVAE.fit(silent, max_steps=1, progress=False)


def test_a_quiet_corpus_trains(tmp_path):
    "Batches whose every step is below the sounding threshold (a soft corpus) train without error: the adversary sits out."
    torch.set_num_threads(1)
    t = np.arange(11025) / 22050
    hum = [Sound((0.01 * np.sin(2 * np.pi * f * t)).astype(np.float32), 22050) for f in (40, 45, 50)]   # about -75 dB(A)
    soft = Corpus(hum, 22050)
    assert (TimbreVAE(channels=8, latent_dim=4)._analyse(hum[0].tensor())[1] < -70).all()
    m = TimbreVAE.fit(soft, max_steps=2, progress=False, validate_every=1e9, channels=8, latent_dim=4, batch_size=2, segment_seconds=0.5)
    assert all(math.isfinite(h['loss']) for h in m.history if 'loss' in h)


def test_cli_trains_and_transfers_with_a_timbre_vae(tmp_path):
    "`latentplay train ... --model timbre-vae` writes a model that `latentplay transfer` plays; an existing --out is refused."
    import subprocess, sys
    run = lambda *a: subprocess.run([sys.executable, '-m', 'latentplay.cli', *map(str, a)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    r = run('train', 'builtin:gm-notes', '--model', 'timbre-vae', '--max-steps', 3, '--out', 't.lp')
    assert r.returncode == 0, r.stderr[-2000:]
    from latentplay.models import load_model
    assert load_model(tmp_path / 't.lp').kind == 'timbre-vae'
    r = run('train', 'builtin:gm-notes', '--model', 'timbre-vae', '--max-steps', 3, '--out', 't.lp')
    assert r.returncode == 2 and 'exists' in r.stderr
    lp.Corpus.builtin('gm-notes').sounds[0].save(tmp_path / 'in.wav')
    r = run('transfer', 't.lp', 'in.wav', 'out.wav', '--seed', 3)
    assert r.returncode == 0, r.stderr[-2000:]
    assert abs(lp.load(tmp_path / 'out.wav').duration - lp.load(tmp_path / 'in.wav').duration) < 1e-3
