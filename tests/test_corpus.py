"""`Corpus`: user folders with good and bad files, the decoded-audio cache, built-in sets, filter/split/grains."""
import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from latentplay.corpus import Corpus, _decoded_path, load_cached
from latentplay.sound import file_sha256
from latentplay.soundfont import cache_dir


def _load(root, **kw):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        c = Corpus.from_folder(root, **kw)
    return c, [str(x.message) for x in w]


def _snapshot(root):
    "Every entry under `root` (hidden ones too) with its size, mtime and content hash."
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name); st = p.stat()
            out[p.relative_to(root).as_posix()] = (st.st_mode, st.st_size, st.st_mtime_ns,
                                                   hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None)
    return out


def test_good_files_load_with_folder_labels(tmp_user_folder):
    f = tmp_user_folder
    c, warns = _load(f.root)
    files = [s.meta['file'] for s in c]
    assert files == sorted(f.good)                                    # all good files, in sorted relative-path order
    assert [s.meta['label'] for s in c] == [f.good[r] for r in files]
    assert c.classes == ['hihat', 'kick', 'snare'] and c.labels.count(None) == 1
    for s in c:
        assert s.sr == 22050 and s.audio.dtype == np.float32 and s.audio.ndim == 1 and np.isfinite(s.audio).all()
        assert Path(s.meta['path']) == f.root / s.meta['file']
    assert len(warns) == 1                                           # one summary warning for all bad files


def test_each_bad_file_is_skipped_with_its_reason(tmp_user_folder):
    f = tmp_user_folder
    c, warns = _load(f.root)
    reasons = {Path(p).relative_to(f.root).as_posix(): r for p, r in c.skipped}
    assert set(reasons) == set(f.bad)
    for rel, words in f.bad.items():
        assert words.lower() in reasons[rel].lower(), (rel, reasons[rel])
    n_candidates = len(f.good) + len(f.bad)
    assert f"skipped {len(f.bad)} of {n_candidates} files" in warns[0] and 'corpus.skipped' in warns[0]
    for ign in f.ignored: assert not any(ign in p for p, _ in c.skipped)


def test_multichannel_is_downmixed(tmp_user_folder):
    c, _ = _load(tmp_user_folder.root)
    s = next(s for s in c if s.meta['file'] == 'kick/surround.wav')
    data, sr = sf.read(tmp_user_folder.root / 'kick' / 'surround.wav', dtype='float32')
    assert data.shape[1] == 6 and s.meta['channels'] == 6
    np.testing.assert_allclose(s.audio, data.mean(1), atol=1e-6)


def test_odd_sample_rates_are_resampled(tmp_user_folder):
    c, _ = _load(tmp_user_folder.root, sr=16000)
    rates = {s.meta['file']: s.meta['file_sr'] for s in c}
    assert {11025, 37800, 44100, 48000, 22050} <= set(rates.values())
    for s in c:
        info = sf.info(str(s.meta['path']))
        assert s.sr == 16000 and abs(s.duration - info.duration) < 2e-3, s.meta['file']
    # the same hit at 44.1 kHz and at 22.05 kHz lands on the same samples after resampling (up to filter ripple)
    k44 = next(s for s in _load(tmp_user_folder.root, sr=22050)[0] if s.meta['file'] == 'kick/kick0.wav')
    assert k44.sr == 22050 and k44.meta['file_sr'] == 44100


def test_short_file_min_duration_and_grains(tmp_user_folder):
    f = tmp_user_folder
    c, _ = _load(f.root)
    i = [s.meta['file'] for s in c].index(f.short)
    assert len(c[i]) == 300
    g = c.grains(frame_length=2048, hop_length=512)
    assert i in g.skipped and i not in set(g.index[:, 0].tolist())
    assert all(len(c[j]) < 2048 for j in g.skipped)
    gp = c.grains(frame_length=2048, hop_length=512, pad=True)
    assert gp.skipped == [] and (gp.index[:, 0] == i).sum() == 1
    row = int(np.flatnonzero(gp.index[:, 0] == i)[0])
    assert np.array_equal(gp.x[row, :300].numpy(), c[i].audio) and not gp.x[row, 300:].any()
    c2, _ = _load(f.root, min_seconds=0.05)
    assert f.short not in [s.meta['file'] for s in c2]
    assert any(p.endswith('tiny.wav') and 'too short' in r for p, r in c2.skipped)


def test_missing_empty_and_all_bad_folders(tmp_path, tmp_user_folder):
    with pytest.raises(FileNotFoundError, match='no such folder'): Corpus.from_folder(tmp_path / 'nope')
    (tmp_path / 'empty').mkdir(); (tmp_path / 'empty' / 'notes.txt').write_text('hi')
    with pytest.raises(ValueError, match='no audio files found in .*empty'): Corpus.from_folder(tmp_path / 'empty')
    with pytest.raises(NotADirectoryError): Corpus.from_folder(tmp_user_folder.root / 'loose.wav')
    bad = tmp_path / 'allbad'; bad.mkdir()
    (bad / 'a.wav').write_bytes(b''); (bad / 'b.wav').write_text('nope')
    with pytest.raises(ValueError, match='none of the 2 audio files'): Corpus.from_folder(bad)


def test_user_files_are_never_touched(tmp_user_folder, latentplay_cache):
    root = tmp_user_folder.root
    before = _snapshot(root)
    c1, _ = _load(root)                  # cold: decodes and writes the cache
    c2, _ = _load(root)                  # warm: reads the cache
    c1.grains(); c1.split(test=0.3)
    assert _snapshot(root) == before     # same entries, same bytes, same mtimes, same permissions
    assert not (root / '.cache').exists()
    cached = list((cache_dir() / 'decoded').rglob('*.npz'))
    assert cached and all(root not in p.parents for p in cached)


def test_decoded_cache_is_used_and_invalidated(tmp_user_folder, monkeypatch, tmp_path):
    monkeypatch.setenv('LATENTPLAY_CACHE', str(tmp_path / 'cache'))
    root = tmp_user_folder.root
    c1, _ = _load(root)
    c2, _ = _load(root)
    assert all(np.array_equal(a.audio, b.audio) and a.meta == b.meta for a, b in zip(c1, c2))
    p = root / 'kick' / 'kick0.wav'
    entry = _decoded_path(file_sha256(p), 22050)
    assert entry.exists() and not list(entry.parent.glob('*.part'))
    # the cache really is read: plant a marker in the entry and see it come back
    with np.load(entry) as z: meta = z['meta']
    with open(entry, 'wb') as fh: np.savez(fh, audio=np.full(77, 0.25, np.float32), meta=meta)
    assert len(load_cached(p, 22050)) == 77
    # a changed file gets a new key: the marker is not returned, the new content is
    new = np.sin(np.arange(22050) * 2 * np.pi * 440 / 22050).astype(np.float32) * 0.5
    sf.write(p, new, 22050, subtype='FLOAT')
    c3, _ = _load(root)
    s = next(s for s in c3 if s.meta['file'] == 'kick/kick0.wav')
    np.testing.assert_array_equal(s.audio, new)
    # a broken cache entry is decoded again
    entry2 = _decoded_path(file_sha256(p), 22050)
    entry2.write_bytes(b'garbage')
    np.testing.assert_array_equal(load_cached(p, 22050).audio, new)


def test_csv_labels(tmp_user_folder):
    root = tmp_user_folder.root
    (root / 'labels.csv').write_text("file,label,pitch,take\nkick/kick0.wav,boom,36,a\nsnare\\snare0.flac,crack,38,b\n"
                                     "kick/missing.wav,boom,36,c\n")
    c, _ = _load(root, labels='labels.csv')        # relative to the folder
    assert [s.meta['file'] for s in c] == ['kick/kick0.wav', 'snare/snare0.flac']
    assert c.labels == ['boom', 'crack'] and [s.meta['pitch'] for s in c] == [36, 38] and c[1].meta['take'] == 'b'
    assert [Path(p).name for p, _ in c.skipped] == ['phone.m4a', 'missing.wav']
    (root / 'bad.csv').write_text("name,label\nx.wav,y\n")
    with pytest.raises(ValueError, match="'file' column"): Corpus.from_folder(root, labels=root / 'bad.csv')
    with pytest.raises(FileNotFoundError, match='label CSV'): Corpus.from_folder(root, labels='nowhere.csv')
    c3, _ = _load(root, labels=False)
    assert set(c3.labels) == {None} and c3.classes == []


def test_builtin_corpora(gm_drums, gm_notes):
    with pytest.raises(ValueError, match='gm-notes, gm-drums, gm-textures'): Corpus.builtin('gm-strings')
    assert len(Corpus.builtin('builtin:gm-drums', progress=False)) == len(gm_drums)
    assert len(Corpus.from_source('builtin:gm-drums')) == len(gm_drums)
    assert gm_drums.name == 'gm-drums' and gm_drums.sr == 22050
    assert set(gm_notes.classes) >= {'Clarinet', 'Piano', 'Violin', 'Trumpet'}
    assert all(s.meta['source'] == 'gm-notes' and s.meta['label'] == s.meta['instrument'] for s in gm_notes)


def test_indexing_iteration_filter(gm_drums):
    c = gm_drums
    assert len(list(c)) == len(c) and c[3] is c.sounds[3]
    sub = c[10:20]
    assert isinstance(sub, Corpus) and len(sub) == 10 and sub[0] is c[10]
    assert [s for s in c[[5, 1]]] == [c[5], c[1]]
    mask = np.array([s.meta['label'] == 'clap' for s in c])
    assert len(c[mask]) == mask.sum() and set(c[mask].labels) == {'clap'}
    kicks = c.filter(label='kick')
    assert len(kicks) > 20 and set(kicks.labels) == {'kick'}
    two = c.filter(label=['kick', 'snare'], velocity=127)
    assert set(two.labels) == {'kick', 'snare'} and {s.meta['velocity'] for s in two} == {127}
    long = c.filter(lambda s: s.duration > 1.0, label='cymbal')
    assert all(s.duration > 1.0 and s.meta['label'] == 'cymbal' for s in long) and len(long) > 0
    with pytest.raises(ValueError, match='no-such-class'): c.filter(label='no-such-class')
    assert c.classes == sorted(set(c.labels))


def test_split(gm_drums):
    c = gm_drums
    train, test = c.split(test=0.1, seed=0)
    ids_tr, ids_te = {id(s) for s in train}, {id(s) for s in test}
    assert not ids_tr & ids_te and len(ids_tr | ids_te) == len(c)
    assert 0.07 * len(c) < len(test) < 0.14 * len(c)
    assert set(test.classes) == set(c.classes) == set(train.classes)  # stratified
    again = c.split(test=0.1, seed=0)
    assert [id(s) for s in again[1]] == [id(s) for s in test] and [id(s) for s in again[0]] == [id(s) for s in train]
    assert [id(s) for s in c.split(test=0.1, seed=1)[1]] != [id(s) for s in test]
    _, t20 = c.split(test=20, seed=0, stratify=False)
    assert len(t20) == 20
    with pytest.raises(ValueError): c.split(test=1.5)


@pytest.mark.parametrize('name', ['gm-drums', 'gm-notes', 'gm-textures', 'gm-techniques', 'gm-voice'])
def test_grouped_split_has_no_sibling_across(name):
    "split(group='auto'): no held-out sound shares its SIBLINGS keys with a training sound; every class is still held out."
    from latentplay.corpus import SIBLINGS
    c = Corpus.builtin(name, progress=False)
    sound_train, sound_test = c.split(test=0.1, seed=0)
    assert len(sound_test.siblings_in(sound_train)) == len(sound_test)      # the flaw: every sound-by-sound held-out sound has one
    train, test = c.split(test=0.1, seed=0, group='auto')
    assert len(train) + len(test) == len(c) and test.siblings_in(train) == [] and train.siblings_in(test) == []
    assert set(test.classes) == set(train.classes) == set(c.classes)
    key = lambda m: tuple(m.get(k) for k in SIBLINGS[name])
    assert not {key(s.meta) for s in test} & {key(s.meta) for s in train}
    again = c.split(test=0.1, seed=0, group='auto')[1]
    assert [s.meta for s in again] == [s.meta for s in test]


def test_grouped_split_errors_and_user_folders(gm_drums, tmp_path):
    c = gm_drums
    assert [s.meta for s in c.split(test=0.1, seed=0)[1]] == [s.meta for s in c.split(test=0.1, seed=0, group=None)[1]]
    with pytest.raises(ValueError, match="metadata key 'kit_name'"): c.split(group=('kit_name', 'key'))
    with pytest.raises(ValueError, match='built-in sets only'):
        Corpus([s.__class__(s.audio, s.sr, {'label': s.meta['label']}) for s in c[:4]], c.sr).split(group='auto')
    # a user folder whose label sheet names kit and key splits the same way as the built-in set
    rows = ['file,label,kit,key']
    for i in range(0, len(c), 7):
        s = c[i]; rel = f"{s.meta['label']}/{i}.wav"
        s.save(tmp_path / 'lib' / rel, overflow='clip'); rows.append(f"{rel},{s.meta['label']},{s.meta['kit']},{s.meta['key']}")
    (tmp_path / 'sheet.csv').write_text('\n'.join(rows) + '\n')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        u = Corpus.from_folder(tmp_path / 'lib', labels=tmp_path / 'sheet.csv', progress=False, cache=False)
    tr, te = u.split(test=0.2, seed=0, group=('kit', 'key'))
    assert te.siblings_in(tr, group=('kit', 'key')) == [] and len(te) > 0


def test_grains_and_segments(gm_drums):
    c = gm_drums
    x, index = g = c.grains(frame_length=1024, hop_length=256)
    assert x.dtype == torch.float32 and x.ndim == 2 and x.shape[1] == 1024 and index.shape == (x.shape[0], 2)
    rng = np.random.default_rng(0)
    for r in rng.integers(0, len(x), 50):
        i, start = index[r]
        assert np.array_equal(x[r].numpy(), c[i].audio[start:start + 1024])
    # number of grains per sound: every full window at hop 256
    expected = sum(1 + (len(s) - 1024) // 256 for s in c if len(s) >= 1024)
    assert len(x) == expected and sorted(g.skipped) == [i for i, s in enumerate(c) if len(s) < 1024]
    seg = c.segments(seconds=0.5, hop_seconds=0.25)
    assert seg.x.shape[1] == 11025 and np.all(np.diff(seg.index[seg.index[:, 0] == seg.index[0, 0], 1]) == 5512)
    with pytest.raises(ValueError): c.grains(frame_length=0)


def test_summary_and_display(gm_drums, tmp_user_folder):
    sm = gm_drums.summary()
    assert sm['files'] == len(gm_drums) and sm['sample_rate'] == 22050 and sm['skipped'] == 0
    assert sum(sm['classes'].values()) == len(gm_drums) and list(sm['classes']) == gm_drums.classes
    assert abs(sm['minutes'] - sum(s.duration for s in gm_drums) / 60) < 0.01
    json.dumps(sm)
    r = repr(gm_drums)
    assert 'gm-drums' in r and 'kick' in r and 'skipped' in r
    h = gm_drums._repr_html_()
    assert '<table>' in h and h.count('<audio') == 2
    c, _ = _load(tmp_user_folder.root)
    sm = c.summary()
    assert sm['skipped'] == len(tmp_user_folder.bad) and sm['unlabelled'] == 1


def test_grain_defaults_follow_the_grain_models(gm_drums):
    "Default grains are the grain models' (`dsp.grain_defaults`): 2048/512 at 22.05 kHz, 1024/256 at 16 kHz."
    from latentplay.dsp import grain_defaults
    c = gm_drums[:5]
    g = c.grains()
    assert g.x.shape[1] == 2048 and np.all(np.diff(g.index[g.index[:, 0] == g.index[0, 0], 1]) == 512)
    low = Corpus([s.resample(16000) for s in c], 16000)
    assert low.grains().x.shape[1] == grain_defaults(16000)[0] == 1024
    assert c.grains(1024).index[1, 1] - c.grains(1024).index[0, 1] == 256      # the hop follows a chosen grain size


def test_old_names_still_work_and_warn(gm_drums, tmp_user_folder):
    c = gm_drums[:5]
    with pytest.warns(DeprecationWarning) as rec: a = c.grains(window=1024, hop=256)
    assert {'frame_length', 'hop_length'} <= {str(w.message).split(' is now ')[1].split('=')[0] for w in rec}
    assert torch.equal(a.x, c.grains(frame_length=1024, hop_length=256).x)
    with pytest.warns(DeprecationWarning, match='hop_length'): c.grains(1024, hop=256)
    with pytest.warns(DeprecationWarning) as rec: b = c.segments(length=0.5, hop=0.25)
    assert {'seconds', 'hop_seconds'} <= {str(w.message).split(' is now ')[1].split('=')[0] for w in rec}
    assert torch.equal(b.x, c.segments(seconds=0.5, hop_seconds=0.25).x)
    with pytest.warns(DeprecationWarning, match='min_seconds'), warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)                         # the report of the folder's bad files
        c2 = Corpus.from_folder(tmp_user_folder.root, min_duration=0.05, progress=False)
    assert any(p.endswith('tiny.wav') and 'too short' in r for p, r in c2.skipped)


def test_voice_corpus_sings_in_tune_and_glides():
    "gm-voice: three GM voices, notes in tune with their labels, glides that really move a whole tone, cached."
    import torch
    from latentplay.features import f0_yin
    from latentplay.soundfont import pitch_agreement, set_cache_path, builtin_spec
    v = Corpus.builtin('gm-voice', progress=False)
    assert v.classes == ['choir', 'oohs', 'synth-voice'] and v.classes_of('kind') == ['glide', 'note', 'phrase']
    assert set_cache_path('gm-voice', builtin_spec('gm-voice')).exists() and v.minutes < 5
    notes = v.filter(kind='note')
    assert len(notes) == 3 * 14 * 2 and set(notes.labels_of('velocity')) == {60, 110}
    ok, dev = pitch_agreement([(s.audio, s.meta) for s in notes])
    assert ok == 1.0, np.abs(dev).max()
    for s in v.filter(kind='glide', pitch=57):                 # the wheel moves the pitch by the labelled glide
        f0 = f0_yin(torch.from_numpy(s.audio), 22050, fmin=60.0, fmax=1000.0)[0].numpy(); n = len(f0)
        moved = 12 * np.log2(np.median(f0[int(0.7 * n):int(0.8 * n)]) / np.median(f0[int(0.1 * n):int(0.2 * n)]))
        assert abs(moved - s.meta['glide']) < 0.3, (s.meta, moved)
    ph = v.filter(kind='phrase', voice='choir', melody='0 4 7', pitch=60)
    assert len(ph) == 1 and ph[0].duration > 1.2
