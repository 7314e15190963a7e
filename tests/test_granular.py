"""GrainModel: the protocol, every granular process, checkpoints and resume, and every bad input, on real drum hits.
Tiny configurations and step budgets keep this fast on 2 CPU cores; real training is in scripts/ and bench/."""
import json, os, subprocess, sys, time, warnings

import numpy as np
import pytest
import torch

from latentplay.granular import GrainModel
from latentplay.models import load_model, pretrained, pretrained_names
from latentplay.train import CheckpointError, read_checkpoint, write_checkpoint
from latentplay.sound import Sound
from latentplay.dsp import lsd, NoiseGrainSynth

TINY = dict(hidden=64, latent_dim=8, n_mels=32, embed_dim=8, rnn_hidden=32, seq_seconds=0.4)


@pytest.fixture(scope='module')
def hits(gm_drums):
    return gm_drums.filter(label=['kick', 'snare', 'hihat'], kit='Standard')


@pytest.fixture(scope='module')
def tiny(hits):
    torch.set_num_threads(1)
    return GrainModel.fit(hits, max_steps=16, progress=False, batch_size=4, **TINY)


def test_protocol(tiny, hits):
    s = hits[0]
    z = tiny.encode(s)
    assert z.shape == (1 + len(s.audio) // tiny.hop_length, tiny.latent_dim)
    out = tiny.decode(z)
    assert isinstance(out, Sound) and len(out.audio) == len(z) * tiny.hop_length and out.sr == hits.sr
    assert tiny.conditions == {'label': ['hihat', 'kick', 'snare']}
    p = tiny.prior(5, seed=1)
    assert p.shape == (5, 8) and torch.equal(p, tiny.prior(5, seed=1)) and not torch.equal(p, tiny.prior(5, seed=2))
    assert len(tiny.decode(p[0]).audio) == tiny.hop_length                # one point is one hop of sound
    assert tiny.latent_axes.shape == (8, 8) and (tiny.latent_scales[:-1] >= tiny.latent_scales[1:]).all()


def test_processes(tiny, hits):
    s = hits.filter(label='snare')[0]
    r = tiny.resynthesize(s)
    assert len(r.audio) == len(s.audio) and np.isfinite(r.audio).all() and r.peak > 0
    st = tiny.stretch(s, 2.0)
    assert len(st.audio) == round(2 * len(s.audio))
    assert len(tiny.stretch(s, 0.5).audio) == round(0.5 * len(s.audio))
    g = tiny.generate(label='kick', n=2, seed=3)
    assert len(g) == 2 and all(len(x.audio) == tiny.seq_grains * tiny.hop_length for x in g)
    assert not np.array_equal(g[0].audio, g[1].audio)
    assert np.allclose(tiny.generate(label='kick', seed=4).audio, g[1].audio, atol=1e-6)   # sound i of n is seed + i
    mix = tiny.generate(label={'kick': 0.5, 'snare': 0.5})
    assert np.isfinite(mix.audio).all()
    m = tiny.morph('kick', 'snare', n=3)
    assert len(m) == 3 and np.array_equal(m[0].audio, tiny.morph('kick', 'hihat', n=2)[0].audio)
    m2 = tiny.morph(hits[0], hits[5], n=4)
    assert len(m2) == 4 and tiny.embed(hits[0]).shape == (8,)


def test_stretch_keeps_the_spectrum(tiny, hits):
    "Re-timing changes the duration, not the spectrum of the grains: long-term spectra of both versions match."
    s = [x for x in hits if x.duration > 0.4][0]
    a, b = tiny.resynthesize(s), tiny.stretch(s, 3.0)
    spec = lambda x: np.abs(np.fft.rfft(x.audio, 8192)) ** 2
    A, B = np.log(spec(a) + 1e-9), np.log(spec(b) + 1e-9)
    assert np.corrcoef(A, B)[0, 1] > 0.9


def test_streaming_blocks_join_without_seams(tiny, hits):
    long = Sound(np.concatenate([x.audio for x in hits.sounds[:12]]), hits.sr)
    a, b = tiny.resynthesize(long, block=5), tiny.resynthesize(long)
    np.testing.assert_allclose(a.audio, b.audio, atol=1e-5)


def test_silent_and_empty_and_rate(tiny, hits):
    silent = tiny.resynthesize(Sound(np.zeros(5000, np.float32), hits.sr))
    assert silent.peak == 0 and len(silent.audio) == 5000
    with pytest.raises(ValueError, match='empty'): tiny.resynthesize(Sound(np.zeros(0, np.float32), hits.sr))
    with pytest.warns(UserWarning, match='resampled'):
        r = tiny.resynthesize(hits[0].resample(44100))
    assert r.sr == hits.sr


def test_bad_latents_and_labels(tiny):
    with pytest.raises(ValueError, match=r'\[\.\.\., T, 8\]'): tiny.decode(torch.zeros(10, 7))
    with pytest.raises(ValueError, match='NaN'): tiny.decode(torch.tensor([[0.0] * 7 + [float('nan')]]))
    with pytest.raises(ValueError, match="unknown label 'tuba'"): tiny.generate(label='tuba')
    with pytest.raises(ValueError, match='unknown label'): tiny.morph('kick', 'cowbell')
    with pytest.raises(ValueError, match='factor'): tiny.stretch(Sound(np.ones(3000, np.float32) * .1, 22050), -1)
    with pytest.raises(TypeError, match='resynthesize'): tiny.decode(Sound(np.zeros(100, np.float32), 22050))
    far = tiny.decode(torch.full((20, 8), 1e6))              # far outside the data: bounded, never NaN
    assert np.isfinite(far.audio).all() and far.peak < 50


def test_save_load_roundtrip(tiny, hits, tmp_path):
    p = tiny.save(tmp_path / 'm.lp')
    m2 = load_model(p)
    assert type(m2) is GrainModel and m2.config() == tiny.config() and m2.labels == tiny.labels
    z = tiny.encode(hits[1])
    np.testing.assert_array_equal(m2.decode(z).audio, tiny.decode(z).audio)
    assert m2.info['corpus']['files'] == len(hits)
    h = tiny.save(tmp_path / 'half.lp', half=True)
    assert h.stat().st_size < 0.6 * p.stat().st_size
    assert lsd(tiny.decode(z), load_model(h).decode(z)).item() < 0.5
    with pytest.raises(CheckpointError, match="holds a 'grains' model"): load_model(p, kind='stored-grains')
    t, meta = read_checkpoint(p)
    write_checkpoint(tmp_path / 'future.lp', t, {**meta, 'kind': 'grains'})
    raw = (tmp_path / 'future.lp').read_bytes()
    key = b'\\"format\\": 1'                   # the JSON header is itself a JSON string inside safetensors' header
    assert key in raw
    (tmp_path / 'future.lp').write_bytes(raw.replace(key, key[:-1] + b'9'))
    with pytest.raises(CheckpointError, match='upgrade latentplay'): load_model(tmp_path / 'future.lp')


def test_user_folder(tmp_user_folder):
    "A user's own folder, bad files and all: labels from sub-folders, a model that rebuilds its sounds."
    from latentplay.corpus import Corpus
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        c = Corpus.from_folder(tmp_user_folder.root, sr=16000, progress=False)
    m = GrainModel.fit(c, max_steps=4, progress=False, batch_size=4, **TINY)
    assert m.frame_length == 1024 and m.hop_length == 256 and m.labels == ['hihat', 'kick', 'snare']
    assert np.isfinite(m.resynthesize(c[0]).audio).all()


_RESUMABLE = """
import sys, torch
torch.set_num_threads(1)
from latentplay.corpus import Corpus
from latentplay.granular import GrainModel
c = Corpus.builtin('gm-drums', progress=False).filter(label=['kick', 'snare'], kit='Standard')
GrainModel.fit(c, max_steps=int(sys.argv[2]), checkpoint=sys.argv[1], resume=True, progress=False, batch_size=4,
               checkpoint_every=0.0, validate_every=1e9, hidden=64, latent_dim=8, n_mels=32, embed_dim=8, rnn_hidden=32,
               seq_seconds=0.4)
"""


def test_resume_after_kill(tmp_path):
    "A training process killed mid-run resumes from its last checkpoint and loses nothing before it."
    ck = tmp_path / 'run.lp'
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    p = subprocess.Popen([sys.executable, '-c', _RESUMABLE, str(ck), '100000'], env=env)
    step, t0 = 0, time.time()
    while time.time() - t0 < 240 and step < 5:
        time.sleep(0.5)
        if ck.exists():
            try: step = read_checkpoint(ck)[1]['training']['state']['step']
            except Exception: pass
    p.kill(); p.wait()
    assert step >= 5, "no checkpoint appeared"
    _, meta = read_checkpoint(ck)
    saved = meta['training']['state']['step']
    assert meta['training']['stage'] == 'grains' and saved >= 5
    target = saved + 6
    r = subprocess.run([sys.executable, '-c', _RESUMABLE, str(ck), str(target)], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    m = load_model(ck)
    grain_steps = [h['step'] for h in m.info['history'] if h.get('stage') == 'grains' and 'loss' in h]
    assert grain_steps[-1] == round(target * 0.75) and saved in grain_steps   # continued, not restarted
    assert read_checkpoint(ck)[1].get('training') is None                       # finished: a plain model file


_EARLY = _RESUMABLE.replace("checkpoint_every=0.0, ", "")      # the default interval: the first checkpoint comes early anyway


def test_resume_after_a_kill_in_the_first_seconds(tmp_path):
    "A run killed seconds after it starts (long before `checkpoint_every`) leaves a checkpoint, and resumes from it."
    ck = tmp_path / 'early.lp'
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    p = subprocess.Popen([sys.executable, '-c', _EARLY, str(ck), '100000'], env=env, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while time.time() - t0 < 240 and not ck.exists(): time.sleep(0.2)
    p.kill(); p.wait()
    assert ck.exists(), "no checkpoint appeared"
    _, meta = read_checkpoint(ck)
    saved = meta['training']['state']['step']
    assert meta['training']['stage'] == 'grains' and saved >= 1 and meta['training']['state']['seconds'] < 30
    target = int((saved + 4) / 0.75) + 1                                         # 3/4 of the steps go to the grain stage
    r = subprocess.run([sys.executable, '-c', _EARLY, str(ck), str(target)], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    grain_steps = [h['step'] for h in load_model(ck).info['history'] if h.get('stage') == 'grains' and 'loss' in h]
    assert saved in grain_steps and grain_steps[-1] == round(target * 0.75)          # continued, not restarted


def test_resume_with_nothing_to_resume_says_so(hits, tmp_path):
    with pytest.warns(UserWarning, match='no checkpoint at .* to resume from; starting a new training'):
        m = GrainModel.fit(hits, max_steps=2, checkpoint=tmp_path / 'new.lp', resume=True, progress=False, batch_size=2, **TINY)
    assert (tmp_path / 'new.lp').exists() and m.info['steps']['grains'] > 0


def test_time_budget(hits):
    m = GrainModel.fit(hits, minutes=0.03, progress=False, batch_size=2, **TINY)
    assert m.info['steps']['grains'] > 0 and m.info['steps']['sequence'] > 0


@pytest.mark.skipif(not pretrained_names(), reason='no pretrained models in this checkout')
def test_pretrained_models_load_and_play():
    from latentplay.models import can
    for name in pretrained_names():                  # every shipped model: the granular ones, the timbre and code-word models
        m = pretrained(name)
        if can(m, 'generate'): x = m.generate(**({'label': m.labels[0]} if m.labels else {}))
        else: x = m.decode(m.prior(40, seed=0))       # a model that only decodes (a VQTimbre): its prior path
        assert np.isfinite(x.audio).all() and x.peak > 1e-3, name
        if m.kind == 'grains': assert m.info['held_out']['lsd'] > 0


def test_references_floor_and_ceiling(tiny, hits):
    "Loudness-matched noise follows the level; the noise ceiling (exact grain magnitudes on noise) is far closer."
    from latentplay.granular import loudness_matched_noise
    s = hits.filter(label='snare')[0]
    floor, ceil = loudness_matched_noise(s, seed=1), tiny.noise_ceiling(s)
    assert len(floor.audio) == len(ceil.audio) == len(s.audio)
    assert abs(20 * np.log10(floor.rms / s.rms)) < 3
    assert lsd(s, ceil).item() < lsd(s, floor).item() - 2
    with pytest.raises(TypeError, match='Sound'): loudness_matched_noise(s.audio)


def test_decode_conditions_name_what_changes_decoded_grains():
    "Widgets offer a class beside the latents only where the grain decoder takes it."
    from latentplay.models import pretrained
    d = pretrained('gm-drums')
    assert 'label' in d.conditions and d.decode_conditions == (d.conditions if d.grain_conditioning else {})
    gc = GrainModel(labels=['a', 'b'], grain_conditioning=True, latent_dim=8, hidden=32, rnn_hidden=16, embed_dim=8)
    assert gc.decode_conditions == {'label': ['a', 'b']}
    z = gc.prior(20, seed=0)
    assert not np.allclose(gc.decode(z, label='a').audio, gc.decode(z, label='b').audio)


def test_controls_are_the_processors_and_bounded(tiny, hits):
    "The DDSP split: controls of a path are bounded filter magnitudes, and the processor renders exactly what decode gives."
    z = tiny.encode(hits[2])
    c = tiny.controls(z)
    assert isinstance(tiny.synth, NoiseGrainSynth) and c.shape == (len(z), tiny.frame_length // 2 + 1)
    assert 0 < c.min() and c.max() <= tiny.synth.max_magnitude + 1e-6
    assert tiny.controls(torch.full((3, 8), 1e6)).max() <= tiny.synth.max_magnitude + 1e-6
    with torch.no_grad():
        y = tiny.synth.get_signal(c)
        np.testing.assert_allclose(y.numpy(), tiny.decode(z).audio, atol=1e-6)
        np.testing.assert_allclose(tiny.render(z[None])[0].numpy(), y.numpy(), atol=1e-6)
    assert tiny.controls(z[None]).shape == (1, *c.shape) and tiny.controls(z[0]).shape == (1, c.shape[1])


def test_old_checkpoint_layout_loads_silently(tiny, hits, tmp_path):
    "A file written before the processor (post.* weights) under the old config names loads without a word and decodes the same."
    p = tiny.save(tmp_path / 'new.lp')
    t, meta = read_checkpoint(p)
    assert any(k.startswith('model.synth.post.') for k in t) and {'sr', 'frame_length', 'hop_length'} <= set(meta['config'])
    old_t = {('model.post.' + k[len('model.synth.post.'):] if k.startswith('model.synth.post.') else k): v for k, v in t.items()}
    c = dict(meta['config']); c['sample_rate'], c['window'], c['hop'] = c.pop('sr'), c.pop('frame_length'), c.pop('hop_length')
    write_checkpoint(tmp_path / 'old.lp', old_t, {**meta, 'config': c})
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        old = load_model(tmp_path / 'old.lp')
    z = tiny.encode(hits[1])
    np.testing.assert_array_equal(old.decode(z).audio, tiny.decode(z).audio)
    assert old.config() == tiny.config()


@pytest.mark.skipif(not pretrained_names(), reason='no pretrained models in this checkout')
def test_shipped_checkpoints_load_silently():
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        for name in pretrained_names():
            m = pretrained(name)
            if m.kind != 'grains': continue
            assert (m.sr, m.hop_length) == (22050, 512) and m.frame_length == (1024 if name == 'gm-drums-small' else 2048)
            assert m.config()['fir_channels'] == 0 or m.synth.post.mix.weight.abs().sum() > 0   # the trained post-filter came along (gm-drums-small has none)


def test_old_names_still_work_and_warn(hits):
    small = dict(latent_dim=8, hidden=32, rnn_hidden=16, embed_dim=8)
    with pytest.warns(DeprecationWarning) as rec: m = GrainModel(sample_rate=22050, window=512, hop=128, **small)
    assert {'sr', 'frame_length', 'hop_length'} <= {str(w.message).split(' is now ')[1].split('=')[0] for w in rec}
    assert (m.sr, m.frame_length, m.hop_length) == (22050, 512, 128)
    with pytest.warns(DeprecationWarning, match=r'\.sr\b'): assert m.sample_rate == 22050
    with pytest.warns(DeprecationWarning, match='GrainModel.frame_length'): assert m.window == 512
    with pytest.warns(DeprecationWarning, match='hop_length'): assert m.hop == 128
    with pytest.warns(DeprecationWarning, match='n='): assert len(m.morph(hits[0], hits[1], steps=2)) == 2
    with pytest.warns(DeprecationWarning, match='segment_seconds'):
        f = GrainModel.fit(hits[:3], max_steps=2, progress=False, batch_size=2, segment=0.25, **TINY)
    assert f.info['segment'] == 0.25
    with pytest.raises(ValueError, match='hop_length must be in 1..1024'): GrainModel(hop_length=1500)


def test_class_balanced_batches_draw_every_class():
    "With `balance`, a class of 5 sounds among 100 is drawn as often as one of 90; without it, as rarely as its count."
    from latentplay.granular import _class_groups, _draw
    w = torch.zeros(100, 3); w[:90, 0] = 1; w[90:95, 1] = 1; w[95:, 2] = 1
    g = torch.Generator().manual_seed(0)
    groups = _class_groups(w, 3)
    counts = np.bincount(w[_draw(100, 3000, g, groups)].argmax(-1).numpy(), minlength=3)
    assert (np.abs(counts / 3000 - 1 / 3) < 0.04).all(), counts
    plain = np.bincount(w[_draw(100, 3000, g)].argmax(-1).numpy(), minlength=3)
    assert plain[1] < 300 and plain[2] < 300
    assert _class_groups(None, 3) is None and _class_groups(w[:, :1], 1) is None     # unlabelled: plain draws


def test_fit_conditions_the_grain_decoder_and_starts_from_a_model(tiny, hits):
    "A labelled corpus trains a decoder that depends on the class; `init=` starts from a model and decodes as it did."
    assert tiny.grain_conditioning and tiny.decode_conditions == {'label': tiny.labels}
    z = tiny.encode(hits[0])
    assert not np.allclose(tiny.decode(z, label='kick').audio, tiny.decode(z, label='snare').audio)
    from latentplay.granular import _start_from
    old = GrainModel(labels=tiny.labels, grain_conditioning=False, **TINY)
    new = GrainModel(labels=tiny.labels, grain_conditioning=True, **TINY)
    _start_from(new, old)
    for lab in tiny.labels: np.testing.assert_allclose(new.decode(z, label=lab).audio, old.decode(z).audio, atol=1e-6)
    with pytest.raises(TypeError, match='init must be'): GrainModel.fit(hits, max_steps=2, init='gm-drums', progress=False)


def test_old_checkpoints_without_the_new_keys_load(tmp_path, hits):
    "A model saved before pitch conditioning (no `pitch_range` in its config) loads, generates, and refuses pitch= clearly."
    old = GrainModel(labels=['kick', 'snare'], **TINY)
    t, meta = read_checkpoint(old.save(tmp_path / 'old.lp'))
    assert 'pitch_range' not in meta['config'] and not any('pitch' in k for k in t)
    m = load_model(tmp_path / 'old.lp')
    assert m.decode_conditions == {} and m.pitch_range is None and m.config() == old.config()
    assert np.isfinite(m.generate(label='kick').audio).all()
    with pytest.raises(ValueError, match='without pitch conditioning'): m.generate(label='kick', pitch=60)
    with pytest.raises(ValueError, match='without pitch conditioning'): m.decode(m.prior(3), pitch=60)


def test_pitch_conditioning(gm_notes, hits, tmp_path):
    "`fit(pitch=True)` reads each note's 'pitch' label; `generate(label, pitch=)` and `decode(pitch=)` take it, checked."
    notes = gm_notes.filter(instrument=['Flute', 'Clarinet'])
    m = GrainModel.fit(notes, max_steps=8, progress=False, batch_size=4, pitch=True, **TINY)
    ps = notes.labels_of('pitch')
    assert m.pitch_range == (min(ps), max(ps)) and m.conditions['pitch'] == list(range(min(ps), max(ps) + 1))
    assert m.decode_conditions == m.conditions and m.grain_conditioning
    g = m.generate(label='Flute', pitch=67, n=2)
    assert all(np.isfinite(x.audio).all() for x in g)
    z = m.prior(10)
    assert not np.allclose(m.decode(z, label='Flute', pitch=60).audio, m.decode(z, label='Flute', pitch=84).audio)
    with pytest.raises(ValueError, match='outside the range'): m.generate(label='Flute', pitch=10)
    with pytest.raises(ValueError, match='MIDI number'): m.generate(label='Flute', pitch='A4')
    back = load_model(m.save(tmp_path / 'p.lp'))
    np.testing.assert_allclose(back.generate(label="Flute", pitch=67).audio, g[0].audio, atol=1e-5)   # g[0] came in a batch of 2
    flute = torch.tensor([float(p) for p, i in zip(ps, notes.labels_of('instrument')) if i == 'Flute'])
    assert float(back.label_pitch[back.labels.index('Flute')]) == float(flute.median())     # its usual pitch, without pitch=
    with pytest.raises(ValueError, match="'pitch' label"): GrainModel.fit(hits, max_steps=2, pitch=True, progress=False)
    # generate draws near kept training notes close to the asked pitch (their pitches are read back from the conditions)
    assert set(back.embed_pitch.tolist()) <= set(float(p) for p in ps)
    fl = back.embed_owner == back.labels.index('Flute')
    for q in (min(flute).item(), max(flute).item()):
        picked = [back.embed_pitch[(back.embed_points == back.sample_embedding('Flute', seed=i, temperature=0, pitch=q)).all(-1)].item()
                  for i in range(6)]
        assert np.median(np.abs(np.array(picked) - q)) <= 6, (q, picked)
    assert fl.sum() == sum(1 for i in notes.labels_of('instrument') if i == 'Flute')


def test_generate_draws_near_kept_training_embeddings(tiny, hits, tmp_path):
    "`fit` keeps the embeddings of the sequences that begin its sounds (asked for; by default for notes and long sounds); `generate` draws around one of its label's; they survive a save."
    from latentplay.granular import _fit_embedding_statistics, _keeps_embeddings
    from latentplay.corpus import Corpus
    assert not tiny.config().get('embed_points') and not _keeps_embeddings(hits, False, 1.0)     # hits: each label's Gaussian
    tex = Corpus.builtin('gm-textures', progress=False)
    assert _keeps_embeddings(tex, False, 1.0) and _keeps_embeddings(hits, True, 1.0)        # long sounds; notes (pitch)
    kept = GrainModel.fit(hits, max_steps=4, progress=False, batch_size=4, keep_embeddings=True, **TINY)
    assert GrainModel.fit(hits, max_steps=2, progress=False, batch_size=4, keep_embeddings=False, **TINY).config().get('embed_points', 0) == 0
    tiny = kept
    n = tiny.config()['embed_points']
    assert n == len(hits) and tiny.embed_points.shape == (n, tiny.sequence.embed_dim)       # hits are short: one sequence each
    assert sorted(set(tiny.embed_owner.tolist())) == list(range(len(tiny.labels)))
    k = tiny.labels.index('snare')
    e0 = tiny.sample_embedding('snare', seed=5, temperature=0)
    assert (tiny.embed_points[tiny.embed_owner == k] == e0).all(-1).any()
    back = load_model(tiny.save(tmp_path / 'kept.lp'))
    assert back.config() == tiny.config() and torch.equal(back.embed_owner, tiny.embed_owner)
    np.testing.assert_allclose(back.generate('snare', seed=2).audio, tiny.generate('snare', seed=2).audio, atol=1e-5)
    m = load_model(tmp_path / 'kept.lp')                                       # refit on fewer sounds: the count follows
    _fit_embedding_statistics(m, hits.filter(label=['kick', 'snare']))
    assert m.config()['embed_points'] == len(hits.filter(label=['kick', 'snare'])) < n
    assert np.isfinite(load_model(m.save(tmp_path / 'refit.lp')).generate('hihat').audio).all()   # a label left without points: its mean
