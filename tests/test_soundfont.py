"""The built-in real sound sets: sizes, labels checked against the audio, determinism and the render cache."""
import warnings

import numpy as np
import pytest

from latentplay import soundfont as sfm
from latentplay.soundfont import (builtin_sets, builtin_spec, cache_dir, events, load_set, notes_spec,
                                  pitch_agreement, render_clip, render_note, render_set, set_cache_path, textures_spec, timbre_data)


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv('LATENTPLAY_CACHE', str(tmp_path / 'a'))
    assert cache_dir() == tmp_path / 'a'
    monkeypatch.delenv('LATENTPLAY_CACHE')
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'xdg'))
    assert cache_dir() == tmp_path / 'xdg' / 'latentplay'
    monkeypatch.delenv('XDG_CACHE_HOME')
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    assert cache_dir() == tmp_path / 'home' / '.cache' / 'latentplay'


def test_shipped_timbre_data():
    d = timbre_data()
    assert 'variational-timbre' in d['source'] and len(d['instruments']) == 12
    m = np.array(d['mean'], dtype=float)
    assert m.shape == (12, 12) and np.allclose(np.nan_to_num(m), np.nan_to_num(m.T))


def test_names_and_unknown_set():
    assert builtin_sets() == ['gm-notes', 'gm-drums', 'gm-textures', 'gm-techniques', 'gm-voice']
    with pytest.raises(ValueError, match='gm-notes, gm-drums, gm-textures'): builtin_spec('gm-banjo')
    with pytest.raises(ValueError, match='kind'): events(dict(kind='symphony'))


def test_notes_sizes_and_labels(gm_notes):
    progs = timbre_data()['general_midi_programs']
    assert len(gm_notes) == len(events(notes_spec())) == 843   # no note of the declaration is silent
    by = {}
    for s in gm_notes:
        m = s.meta
        assert {'instrument', 'family', 'pitch', 'velocity', 'program', 'label'} <= set(m)
        by.setdefault(m['instrument'], []).append(m)
    assert len(by) >= 20
    for inst, prog in progs.items():   # the 12 instruments of the timbre studies, with their GM programs
        assert {m['program'] for m in by[inst]} == {prog}
    for inst, ms in by.items():
        pitches = [m['pitch'] for m in ms]
        assert max(pitches) - min(pitches) >= 36, inst          # >= 3 octaves
        assert len({m['velocity'] for m in ms}) >= 3, inst
    assert {m[0]['family'] for m in by.values()} >= {'strings', 'brass', 'woodwinds', 'keyboard', 'plucked', 'mallet', 'voice', 'synth'}
    assert sum(s.audio.nbytes for s in gm_notes) < 150e6
    assert all(0.8 < s.duration <= 1.3 + 1e-9 for s in gm_notes)


def test_drums_sizes_and_labels(gm_drums):
    ms = [s.meta for s in gm_drums]
    assert 700 < len(gm_drums) < 8 * 47 * 5
    assert {m['key'] for m in ms} == set(range(35, 82))
    assert {m['label'] for m in ms} == {'kick', 'snare', 'clap', 'hihat', 'tom', 'cymbal', 'hand-drum', 'shaker', 'metal', 'wood', 'other'}
    assert len({m['kit'] for m in ms}) >= 2 and len({m['velocity'] for m in ms}) >= 5
    for m in ms: assert sfm.GM_DRUMS[m['key']] == (m['name'], m['label'])
    # exact duplicates across kits were dropped
    seen = set()
    for s in gm_drums:
        h = (s.meta['key'], s.meta['velocity'], s.audio.tobytes())
        assert h not in seen
        seen.add(h)


def test_textures_sizes_and_labels(gm_textures):
    ms = [s.meta for s in gm_textures]
    assert len(gm_textures) == len(events(textures_spec())) == 14 * 12
    assert {m['program'] for m in ms} >= set(range(120, 128))
    assert {'seashore', 'bird', 'applause', 'helicopter', 'rain'} <= {m['label'] for m in ms}
    d = np.array([s.duration for s in gm_textures])
    assert d.max() <= 4.0 and np.median(d) >= 2.0


@pytest.mark.parametrize('name', ['gm_notes', 'gm_drums', 'gm_textures'])
def test_every_clip_finite_audible_in_range(name, request):
    for s in request.getfixturevalue(name):
        a = s.audio
        assert a.dtype == np.float32 and s.sr == 22050 and len(a) > 0
        assert np.isfinite(a).all()
        assert 1e-3 < np.abs(a).max() <= 1.0
        assert abs(a[-1]) < 1e-6   # ends faded out, no click


def test_pitch_labels_match_f0(gm_notes):
    clips = [(s.audio, s.meta) for s in gm_notes]
    ok, dev = pitch_agreement(clips)
    assert ok >= 0.95, f"only {ok:.1%} of notes within 50 cents"   # measured: 99.6%
    assert np.median(np.abs(dev)) < 10


def test_pitch_labels_match_an_independent_f0(gm_notes):
    "The same check with librosa's YIN, on one velocity of every note, so the labels do not rest on our own estimator."
    import librosa
    notes = gm_notes.filter(velocity=85)
    seg = np.stack([np.pad(s.audio, (0, max(0, int(0.7 * 22050) - len(s))))[int(0.15 * 22050):int(0.7 * 22050)] for s in notes])
    f0 = np.median(librosa.yin(seg, fmin=30, fmax=2500, sr=22050, center=False), axis=-1)
    dev = 1200 * np.log2(f0 / librosa.midi_to_hz(np.array([s.meta['pitch'] for s in notes])))
    assert np.mean(np.abs(dev) <= 50) >= 0.95


def test_drum_classes_differ(gm_drums):
    def centroid(a):
        m = np.abs(np.fft.rfft(a[:4096], 4096)); f = np.fft.rfftfreq(4096, 1 / 22050)
        return float((m * f).sum() / m.sum())
    med = {c: np.median([centroid(s.audio) for s in gm_drums if s.meta['label'] == c]) for c in ('kick', 'snare', 'hihat', 'cymbal')}
    assert med['kick'] < med['snare'] < med['hihat']
    assert 2.5 * med['kick'] < med['hihat'] and med['kick'] < med['cymbal']
    dur = {c: np.median([s.duration for s in gm_drums if s.meta['label'] == c]) for c in ('hihat', 'cymbal')}
    assert dur['cymbal'] > 2 * dur['hihat']   # cymbals ring, hats are short


def test_render_is_deterministic_and_isolated():
    a = render_note(program=73, pitch=72, velocity=90)
    syn = sfm._synth(22050)
    render_note(program=126, pitch=50, hold=2.0, synth=syn)        # a loud, long note first
    assert np.array_equal(render_note(program=73, pitch=72, velocity=90, synth=syn), a)
    small = dict(textures_spec(), textures=textures_spec()['textures'][:3], pitches=[55], lengths=[2.0])
    r1, r2 = render_set(small), render_set(small)
    assert len(r1) == 3 and all(np.array_equal(x, y) and lx == ly for (x, lx), (y, ly) in zip(r1, r2))


def test_clip_duration_in_seconds():
    notes = [(0.0, 0.2, 60, 100), (0.3, 0.2, 67, 100)]
    clip = render_clip(notes, seconds=0.75, sr=16000)
    assert len(clip) == 12000 and np.abs(clip).max() > 0.01
    assert all(ev['seconds'] == 1.3 for ev in events(notes_spec())[:5])        # what each clip of a set lasts
    assert {ev['seconds'] for ev in events(textures_spec())} == {2.0, 3.0, 4.0}
    with pytest.warns(DeprecationWarning, match=r'render_clip\(length=\.\.\.\) is now seconds='):
        old = render_clip(notes, length=0.75, sr=16000)                         # the old keyword still works
    assert np.array_equal(old, clip)


def _small_spec(step=12):
    spec = notes_spec()
    return dict(spec, instruments=spec['instruments'][:2], step=step, velocities=[90])


def test_cache_written_read_and_invalidated(monkeypatch, tmp_path):
    monkeypatch.setenv('LATENTPLAY_CACHE', str(tmp_path / 'cache'))
    spec = _small_spec()
    first = load_set('gm-notes', spec=spec, progress=False)
    path = set_cache_path('gm-notes', spec)
    assert path.exists() and path.parent == tmp_path / 'cache' / 'soundfont'
    assert not list(path.parent.glob('*.part'))                      # atomic: no temporary left behind
    again = load_set('gm-notes', spec=spec, progress=False)
    assert [l for _, l in again] == [l for _, l in first]
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(first, again))
    # the cache really is what is read: a cache file with other contents is returned as is
    sfm._write_clips(path, [(np.full(10, 0.5, np.float32), dict(label='marker'))])
    assert load_set('gm-notes', spec=spec, progress=False)[0][1] == dict(label='marker')
    # a changed declaration gets another file, rendered afresh; the stale render is removed
    spec2 = _small_spec(step=6)
    path2 = set_cache_path('gm-notes', spec2)
    assert path2 != path
    second = load_set('gm-notes', spec=spec2, progress=False)
    assert len(second) == 2 * len(first) - 2 and path2.exists() and not path.exists()
    # another sample rate is another file too
    assert set_cache_path('gm-notes', spec2, 16000) != path2


def test_corrupt_cache_is_rendered_again(monkeypatch, tmp_path):
    monkeypatch.setenv('LATENTPLAY_CACHE', str(tmp_path / 'cache'))
    spec = _small_spec()
    good = load_set('gm-notes', spec=spec, progress=False)
    path = set_cache_path('gm-notes', spec)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.warns(UserWarning, match='rendering again'):
        again = load_set('gm-notes', spec=spec, progress=False)
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(good, again))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        load_set('gm-notes', spec=spec, progress=False)             # repaired: no warning now
