"VQTimbre (latentplay.vq): the codebook, loudness outside the code, transfer, following descriptors, files, the protocol, bad input."
import math, warnings
from pathlib import Path
import latentplay as lp
import numpy as np
import pytest
import torch
from latentplay.corpus import Corpus
from latentplay.features import loudness as measured_loudness, descriptors
from latentplay.models import ModelProtocol, ProtocolOnly, check_protocol, load_model, can
from latentplay.sound import Sound
from latentplay.train import CheckpointError, read_checkpoint
from latentplay.vq import VQTimbre, Codebook, code_path, perplexity, usage, SILENT_DB


@pytest.fixture(scope='module')
def violins():
    "The loud violin notes of gm-techniques and gm-notes (real sampled violins)."
    a = Corpus.builtin('gm-techniques', progress=False).filter(instrument='Violin', velocity=[85, 127])
    b = Corpus.builtin('gm-notes', progress=False).filter(instrument='Violin')
    return Corpus(list(a.sounds) + list(b.sounds)[::3], a.sr)


@pytest.fixture(scope='module')
def flute():
    return Corpus.builtin('gm-notes', progress=False).filter(instrument='Flute', pitch=72)[0]


@pytest.fixture(scope='module')
def model(violins):
    torch.set_num_threads(1)
    return VQTimbre.fit(violins, max_steps=24, batch_size=8, segment_seconds=0.25, n_codes=32, hidden=32, dead=0.2,
                        progress=False, validate_every=0)


def test_trains_and_uses_its_codebook(model):
    h = [x for x in model.history if 'loss' in x]
    assert len(h) == 24 and all(math.isfinite(x['loss']) for x in h)
    assert all(k in h[0] for k in ('spectral', 'commit', 'perplexity', 'restarted'))
    val = [x for x in model.history if 'val_lsd' in x]
    assert val and val[-1]['val_perplexity'] > 4 and 0 < val[-1]['val_usage'] <= 1   # not collapsed (perplexity 1)
    assert model.info['restarts'] > 0 and model.info['restarts'] == sum(x['restarted'] for x in h)   # dead codes restarted
    assert model.info['steps'] == 24 and model.typical_loudness < 0


def test_codebook_pieces():
    g = torch.Generator().manual_seed(0)
    pts = torch.randn(16, 3, generator=g)[torch.randint(16, (3000,), generator=g)] * 4 + 0.05 * torch.randn(3000, 3, generator=g)
    cb = Codebook(16, 3)
    before = perplexity(cb.nearest(pts), 16)                          # random code words near 0: few are ever nearest
    cb.kmeans_init(pts, g=g, frames=100.0)
    assert perplexity(cb.nearest(pts), 16) > max(10, before) and usage(cb.nearest(pts), 16) == 1.0
    assert abs(float(cb.count.sum()) - 100.0) < 1e-3                 # counts on the scale of one step
    cb.train()
    before = cb.embed.clone()
    for _ in range(5): cb(pts[:500])
    assert not torch.equal(before, cb.embed)                         # moving averages move the code words
    p = torch.randn(10, 3, requires_grad=True)
    q, idx, commit = cb(p)
    q.sum().backward()
    assert torch.equal(p.grad, torch.ones(10, 3)) and idx.shape == (10,) and commit > 0   # straight through
    cb.count[:4] = 0
    assert cb.restart(pts, g) == 4 and int(cb.restarts) == 4 and (cb.count > 0).all()
    assert perplexity(torch.zeros(50, dtype=torch.long), 16) == pytest.approx(1.0)


def test_loudness_is_outside_the_code(model, flute):
    q, l = model.codes(flute), model.loudness(flute)
    assert torch.allclose(l, measured_loudness(flute), atol=1e-3)     # the package's loudness, frame by frame
    on = l > -70
    for db in (-12.0, 6.0):
        louder = Sound(flute.audio * 10 ** (db / 20), flute.sr)
        assert (model.codes(louder)[on] == q[on]).float().mean() >= 0.99      # the gain changes the loudness...
        assert torch.allclose(model.loudness(louder)[on] - l[on], torch.full((int(on.sum()),), db), atol=0.05)  # ...not the codes
    z = model.encode(flute)
    assert z.shape == (1 + len(flute) // model.hop_length, model.latent_dim)
    assert torch.equal(z, model.codebook.embed[q])


def test_decode_follows_the_loudness_asked(model):
    z = model.prior(40, seed=1)
    quiet, loud = model.decode(z, loudness=-40.0), model.decode(z, loudness=-20.0)
    lq, ll = measured_loudness(quiet)[4:-4], measured_loudness(loud)[4:-4]
    assert abs(float((ll - lq).median()) - 20) < 3                    # 20 dB apart (the post-filter bends it a little)
    assert abs(float(lq.median()) + 40) < 4
    assert not model.decode(z, loudness=SILENT_DB).audio.any()        # silence stays silent
    ramp = model.decode(z, loudness=np.linspace(-50, -15, 40))
    lr = measured_loudness(ramp)[2:-3].numpy()
    assert np.corrcoef(lr, np.linspace(-50, -15, len(lr)))[0, 1] > 0.95


def test_transfer(model, flute):
    out = model.transfer(flute)
    assert len(out) == len(flute) and out.sr == flute.sr and np.isfinite(out.audio).all() and out.rms > 0
    lf, lo = measured_loudness(flute), measured_loudness(out)
    on = lf > lf.max() - 40
    assert np.corrcoef(lf[on], lo[on])[0, 1] > 0.9                    # the input's own loudness
    assert not model.transfer(Sound(np.zeros(4000, np.float32), flute.sr)).audio.any()   # silence in, silence out
    assert np.array_equal(model.resynthesize(flute).audio, out.audio)
    assert len(model.transfer(flute.slice(0, 0.01))) == int(round(0.01 * flute.sr))       # shorter than a frame
    long = Sound(np.tile(flute.audio, 12), flute.sr)                  # over one analysis block (2^18 samples)
    assert torch.equal(model.codes(long)[:len(model.codes(flute)) - 4], model.codes(flute)[:-4])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        assert abs(len(model.transfer(flute.resample(16000))) - len(flute)) <= 1
    assert any('resampled' in str(x.message) for x in w)


def test_follow_picks_codes_directly(model):
    tab = model.code_descriptors()
    assert set(tab) >= {'z', 'centroid', 'flatness'} and tab['centroid'].shape == (model.n_codes,)
    assert model.code_descriptors() is not tab and torch.equal(model.code_descriptors()['centroid'], tab['centroid'])
    lo, hi = float(tab['centroid'].min()), float(tab['centroid'].max())
    curve = np.geomspace(lo * 1.1, hi * 0.9, 30)
    snd = model.follow(curve, 'centroid')
    assert len(snd) == 30 * model.hop_length and len(snd.meta['codes']) == 30
    picked = tab['centroid'][torch.tensor(snd.meta['codes'])].numpy()
    assert np.corrcoef(np.log(picked), np.log(curve))[0, 1] > 0.8      # the picked code words rise with the curve
    s2 = model.follow({'centroid': curve, 'loudness': -30.0}, seconds=1.0, switch=1.0)
    assert len(set(s2.meta['codes'])) <= len(set(snd.meta['codes']))  # a cost per change holds colours
    assert code_path(torch.tensor([1., 2., 4.]), torch.tensor([1.1, 3.9, 2.1])).tolist() == [0, 2, 1]


def test_save_load_round_trip(model, flute, tmp_path):
    p = model.save(tmp_path / 'violin.lp')
    assert not list(tmp_path.glob('*.tmp*'))                          # written atomically: no temporary file left
    tensors, meta = read_checkpoint(p)
    assert meta['kind'] == 'vq' and 'model.codebook.embed' in tensors and 'model.codebook.count' in tensors
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        back = load_model(p)
    assert back.config() == model.config() and torch.equal(back.codebook.embed, model.codebook.embed)
    assert np.array_equal(back.transfer(flute).audio, model.transfer(flute).audio)
    with pytest.raises(CheckpointError, match="holds a 'vq' model, not a 'grains' model"): load_model(p, kind='grains')


def test_resume_and_checkpoint(violins, tmp_path):
    ck = tmp_path / 'run.lp'
    a = VQTimbre.fit(violins, max_steps=3, batch_size=4, segment_seconds=0.25, n_codes=8, hidden=16, checkpoint=ck,
                     progress=False, validate_every=1e9)
    assert load_model(ck).config() == a.config()
    with pytest.warns(UserWarning, match='finished model'):
        b = VQTimbre.fit(violins, max_steps=3, checkpoint=ck, resume=True, progress=False)
    assert torch.equal(b.codebook.embed, a.codebook.embed)


def test_protocol(model):
    assert isinstance(model, ModelProtocol) and check_protocol(model) is model
    assert isinstance(ProtocolOnly(model), ModelProtocol)
    assert {'render', 'resynthesize', 'transfer', 'code_descriptors'} <= model.capabilities
    assert not can(model, 'generate') and not can(model, 'stream')
    assert model.conditions == {'loudness': (SILENT_DB, 0.0)} and model.decode_conditions == {}
    assert model.prior(7, seed=3).shape == (7, model.latent_dim) and torch.equal(model.prior(7, seed=3), model.prior(7, seed=3))
    z = model.prior(10)
    assert torch.equal(model.codebook.embed[model.codebook.nearest(z)], z)        # the prior is made of code words
    out = model.decode(z)
    assert len(out) == 10 * model.hop_length and out.sr == model.sr and np.isfinite(out.audio).all()
    between = model.decode((z[:1] + z[1:2]) / 2, quantize=False)
    assert np.isfinite(between.audio).all()
    y = model.render(z[None].requires_grad_())
    assert y.shape == (1, 10 * model.hop_length) and y.requires_grad


def test_widgets_play_it(model):
    from latentplay.widgets import sliders
    w = sliders(model, n_axes=2, threaded=False, autoplay=False).set(coords=[1.0, -0.5], seconds=0.5)
    assert w.sound.sr == model.sr and np.isfinite(w.sound.audio).all()


def test_bad_input(model, violins):
    with pytest.raises(ValueError, match='empty'): model.transfer(Sound(np.zeros(0, np.float32), 22050))
    with pytest.raises(TypeError, match='pass a Sound'): model.transfer('voice.wav')
    with pytest.raises(ValueError, match='out of range'): model.transfer(Sound(np.full(3000, 5000.0, np.float32), 22050))
    z = model.prior(4)
    with pytest.raises(ValueError, match='NaN'): model.decode(z, loudness=[-20, float('nan'), -20, -20])
    with pytest.raises(ValueError, match='dB re full scale'): model.decode(z, loudness=30)
    with pytest.raises(ValueError, match='latents must be shaped'): model.decode(torch.zeros(4, 3))
    with pytest.raises(ValueError, match='NaN or infinite'): model.decode(torch.full((4, model.latent_dim), float('nan')))
    with pytest.raises(ValueError, match='seconds='): model.follow(2000.0)
    with pytest.raises(ValueError, match='name a spectral descriptor'): model.follow({'loudness': [-30, -20]})
    with pytest.raises(ValueError, match='cannot tabulate'): model.code_descriptors(['f0'])
    with pytest.raises(ValueError, match='n_codes must be'): VQTimbre(n_codes=1)
    with pytest.raises(ValueError, match='corpus is empty'): VQTimbre.fit(Corpus([], 22050), max_steps=1)
    silent = Corpus([Sound(np.zeros(22050, np.float32), 22050)], 22050)
    with pytest.raises(ValueError, match='silent'): VQTimbre.fit(silent, max_steps=1, progress=False)


def test_cli_transfer(model, flute, tmp_path):
    "`latentplay transfer MODEL IN OUT`: the input's length at the model's rate; `--to` refused for one timbre; the input untouched."
    import hashlib, subprocess, sys
    model.save(tmp_path / 'v.lp')
    flute.save(tmp_path / 'in.wav', level='as is')
    before = hashlib.sha256((tmp_path / 'in.wav').read_bytes()).hexdigest()
    run = lambda *a: subprocess.run([sys.executable, '-m', 'latentplay.cli', *map(str, a)], capture_output=True, text=True,
                                    cwd=tmp_path, timeout=300)
    r = run('transfer', 'v.lp', 'in.wav', 'out.wav', '--loudness-shift', -6)
    assert r.returncode == 0, r.stderr[-2000:]
    out = lp.load(tmp_path / 'out.wav')
    assert out.sr == model.sr and abs(out.duration - flute.duration) < 1e-3 and np.isfinite(out.audio).all()
    r = run('transfer', 'v.lp', 'in.wav', 'x.wav', '--to', 'Violin')
    assert r.returncode == 2 and 'no --to' in r.stderr and not (tmp_path / 'x.wav').exists(), r.stderr
    r = run('transfer', 'pretrained:gm-drums', 'in.wav', 'y.wav')
    assert r.returncode == 2 and 'cannot transfer' in r.stderr and not (tmp_path / 'y.wav').exists(), r.stderr
    assert hashlib.sha256((tmp_path / 'in.wav').read_bytes()).hexdigest() == before


# ---- the harmonic decoder ---------------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def harmonic(violins):
    torch.set_num_threads(1)
    return VQTimbre.fit(violins, max_steps=24, batch_size=8, segment_seconds=0.25, n_codes=32, hidden=32, dead=0.2,
                        decoder='harmonic', progress=False, validate_every=0)


def _f0_near(sound, hz):
    "Median f0 of the voiced frames, searched near `hz` (no octave errors)."
    from latentplay.features import f0_yin
    f, p = f0_yin(sound, fmin=0.7 * hz, fmax=1.4 * hz)
    return float(f[p > 0.5].median())


def test_harmonic_decoder_follows_the_input_pitch_and_loudness(harmonic, flute):
    h = [x for x in harmonic.history if 'loss' in x]
    assert len(h) == 24 and all(math.isfinite(x['loss']) for x in h) and harmonic.config()['decoder'] == 'harmonic'
    assert 55 <= float(harmonic.typical_pitch) <= 90 and harmonic.decode_conditions == {'pitch': tuple(float(v) for v in harmonic.pitch_range)}
    assert harmonic.conditions == {'loudness': (SILENT_DB, 0.0), **harmonic.decode_conditions}
    out = harmonic.transfer(flute)
    assert len(out) == len(flute) and np.isfinite(out.audio).all()
    hz = 440 * 2 ** ((72 - 69) / 12)
    assert abs(1200 * math.log2(_f0_near(out, hz) / _f0_near(flute, hz))) < 20          # the flute's pitch, in cents
    lf, lo = measured_loudness(flute), measured_loudness(out)
    on = lf > lf.max() - 40
    assert np.corrcoef(lf[on], lo[on])[0, 1] > 0.9 and abs(float((lo[on] - lf[on]).median())) < 2
    z = harmonic.prior(30)
    for p in (55, 67):
        hz = 440 * 2 ** ((p - 69) / 12)
        s = harmonic.decode(z, pitch=p, loudness=-25)
        assert abs(1200 * math.log2(_f0_near(s, hz) / hz)) < 20 and abs(float(measured_loudness(s)[3:-3].median()) + 25) < 2
    assert np.isfinite(harmonic.decode(z, pitch=np.linspace(50, 70, 30)).audio).all()
    snd = harmonic.follow(np.geomspace(600, 3000, 20), 'centroid', pitch=60)
    assert len(snd) == 20 * harmonic.hop_length and np.isfinite(snd.audio).all()


def test_harmonic_decoder_unpitched_input(harmonic):
    noise = Sound(0.1 * np.random.default_rng(0).uniform(-1, 1, 22050).astype(np.float32), 22050)
    _, _, f0 = harmonic._encode_audio(torch.from_numpy(noise.audio), pitch=True)
    assert torch.isnan(f0).all()                                                      # nothing voiced...
    out = harmonic.transfer(noise)
    assert np.isfinite(out.audio).all() and out.rms > 0                               # ...noise only, never NaN
    assert not harmonic.transfer(Sound(np.zeros(4000, np.float32), 22050)).audio.any()   # silence in, silence out
    z = harmonic.prior(12)
    loud = torch.full((12,), -30.0)
    half = torch.tensor([float('nan')] * 6 + [220.0] * 6)                             # half unvoiced
    y = harmonic.render(z, loud, f0=half)
    assert torch.isfinite(y).all()
    assert torch.allclose(y[..., :3 * harmonic.hop_length], harmonic.render(z, loud, f0=torch.full((12,), float("nan")))[..., :3 * harmonic.hop_length], atol=1e-5)   # unvoiced frames: the noise alone


def test_harmonic_files_widgets_and_old_checkpoints(harmonic, flute, tmp_path):
    p = harmonic.save(tmp_path / 'h.lp')
    back = load_model(p)
    assert back.config() == harmonic.config() and np.array_equal(back.transfer(flute).audio, harmonic.transfer(flute).audio)
    assert float(back.typical_pitch) == float(harmonic.typical_pitch)
    check_protocol(harmonic)
    old = read_checkpoint(Path(lp.__file__).parent / 'pretrained' / 'gm-violin-vq.lp')[1]['config']
    cfg = {k: v for k, v in old.items() if k not in ('decoder', 'n_harmonics')}      # as a file written before the option
    assert VQTimbre(**cfg).config()['decoder'] == 'noise'
    from latentplay.widgets import sliders
    w = sliders(harmonic, n_axes=2, threaded=False, autoplay=False, pitch=64).set(coords=[0.5, 0.0], seconds=0.5)
    assert 'pitch' in w.pickers and np.isfinite(w.sound.audio).all()
    hz = 440 * 2 ** ((64 - 69) / 12)
    assert abs(1200 * math.log2(_f0_near(w.sound, hz) / hz)) < 30                   # the picker's pitch reaches decode
    with pytest.raises(ValueError, match='takes no pitch'):
        VQTimbre(n_codes=4, hidden=8).decode(torch.zeros(3, 16), pitch=60)
    with pytest.raises(ValueError, match='MIDI numbers'): harmonic.decode(harmonic.prior(3), pitch=float('nan'))
    with pytest.raises(ValueError, match="decoder must be 'noise' or 'harmonic'"): VQTimbre(decoder='additive')


@pytest.mark.parametrize('name', ['gm-violin-vq', 'gm-flute-vq'])
def test_shipped_timbres_play_a_voice_at_its_pitch(name):
    "The shipped VQ timbres (harmonic decoders) turn a sampled voice into the instrument at the voice's own pitch and loudness."
    from latentplay.models import pretrained, pretrained_names
    if name not in pretrained_names(): pytest.skip(f'{name} is not shipped in this checkout')
    m = pretrained(name)
    assert m.config()['decoder'] == 'harmonic' and 'pitch' in m.decode_conditions
    voice = Corpus.builtin('gm-notes', progress=False).filter(instrument='Choir')[0]
    out = m.transfer(voice)
    hz = 440 * 2 ** ((float(voice.meta['pitch']) - 69) / 12)
    assert abs(1200 * math.log2(_f0_near(out, hz) / _f0_near(voice, hz))) < 20
    lv, lo = measured_loudness(voice), measured_loudness(out)
    on = lv > lv.max() - 40
    assert np.corrcoef(lv[on], lo[on])[0, 1] > 0.95
