"""The small MIR models (issue 12, §3): each trains on a tiny budget and beats chance on held-out data, predicts
sensible values, survives a save/load round trip, and is trimmed by the lottery engine into a smaller model that
still predicts; the shipped models (full and trimmed to a tenth) load as safe files and answer right on held-out
sounds; bad input gets a clear message."""
import json, warnings
import numpy as np
import pytest
import torch

from latentplay.lottery import trim
from latentplay.models import load_model
from latentplay.mir import (InstrumentClassifier, PitchEstimator, OnsetDetector, MIRError, MIRModel, drum_loop, onset_f_measure,
                            midi_to_cents, cents_to_hz, hz_to_cents, pretrained_mir, pretrained_mir_names, compare_scores)

torch.set_num_threads(1)
count = lambda m: sum(p.numel() for p in m.parameters())


@pytest.fixture(scope='module')
def notes(gm_notes): return gm_notes.split(test=0.2, seed=0, group='auto')     # as the shipped models: no held-out note's sibling in training

@pytest.fixture(scope='module')
def drums(gm_drums): return gm_drums.split(test=0.2, seed=0, group='auto')

@pytest.fixture(scope='module')
def inst(notes): return InstrumentClassifier.fit(notes[0], max_steps=120, widths=(32, 32, 32), progress=False)

@pytest.fixture(scope='module')
def pitch(notes): return PitchEstimator.fit(notes[0], max_steps=300, widths=(16, 16, 16, 16), batch_size=32, progress=False)

@pytest.fixture(scope='module')
def onsets(drums): return OnsetDetector.fit(drums[0], max_steps=120, widths=(24, 24, 24), batch_size=16, progress=False)


def test_instrument_beats_chance(inst, notes):
    r = inst.evaluate(notes[1])
    assert r['accuracy'] > 5 * r['chance'] and r['n'] == len(notes[1])
    note = notes[1][0]
    p = inst.probabilities(note)
    assert list(p) == sorted(p, key=p.get, reverse=True) and set(p) == set(inst.labels)
    assert abs(sum(p.values()) - 1) < 1e-4 and inst.predict(note) == next(iter(p))


def test_pitch_beats_chance(pitch, notes):
    r = pitch.evaluate(notes[1])
    assert r['pitch_accuracy'] > 5 * r['chance']
    note = notes[1][5]
    t = pitch.predict(note, hop_length=512)
    assert len(t['time']) == len(t['f0']) == len(t['confidence']) == 1 + len(note.audio) // 512
    assert np.isfinite(t['f0']).all() and (t['f0'] > 30).all() and (t['f0'] < 2500).all()
    assert ((t['confidence'] >= 0) & (t['confidence'] <= 1)).all()
    np.testing.assert_allclose(cents_to_hz(midi_to_cents(69)), 440.0)


def _tones(pitches, sr=22050, seconds=1.0):
    "Sine notes at MIDI `pitches`, labelled as gm-notes labels its notes."
    from latentplay.corpus import Corpus
    from latentplay.sound import Sound
    t = np.arange(int(sr * seconds)) / sr
    return Corpus([Sound((0.5 * np.sin(2 * np.pi * cents_to_hz(midi_to_cents(p)) * t)).astype(np.float32), sr,
                         meta={'label': 'sine', 'pitch': p}) for p in pitches], sr)


def test_varied_pitch_examples_are_labelled_with_their_shift():
    "Notes sped up or slowed down for training: every frame's measured frequency is the label's (within 10 cents), and "
    "each note's first copy is the note as it is."
    c, m = _tones([45, 57, 64, 76]), PitchEstimator(widths=(8, 8, 8, 8))
    d = m.examples(c, seed=3, shift=3, copies=4)
    assert len(d['y']) == 4 * 8 * 4 and d['note'].tolist() == [n for n in range(4) for _ in range(32)]
    spec = np.abs(np.fft.rfft(d['x'].numpy() * np.hanning(1024), 1 << 16))
    heard = hz_to_cents(spec.argmax(-1) * 22050 / (1 << 16))
    assert np.abs(heard - d['y'].numpy()).max() < 10
    shifts = (d['y'].numpy() - np.repeat(midi_to_cents([45, 57, 64, 76]), 32)).reshape(4, 4, 8)
    assert (np.abs(shifts[:, 0]) < 1e-3).all() and np.abs(shifts).max() <= 300 and np.abs(shifts[:, 1:]).min() > 0
    assert len(np.unique(shifts[:, 1:, 0].round(3))) == 12                         # every copy shifted anew
    plain = m.examples(c)
    assert len(plain['y']) == 4 * 8 and set(plain['y'].tolist()) == set(midi_to_cents([45, 57, 64, 76]).astype(np.float32).tolist())


def test_varied_instrument_examples(notes):
    "Each training note and its `copies - 1` varied versions: the first is the note's own log-mel, the others differ."
    some = notes[0][:6]
    m = InstrumentClassifier.for_corpus(notes[0], widths=(8, 8, 8))
    d, plain = m.examples(some, seed=1, shift=5, copies=3), m.examples(some)
    assert len(d['y']) == 18 and d['y'].tolist() == [y for y in plain['y'].tolist() for _ in range(3)]
    torch.testing.assert_close(d['x'][0::3], plain['x'])
    assert (d['x'][1::3] - plain['x']).abs().amax((-2, -1)).min() > 0.1


def test_fit_varies_notes_as_asked(notes, drums):
    "`fit` keeps its variation in `info['augment']`, which trimming and a reloaded model retrain with; bad values are refused."
    assert InstrumentClassifier.augment['copies'] > 1 and PitchEstimator.augment['shift'] > 0 and not OnsetDetector.augment
    m = PitchEstimator.fit(_tones([50, 62, 69]), max_steps=2, widths=(8, 8, 8, 8), shift=2, copies=2, progress=False)
    assert m.info['augment'] == {'shift': 2.0, 'copies': 2}
    plain = PitchEstimator.fit(_tones([50, 62, 69]), max_steps=2, widths=(8, 8, 8, 8), shift=0, copies=1, progress=False)
    assert plain.info['augment'] == {'shift': 0.0, 'copies': 1}
    with pytest.raises(MIRError, match='the onset detector takes no shift= or copies='): OnsetDetector.fit(drums[0], max_steps=1, shift=2)
    with pytest.raises(ValueError, match='shift'): PitchEstimator.fit(notes[0], max_steps=1, shift=24)
    with pytest.raises(ValueError, match='copies'): InstrumentClassifier.fit(notes[0], max_steps=1, copies=0)


def test_drum_loops_are_exact(drums):
    loop, truth = drum_loop(drums[1], seed=4)
    again, truth2 = drum_loop(drums[1], seed=4)
    np.testing.assert_array_equal(loop.audio, again.audio)
    assert set(truth) == {'kick', 'snare', 'hihat'} and all(np.array_equal(truth[k], truth2[k]) for k in truth)
    assert np.abs(loop.audio).max() <= 0.9 + 1e-6 and np.isfinite(loop.audio).all()
    first = min(v.min() for v in truth.values() if len(v))        # nothing sounds before the first hit but distractors
    assert first < 2.0 and len(loop) == 2 * loop.sr


def test_onsets_beat_chance(onsets, drums):
    r = onsets.evaluate(drums[1], loops=20)
    assert r['f_measure'] > 0.5 and set(r['per_class']) == {'kick', 'snare', 'hihat'}
    loop, _ = drum_loop(drums[1], seed=9)
    found = onsets.predict(loop)
    assert list(found) == onsets.labels and all((np.diff(v) > 0).all() and (v >= 0).all() and (v < 2.0).all() for v in found.values())
    assert onsets.activation(loop).shape == (1 + len(loop.audio) // 256, 3)
    assert onset_f_measure([1.0, 2.0], [1.04, 2.06]) == (0.5, 0.5, 0.5)


@pytest.mark.parametrize('name', ['inst', 'pitch', 'onsets'])
def test_save_load_round_trip(name, request, tmp_path, notes, drums):
    m = request.getfixturevalue(name)
    path = m.save(tmp_path / f'{name}.lp')
    back = load_model(path)
    assert type(back) is type(m) and back.config() == m.config()
    x = m.examples(drums[1] if name == 'onsets' else notes[1])['x'][:4]
    with torch.no_grad(): torch.testing.assert_close(back(x), m.eval()(x))
    assert type(m).load(path).widths == m.widths


def test_trim_makes_it_smaller(inst, notes, tmp_path):
    before = {k: v.clone() for k, v in inst.state_dict().items()}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        small = trim(inst, notes[0], keep=0.3, rounds=2, criterion='information', max_steps=30, progress=False)
    assert all(torch.equal(v, inst.state_dict()[k]) for k, v in before.items())      # the input model is untouched
    assert type(small) is InstrumentClassifier and count(small) <= 0.3 * count(inst) + 50
    assert all(a < b for a, b in zip(small.widths, inst.widths))
    full, slim = inst.save(tmp_path / 'full.lp').stat().st_size, small.save(tmp_path / 'small.lp').stat().st_size
    assert slim < full / 2
    assert small.predict(notes[1][0]) in small.labels and small.evaluate(notes[1])['accuracy'] > 3 / len(small.labels)
    h = small.info['trim']['history']
    assert len(h) == 2 and h[-1]['fraction'] <= 0.3


def test_trim_trains_more_at_the_final_size(inst, notes, tmp_path):
    "`final_steps`: the smallest model trains that much more, last of all; its finished checkpoint is read back, not trained again."
    some, ck = notes[0][::4], tmp_path / 'small.lp'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        a = trim(inst, some, keep=0.5, rounds=1, max_steps=6, progress=False)
        b = trim(inst, some, keep=0.5, rounds=1, max_steps=6, final_steps=7, progress=False, checkpoint=ck)
        assert b.info['steps'] == a.info['steps'] + 7 and b.info['trim']['final'] == {'steps': 7, 'minutes': None}
        assert b.widths == a.widths and 'final' not in a.info['trim']
        again = trim(inst, some, keep=0.5, rounds=1, max_steps=6, final_steps=7, progress=False, checkpoint=ck)
        assert again.info['steps'] == b.info['steps']
        with pytest.raises(ValueError, match='finished with other final training'):
            trim(inst, some, keep=0.5, rounds=1, max_steps=6, final_steps=9, progress=False, checkpoint=ck)
    with pytest.raises(ValueError, match='final_steps must be a whole number from 1'): trim(inst, some, keep=0.5, final_steps=0)
    with pytest.raises(ValueError, match='final_minutes must be'): trim(inst, some, keep=0.5, final_minutes=-1)


def test_trim_conv_models(pitch, onsets, notes, drums):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        p = trim(pitch, notes[0], keep=0.5, rounds=1, criterion='magnitude', max_steps=10, progress=False)
        o = trim(onsets, drums[0], keep=0.5, rounds=1, criterion='information', selection='global', max_steps=10, progress=False)
    assert count(p) <= 0.5 * count(pitch) + 50 and count(o) <= 0.5 * count(onsets) + 50
    t = p.predict(notes[1][0])
    assert np.isfinite(t['f0']).all()
    loop, _ = drum_loop(drums[1], seed=2)
    assert set(o.predict(loop)) == {'kick', 'snare', 'hihat'}


def test_bad_input(inst, notes, drums):
    from latentplay.corpus import Corpus
    with pytest.raises(MIRError, match='the sound is empty'): inst.predict(np.zeros(0, np.float32))
    with pytest.raises(MIRError, match='NaN'): inst.predict(np.full(64, np.inf, np.float32))
    with pytest.raises(MIRError, match='mono audio'): inst.predict(np.zeros((2, 64), np.float32))
    with pytest.raises(TypeError, match='pass a Sound'): inst.predict('note.wav')
    with pytest.raises(ValueError, match='widths must list 4'): PitchEstimator(widths=(8, 8))
    with pytest.raises(ValueError, match='a layer width'): OnsetDetector(widths=(8, 100_000, 8))
    with pytest.raises(MIRError, match='the corpus is empty'): InstrumentClassifier.fit(Corpus([], 22050), max_steps=1)
    with pytest.raises(MIRError, match='load it at 22050 Hz'): inst.evaluate(Corpus([s.resample(16000) for s in notes[1].sounds[:2]], 16000))
    with pytest.raises(MIRError, match="has no kick, snare, hihat hits"): OnsetDetector.fit(notes[0], max_steps=1, progress=False)
    with pytest.raises(MIRError, match="no sound of the corpus has a MIDI pitch"): PitchEstimator.fit(drums[0], max_steps=1, progress=False)
    with pytest.raises(ValueError, match='keep must be the fraction'): trim(inst, notes[0], keep=1.5)
    with pytest.raises(ValueError, match='threshold'): OnsetDetector().predict(np.zeros(4096, np.float32), threshold=2)
    with pytest.warns(UserWarning, match='resampled'): assert inst.predict(notes[1][0].resample(16000)) in inst.labels


def test_cli_trains_and_runs_a_mir_model(tmp_path, notes):
    "`latentplay train builtin:gm-drums --model onsets` scores a held-out tenth; `latentplay mir` prints what it hears, as JSON."
    import json, subprocess, sys
    run = lambda *a: subprocess.run([sys.executable, '-m', 'latentplay.cli', *map(str, a)], capture_output=True, text=True,
                                    cwd=tmp_path, timeout=300)
    r = run('train', 'builtin:gm-notes', '--model', 'instrument', '--max-steps', 8, '--out', 'inst.lp')
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out['kind'] == 'mir-instrument' and 0 <= out['held_out']['accuracy'] <= 1 and out['held_out']['sounds'] > 0
    assert out['held_out']['grouped'] and out['augment'] == InstrumentClassifier.augment     # unseen notes; varied training notes
    notes[1].sounds[0].save(tmp_path / 'n.wav')
    r = run('mir', 'inst.lp', 'n.wav')
    assert r.returncode == 0, r.stderr[-2000:]
    said = json.loads(r.stdout)
    assert said['instrument'] in out['labels'] and abs(sum(said['probabilities'].values())) <= 1.0001
    r = run('mir', 'pretrained:gm-drums', 'n.wav')
    assert r.returncode == 2 and 'mir' in r.stderr, r.stderr


SHIPPED = ['gm-instrument', 'gm-instrument-small', 'gm-onsets', 'gm-onsets-small', 'gm-pitch', 'gm-pitch-small']

@pytest.fixture(scope='module')
def shipped(): return {n: pretrained_mir(n) for n in SHIPPED}


def test_shipped_models_are_safe_files(shipped):
    "Each shipped file is safetensors (a JSON header and raw float16 tensors: nothing in it runs) and opens as its MIR kind."
    assert pretrained_mir_names() == SHIPPED
    kinds = {'instrument': InstrumentClassifier, 'pitch': PitchEstimator, 'onsets': OnsetDetector}
    for name, m in shipped.items():
        raw = open(m.source, 'rb').read()
        n = int.from_bytes(raw[:8], 'little')
        header = json.loads(raw[8:8 + n])
        assert {v['dtype'] for k, v in header.items() if k != '__metadata__'} <= {'F16', 'I64'}
        assert json.loads(header['__metadata__']['latentplay'])['kind'] == m.kind
        assert type(m) is kinds[name.split('-')[1]] and isinstance(m, MIRModel) and not m.training
        assert m.info['held_out']['n'] > 0 and 0 < m.info['held_out'][m.metric] <= 1


def test_trimmed_models_are_really_smaller(shipped):
    import os
    for task in ('instrument', 'pitch', 'onsets'):
        full, small = shipped[f'gm-{task}'], shipped[f'gm-{task}-small']
        assert count(small) <= 0.11 * count(full)                                  # a tenth of the parameters
        assert all(a < b for a, b in zip(small.widths, full.widths))             # whole units removed, not masked
        assert os.path.getsize(small.source) < os.path.getsize(full.source) / 5
        assert small.info['trim']['settings']['keep'] == 0.1 and small.config()['sr'] == full.config()['sr']


def test_shipped_instrument_models_name_held_out_notes(shipped, notes):
    "Both classifiers name the held-out flute notes (never heard in training) and most of a few other instruments."
    flute = [s for s in notes[1] if s.meta['instrument'] == 'Flute'][:4]
    others = [s for s in notes[1] if s.meta['instrument'] in ('Trumpet', 'Violin', 'Piano', 'Marimba')][::4]
    for name in ('gm-instrument', 'gm-instrument-small'):
        m = shipped[name]
        assert [m.predict(s) for s in flute] == ['Flute'] * 4, name
        assert np.mean([m.predict(s) == s.meta['instrument'] for s in others]) >= 0.75, name


def test_shipped_pitch_models_within_50_cents(shipped, notes):
    "The median pitch over a held-out note's sustain lies within 50 cents of its MIDI pitch, for both pitch models."
    some = [next(s for s in notes[1] if s.meta['instrument'] == i) for i in ('Flute', 'Cello', 'Clarinet', 'Trumpet', 'Violin', 'Piano')]
    for name in ('gm-pitch', 'gm-pitch-small'):
        m = shipped[name]
        for s in some:
            t = m.predict(s, hop_length=512)
            held = (t['time'] > 0.1) & (t['time'] < 0.7)
            err = abs(hz_to_cents(np.median(t['f0'][held])) - midi_to_cents(s.meta['pitch']))
            assert err <= 50, (name, s.meta, err)


def test_shipped_onset_models_find_a_loops_hits(shipped, drums):
    """On six loops mixed from hits of kits never heard, both detectors find the snares and hi-hats within 50 ms (F-measure
    per class at least 0.8) and most kicks (at least 0.65: unheard kicks are the hard part, 0.59 over the page's 100 loops)."""
    loops = [drum_loop(drums[1], seed=seed) for seed in range(3, 9)]
    for name in ('gm-onsets', 'gm-onsets-small'):
        m = shipped[name]
        found = [m.predict(loop) for loop, _ in loops]
        for k in m.labels:                                   # the loops end to end, 10 s apart
            ref = np.concatenate([truth[k] + 10 * i for i, (_, truth) in enumerate(loops)])
            est = np.concatenate([f[k] + 10 * i for i, f in enumerate(found)])
            assert onset_f_measure(ref, est)[0] >= (0.65 if k == 'kick' else 0.8), (name, k)


@pytest.mark.parametrize('task', ['instrument', 'pitch', 'onsets'])
def test_what_trimming_to_a_tenth_costs(task, shipped, notes, drums):
    """Trimmed to a tenth, the shipped instrument and onset models score as their full twins within the held-out set's noise
    (the 95% paired-bootstrap interval of the change, over held-out notes or 100 loops, holds zero); the pitch estimator
    loses under 3 points of raw pitch accuracy. The scores are those `evaluate` gives."""
    full, small = shipped[f'gm-{task}'], shipped[f'gm-{task}-small']
    test = drums[1] if task == 'onsets' else notes[1]
    c = compare_scores(full, small, test)
    assert c['ci95'][0] <= c['difference'] <= c['ci95'][1], c
    assert (-0.03 < c['difference'] and c['ci95'][1] < 0) if task == 'pitch' else (c['ci95'][1] >= 0), c
    assert c['items'] == (100 if task == 'onsets' else len(test)) and c['unit'] == ('loops' if task == 'onsets' else 'notes')
    score = lambda m: (m.evaluate(test, loops=100) if task == 'onsets' else m.evaluate(test))['score']
    assert abs(c['a'] - score(full)) < 1e-6 and abs(c['b'] - small.info['held_out'][small.metric]) < 1e-3
    assert compare_scores(full, full, test)['ci95'] == (0.0, 0.0)


def test_pretrained_mir_names_what_ships():
    for bad in ('nope', '../gm-drums', 'gm-drums', 3):
        with pytest.raises(MIRError, match=r"no shipped MIR model .*; shipped: gm-instrument, gm-instrument-small, gm-onsets"):
            pretrained_mir(bad)


def test_cli_runs_a_shipped_mir_model(tmp_path, notes):
    import json, subprocess, sys
    notes[1].sounds[0].save(tmp_path / 'n.wav')
    run = lambda *a: subprocess.run([sys.executable, '-m', 'latentplay.cli', *map(str, a)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    r = run('mir', 'gm-instrument-small', 'n.wav')
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)['kind'] == 'mir-instrument'
    r = run('mir', 'gm-nope', 'n.wav')
    assert r.returncode == 2 and 'gm-instrument-small' in r.stderr, r.stderr
