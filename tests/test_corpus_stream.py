"""Streaming preparation of big folders (`Corpus.from_folder(..., stream=True)`): the same sounds, labels and skipped
files as the in-memory path; resumable after an interruption (a Ctrl-C, a killed process) without redoing finished
files; memory that does not grow with the number of files; user files never written; a changed file prepared again."""
import gc, os, re, subprocess, sys, tracemalloc, warnings, weakref
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import latentplay.corpus as corpus_mod
from latentplay.corpus import Corpus, SoundStore
from latentplay.sound import file_sha256

N = 240


@pytest.fixture(scope='module')
def big(tmp_path_factory, gm_drums):
    "A folder of N short drum hits (0.4 s, varied gains, one sub-folder per class) plus four broken files and one tiny file."
    root = tmp_path_factory.mktemp('big') / 'big'
    hits = [s for s in gm_drums if s.meta['velocity'] == 108]
    for i in range(N):
        s = hits[i % len(hits)]; d = root / s.meta['label']; d.mkdir(parents=True, exist_ok=True)
        a = np.pad(s.audio, (0, 8820))[:8820] * (0.3 + 0.6 * i / N)
        sf.write(d / f"{i:05d}.wav", a, 22050)
    (root / 'snare' / 'empty.wav').write_bytes(b'')
    (root / 'snare' / 'notes.wav').write_text('this is not audio\n' * 10)
    whole = (root / 'kick' / sorted(os.listdir(root / 'kick'))[0]).read_bytes()
    (root / 'kick' / 'cut.wav').write_bytes(whole[:len(whole) // 3])
    (root / 'snare' / 'garbage.flac').write_bytes(np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    sf.write(root / 'kick' / 'tiny.wav', hits[0].audio[:200], 22050)
    return root


def _load(root, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return Corpus.from_folder(root, **{'progress': False, **kw})


def _why(c): return [(p, re.sub(r'name=\d+', '', r)) for p, r in c.skipped]     # soundfile's message names a file descriptor


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    d = tmp_path / 'cache'; monkeypatch.setenv('LATENTPLAY_CACHE', str(d)); return d


def test_stream_gives_the_same_corpus_as_memory(big, fresh_cache):
    cs, cm = _load(big, stream=True, min_seconds=0.05), _load(big, stream=False, min_seconds=0.05)
    assert cs.streamed and isinstance(cs.sounds, SoundStore) and not cm.streamed
    assert len(cs) == len(cm) == N
    assert cs.labels == cm.labels and cs.meta == cm.meta and cs.classes == cm.classes
    assert _why(cs) == _why(cm) and len(cs.skipped) == 5            # four broken files and one too short, same reasons
    why = {Path(p).name: r for p, r in cs.skipped}
    assert 'empty' in why['empty.wav'] and 'truncated' in why['cut.wav'] and 'not readable' in why['garbage.flac']
    assert 'too short' in why['tiny.wav']
    for a, b in zip(cs, cm): assert a.sr == b.sr and np.array_equal(a.audio, b.audio) and a.meta == b.meta
    assert cs.summary() == cm.summary() and cs.minutes == pytest.approx(cm.minutes)
    assert cs.filter(label='kick').meta == cm.filter(label='kick').meta
    assert cs.split(test=0.2, seed=1)[1].meta == cm.split(test=0.2, seed=1)[1].meta
    g1, g2 = cs.grains(frame_length=1024), cm.grains(frame_length=1024)
    assert np.array_equal(g1.x.numpy(), g2.x.numpy()) and np.array_equal(g1.index, g2.index)
    assert cs.sounds.prepared == dict(reused=0, cached=0, decoded=N + 1, failed=4)
    assert not cs[:3].in_memory().streamed and cs[:3].in_memory().meta == cm[:3].meta
    cc = _load(big, stream=True, labels=False)                        # labels=False and a CSV behave as in memory
    assert set(cc.labels) == {None} and cc.sounds.prepared['reused'] == N + 5


def test_interrupted_preparation_resumes_without_redoing_files(big, fresh_cache):
    def stop_at(k):
        def progress(done, total):
            if done == k: raise KeyboardInterrupt
        return progress
    with pytest.raises(KeyboardInterrupt): _load(big, stream=True, progress=stop_at(100))
    cached = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (fresh_cache / 'decoded').rglob('*.npz')}
    assert 90 <= len(cached) <= 100                                   # the first hundred files (a few of them broken)
    c = _load(big, stream=True)
    n = c.sounds.prepared
    assert n['reused'] == 100 and n['cached'] == 0 and n['reused'] + n['decoded'] + n['failed'] == N + 5
    assert all((p.stat().st_ino, p.stat().st_mtime_ns) == v for p, v in cached.items())     # finished files not redone
    assert _load(big, stream=True).sounds.prepared == dict(reused=N + 5, cached=0, decoded=0, failed=0)
    assert c.meta == _load(big, stream=False).meta


def test_killed_process_resumes(big, fresh_cache):
    "A process killed outright (SIGKILL, no cleanup) in the middle of a preparation: the next one carries on."
    script = ("import os, signal, warnings; warnings.simplefilter('ignore')\n"
              "from latentplay.corpus import Corpus\n"
              "def progress(done, total):\n"
              "    if done == 120: os.kill(os.getpid(), signal.SIGKILL)\n"
              f"Corpus.from_folder({str(big)!r}, stream=True, progress=progress)\n")
    r = subprocess.run([sys.executable, '-c', script], env={**os.environ, 'LATENTPLAY_CACHE': str(fresh_cache)}, timeout=120)
    assert r.returncode == -9
    c = _load(big, stream=True)
    assert c.sounds.prepared['reused'] == 120 and len(c) == N + 1


def _reachable_arrays(obj, limit=200000):
    "numpy arrays reachable from `obj` through containers and instance dicts (modules and classes not followed)."
    seen, todo, found = set(), [obj], []
    while todo and len(seen) < limit:
        o = todo.pop()
        if id(o) in seen or isinstance(o, (type, type(os))): continue
        seen.add(id(o))
        if isinstance(o, np.ndarray): found.append(o); continue
        todo += gc.get_referents(o)
    return found


def test_memory_does_not_grow_with_the_number_of_files(big, fresh_cache):
    cs, cm = _load(big, stream=True), _load(big, stream=False)
    assert _reachable_arrays(cs) == [] and len(_reachable_arrays(cm)) >= N     # the streamed corpus holds no audio at all
    alive = []
    for s in cs: alive.append(weakref.ref(s.audio))                   # reading every sound keeps none of them
    gc.collect()
    assert sum(r() is not None for r in alive) <= 1
    # while preparing: memory traced after 40 files and after all files, streamed vs in memory
    audio_bytes = sum(s.audio.nbytes for s in cm)
    def growth(**kw):
        marks = {}
        def progress(done, total):
            if done in (40, total): marks[done] = tracemalloc.get_traced_memory()[0]
        tracemalloc.start()
        try: c = _load(big, progress=progress, **kw)
        finally: tracemalloc.stop()
        return marks[N + 5] - marks[40], c
    for d in (fresh_cache / 'decoded', fresh_cache / 'prepared'):     # a cold preparation, decoding every file
        for p in d.rglob('*'):
            if p.is_file(): p.unlink()
    g_stream, _ = growth(stream=True)
    g_mem, _ = growth(stream=False)
    assert g_mem > 0.7 * audio_bytes * (N - 40) / N                   # the measure sees audio held in memory...
    assert g_stream < 0.1 * audio_bytes                               # ...and the stream holds only the index


def test_user_files_never_written_and_changes_noticed(big, fresh_cache, tmp_path):
    import shutil
    root = tmp_path / 'copy'; shutil.copytree(big, root)
    before = {p: (p.stat().st_mtime_ns, file_sha256(p)) for p in root.rglob('*') if p.is_file()}
    c = _load(root, stream=True)
    assert {p: (p.stat().st_mtime_ns, file_sha256(p)) for p in root.rglob('*') if p.is_file()} == before
    target = root / c.meta[5]['file']                                 # edit one file: only it is prepared again
    sf.write(target, np.full(3000, 0.25, np.float32), 22050)
    c2 = _load(root, stream=True)
    assert c2.sounds.prepared['decoded'] == 1 and c2.sounds.prepared['reused'] == N + 4
    assert np.allclose(c2[5].audio, 0.25, atol=1e-3) and len(c2[5]) == 3000
    shutil.rmtree(fresh_cache / 'decoded')                            # the cache cleared: sounds are decoded again
    assert np.allclose(c2[5].audio, 0.25, atol=1e-3) and (fresh_cache / 'decoded').exists()
    shutil.rmtree(fresh_cache / 'decoded'); target.unlink()           # cache and file gone: a clear error
    with pytest.raises(FileNotFoundError, match='load the folder again'): c2[5]


def test_streaming_by_default_above_the_threshold(big, fresh_cache, monkeypatch):
    monkeypatch.setattr(corpus_mod, 'STREAM_FILES', 50)
    assert _load(big).streamed and not _load(big, stream=False).streamed
    with pytest.raises(ValueError, match='cache=True'): _load(big, stream=True, cache=False)
    assert not _load(big, cache=False).streamed                       # no cache: in memory, as before


def test_a_model_trains_on_a_streamed_corpus(big, fresh_cache):
    import torch
    from latentplay.granular import GrainModel
    torch.set_num_threads(1)
    c = _load(big, stream=True).filter(label=['kick', 'snare'])
    kw = dict(max_steps=4, progress=False, batch_size=4, hidden=32, latent_dim=8, n_mels=32, embed_dim=8, rnn_hidden=16,
              seq_seconds=0.4, validate_every=0)
    m = GrainModel.fit(c, **kw)
    assert c.streamed and m.labels == ['kick', 'snare'] and m.info['corpus']['files'] == len(c)
    same = GrainModel.fit(c.in_memory(), **kw)           # batches read from disk on demand: the very same training
    assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), same.state_dict().values()))


def test_batches_read_on_demand_equal_the_segments(big, fresh_cache):
    "A training loop over a big corpus: the slice index from lengths alone, each batch read when needed."
    cs, cm = _load(big, stream=True), _load(big, stream=False)
    idx = cs.frame_index(4410, 2205, pad=True)
    seg = cm.segments(0.2, hop_seconds=0.1, pad=True)
    assert np.array_equal(idx, seg.index) and np.array_equal(cm.frame_index(4410, 2205, pad=True), idx)
    rows = np.random.default_rng(0).choice(len(idx), 32, replace=False)
    assert np.array_equal(cs.read_frames(idx[rows], 4410).numpy(), seg.x[rows].numpy())
    assert np.array_equal(cs.frame_index(1024, 256), cm.grains(1024, 256).index)
    assert cs.read_frames(np.zeros((0, 2), np.int64), 64).shape == (0, 64)
