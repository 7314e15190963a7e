"NoteModel (latentplay.notes): training with the fader, mixtures, edit, files, the protocol, sliders, bad input."
import math, warnings
import numpy as np
import pytest
import torch
from latentplay.corpus import Corpus
from latentplay.models import check_protocol, ProtocolOnly, load_model
from latentplay.train import CheckpointError
from latentplay.sound import Sound
from conftest import stop_once_saved
from latentplay.notes import NoteModel, fader_weight, mixture, mmd_rbf


@pytest.fixture(scope='module')
def notes():
    "A few loud notes of gm-techniques: two instruments, five styles."
    c = Corpus.builtin('gm-techniques', progress=False)
    return c.filter(instrument=['Violin', 'Trumpet', 'Guitar'], velocity=[85, 127])


@pytest.fixture(scope='module')
def model(notes):
    torch.set_num_threads(1)
    return NoteModel.fit(notes, max_steps=16, batch_size=8, channels=16, progress=False, validate_every=1e9)


def test_trains_with_fader_warmed(model, notes):
    h = [x for x in model.history if 'loss' in x]
    assert len(h) == 16 and all(math.isfinite(x['loss']) for x in h)
    assert h[0]['fader'] == 0 and h[-1]['fader'] == 1.0            # warmed from 0, full from half of the budget
    assert 0 < h[4]['fader'] < 1 and all(a['fader'] <= b['fader'] for a, b in zip(h, h[1:]))
    assert all(k in h[0] for k in ('rec', 'mmd', 'critic'))
    assert model.instruments == ['Guitar', 'Trumpet', 'Violin'] and 'pizzicato' in model.styles
    assert fader_weight(0.25, 4.0) == 2.0 and fader_weight(0.9, 4.0) == 4.0 and fader_weight(0.3, 0.0) == 0.0
    val = [x for x in model.history if 'val_rec' in x]
    assert val and 0 <= val[-1]['val_critic_instrument'] <= 1


def test_no_fader_keeps_weight_zero(notes):
    m = NoteModel.fit(notes, max_steps=3, batch_size=4, channels=8, fader=0.0, progress=False, validate_every=1e9)
    assert all(x['fader'] == 0 for x in m.history if 'loss' in x)


def test_confusion_fader_and_critic_steps(notes):
    m = NoteModel.fit(notes, max_steps=4, batch_size=4, channels=8, fader_loss='uniform', critic_steps=2, fader_warmup=0.25,
                      progress=False, validate_every=1e9)
    h = [x for x in m.history if 'loss' in x]
    assert h[-1]['fader'] == 1.0 and all(math.isfinite(x['loss']) for x in h)
    with pytest.raises(ValueError, match="fader_loss must be 'max' or 'uniform'"): NoteModel.fit(notes, max_steps=1, fader_loss='flip')


def test_mmd_tells_samples_apart():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, 4, generator=g), torch.randn(64, 4, generator=g)
    assert abs(float(mmd_rbf(a, b))) < 0.1 < float(mmd_rbf(a + 2, b))


def test_mixtures(model):
    n = 12 + len(model.octaves)
    c = model.condition(60, {'Violin': 2.0}, {'arco': 0.5, 'pizzicato': 0.5})
    inst = c[n:n + 3].tolist()
    assert inst == [0, 0, 2.0]                                     # above 1 kept: it exaggerates
    assert abs(float(c[n + 3:].sum()) - 1.0) < 1e-6
    z = model.prior(1, seed=3)
    for w in ({'Violin': 1.8}, {'Violin': 0.7, 'Trumpet': 0.3}, None):
        s = model.decode(z, pitch=64, instrument=w, style='arco')
        assert np.isfinite(s.audio).all() and len(s.audio) == model.length
    with pytest.raises(ValueError, match='>= 0'): model.decode(z, instrument={'Violin': -0.1})
    with pytest.raises(ValueError, match='>= 0'): model.decode(z, style={'arco': float('nan')})
    with pytest.raises(ValueError, match='sum to 0'): model.decode(z, instrument={'Violin': 0})
    with pytest.raises(ValueError, match='>= 0'): mixture('style', ['a'], {'a': 'loud'})


def test_edit_changes_the_instrument(model, notes):
    src = notes.filter(instrument='Guitar')[0]
    z, p = model.encode(src), src.meta['pitch']
    out = model.edit(src, pitch=p, instrument='Violin', style='arco')
    same = model.decode(z, pitch=p, instrument='Violin', style='arco')
    other = model.decode(z, pitch=p, instrument='Guitar', style='arco')
    assert np.allclose(out.audio, same.audio, atol=1e-6) and not np.allclose(out.audio, other.audio, atol=1e-4)
    assert abs(model.estimate_pitch(src) - p) <= 1                 # without pitch=, the note's own (YIN)


def test_save_load_round_trip(model, notes, tmp_path):
    p = model.save(tmp_path / 'n.lp')
    m2 = load_model(p)
    assert isinstance(m2, NoteModel) and m2.config() == model.config()
    s = notes[0]
    assert torch.allclose(m2.encode(s), model.encode(s))
    assert np.allclose(m2.decode(m2.prior(1), pitch=60, instrument='Violin').audio,
                       model.decode(model.prior(1), pitch=60, instrument='Violin').audio, atol=1e-6)
    with pytest.raises(CheckpointError, match="'notes' model, not a 'grains' model"): load_model(p, kind='grains')
    with warnings.catch_warnings(record=True):
        warnings.simplefilter('always')
        back = NoteModel.fit(notes, checkpoint=p, resume=True, progress=False)        # a finished file: returned as is
    assert back.config() == model.config()


def test_other_kind_refused(tmp_path):
    from conftest import tiny_grain_model
    p = tiny_grain_model(22050).save(tmp_path / 'g.lp')
    with pytest.raises(CheckpointError, match="'grains' model, not a 'notes' model"): load_model(p, kind='notes')
    with pytest.raises(CheckpointError, match="not a 'notes'"): NoteModel.fit(Corpus.builtin('gm-techniques', progress=False)[:4],
                                                                              checkpoint=p, resume=True, progress=False)


def test_protocol(model):
    assert check_protocol(model) is model and model.hop_length is None and model.kind == 'notes'
    assert set(model.conditions) == {'pitch', 'instrument', 'style'} and model.decode_conditions == model.conditions
    assert model.prior(5, seed=1).shape == (5, model.latent_dim)
    assert torch.equal(model.prior(2, seed=1), model.prior(2, seed=1))
    po = ProtocolOnly(model)
    s = po.decode(po.prior(1))                                     # no conditions: pitch 60, even mixes
    assert isinstance(s, Sound) and s.sr == model.sr and np.isfinite(s.audio).all()
    assert po.encode(s).shape == (1, model.latent_dim)
    two = model.decode(model.prior(2), pitch=60, instrument='Violin')   # T points: T notes in a row
    assert len(two.audio) == 2 * model.length
    assert {'generate'} <= set(model.capabilities)
    g = model.generate(pitch=62, instrument='Trumpet', style='muted', n=2, seed=1, temperature=0.5)
    assert len(g) == 2 and all(np.isfinite(x.audio).all() for x in g)


def test_sliders_render(model):
    import latentplay as lp
    w = lp.sliders(model, threaded=False, autoplay=False).set(coords=[1.0, -0.5])
    assert w.sound.sr == model.sr and np.isfinite(w.sound.audio).all() and len(w.sound.audio) == model.length


def test_bad_input(model, notes):
    z = model.prior(1)
    with pytest.raises(ValueError, match=r"unknown instrument 'Kazoo'; this model knows Guitar, Trumpet, Violin"):
        model.decode(z, instrument='Kazoo')
    with pytest.raises(ValueError, match=r"unknown style 'bowed'; this model knows"): model.decode(z, style='bowed')
    with pytest.raises(ValueError, match='outside the range .* refused, not clamped'): model.decode(z, pitch=model.high + 1)
    with pytest.raises(ValueError, match='whole MIDI number'): model.decode(z, pitch=60.5)
    with pytest.raises(ValueError, match='whole MIDI number'): model.decode(z, pitch='C4')
    with pytest.raises(ValueError, match='NaN'): model.decode(torch.full((1, model.latent_dim), float('nan')))
    with pytest.raises(ValueError, match='needs at least'): model.encode(Sound(notes[0].audio[:1000], notes.sr))
    with pytest.raises(ValueError, match='no pitch found'): model.edit(Sound(np.zeros(model.length, np.float32), model.sr))
    with pytest.raises(ValueError, match="method must be"): model.decode(z, method='magic')
    c = Corpus.builtin('gm-drums', progress=False)[:4]
    with pytest.raises(ValueError, match="no 'pitch' labels"): NoteModel.fit(c, max_steps=1, progress=False)
    with pytest.raises(ValueError, match='multiple of 8'): NoteModel(frames=20)
    assert np.isfinite(model.decode(z * 1e6, instrument='Violin').audio).all()   # far from the prior: still finite


def test_background_stop_and_resume(notes, tmp_path):
    "A run stopped in the background leaves a resumable checkpoint; resume=True continues its steps and optimizers."
    from latentplay.train import checkpoint_info
    p = tmp_path / 'run.lp'
    job = NoteModel.fit(notes, max_steps=400, batch_size=4, channels=8, checkpoint=p, checkpoint_every=0.2,
                        validate_every=1e9, background=True)
    tr = stop_once_saved(job, p, timeout=30)
    assert tr and tr['state']['step'] >= 2 and 'optim_d' in tr
    done = tr['state']['step']
    m = NoteModel.fit(notes, max_steps=done + 3, batch_size=4, channels=8, checkpoint=p, resume=True, progress=False, validate_every=1e9)
    steps = [h['step'] for h in m.history if 'loss' in h]
    assert steps[-1] == done + 3 and not checkpoint_info(p).get('training')      # finished: a plain model file


def test_cli_trains_and_generates_notes(tmp_path):
    "`latentplay train builtin:gm-techniques --model notes` and `generate --pitch --instrument --style`, mixtures included."
    import subprocess, sys
    run = lambda *a: subprocess.run([sys.executable, '-m', 'latentplay.cli', *map(str, a)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    r = run('train', 'builtin:gm-techniques', '--model', 'notes', '--max-steps', 4, '--out', 'n.lp')
    assert r.returncode == 0, r.stderr[-2000:]
    r = run('generate', 'n.lp', '--pitch', 62, '--instrument', 'Violin:0.7,Trumpet:0.3', '--style', 'pizzicato:1.5', '--n', 2, '--out', 'mix.wav')
    assert r.returncode == 0 and (tmp_path / 'mix-2.wav').is_file(), r.stderr
    for bad, words in [(['--instrument', 'Kazoo'], 'Kazoo'), (['--label', 'kick'], 'no --label'), (['--instrument', 'Violin:x'], 'NAME:WEIGHT'),
                       (['--instrument', 'Violin:-1'], 'Violin')]:
        r = run('generate', 'n.lp', *bad, '--out', 'bad.wav')
        assert r.returncode == 2 and words in r.stderr and 'Traceback' not in r.stderr, (bad, r.stderr)
    assert not (tmp_path / 'bad.wav').exists()


def test_render_magnitudes_is_decode_with_gradients(model):
    "The spectrogram `decode` plays, differentiable in z (descriptor targets measure it), one note per point."
    from latentplay.models import can
    assert can(model, 'magnitudes')
    z = model.prior(2).requires_grad_()
    M = model.render_magnitudes(z, pitch=60, instrument='Violin', style=None)
    assert M.shape == (model.spectral.n_bins, 2 * model.frames) and torch.isfinite(M).all()
    M.mean().backward(); assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='unknown instrument'): model.render_magnitudes(z, instrument='Kazoo')
    with pytest.raises(ValueError, match='outside'): model.render_magnitudes(z, pitch=10)
