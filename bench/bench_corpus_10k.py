"""Preparing a big folder: peak memory, time and files/s of the streamed preparation of a 10,000-file folder that this
script writes itself (built-in drum hits, each a distinct file: varied gain, pitch and length), of the same preparation
killed half way and resumed, of reading every sound back on demand, and of the old in-memory path on the same folder
(once at 10,000 files, and `--repeats` interleaved times on a `--compare-files` folder, medians: the timing comparison).
Every phase runs in its own process (peak RSS from `resource`), in temporary folders and caches: the user's cache is
untouched. Prints JSON.  Usage: python bench/bench_corpus_10k.py [--files 10000] [--sr 22050] [--compare-files 2000] [--repeats 3]"""
import argparse, json, os, resource, shutil, signal, subprocess, sys, tempfile, time, warnings


def _rss_mb() -> float:
    """Peak resident memory of this process in MiB: VmHWM (this program's own peak; ru_maxrss would carry the parent's
    peak across fork and exec), else ru_maxrss."""
    try:
        with open('/proc/self/status') as f: return next(int(l.split()[1]) for l in f if l.startswith('VmHWM')) / 1024
    except (OSError, StopIteration): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_folder(root: str, n: int, sr: int) -> dict:
    "`n` distinct short WAV files, one sub-folder per drum class, from the built-in drum hits."
    import numpy as np, soundfile as sf
    from latentplay.corpus import Corpus
    from latentplay.sound import resample
    hits = Corpus.builtin('gm-drums', sr=sr, progress=False)
    rng = np.random.default_rng(0)
    t = time.perf_counter(); total = 0
    for i in range(n):
        s = hits[i % len(hits)]
        ratio = 2 ** (rng.uniform(-3, 3) / 12)                       # pitch: up to 3 semitones either way
        a = resample(s.audio, sr, int(round(sr * ratio))) if i >= len(hits) else s.audio
        a = a[:int(sr * rng.uniform(0.1, 0.4))] * np.float32(rng.uniform(0.2, 0.9) / max(np.abs(a).max(), 1e-6))
        d = os.path.join(root, s.meta['label']); os.makedirs(d, exist_ok=True)
        sf.write(os.path.join(d, f"{i:05d}.wav"), a, sr); total += len(a)
    return dict(files=n, seconds_of_audio=round(total / sr, 1), write_seconds=round(time.perf_counter() - t, 1),
                folder_mb=round(_du(root) / 2**20, 1))


def _du(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def phase(kind: str, root: str, sr: int) -> dict:
    "Run in a child process: prepare (or load) the folder, or read every sound of the prepared folder back."
    warnings.simplefilter('ignore')
    from latentplay.corpus import Corpus
    base = _rss_mb(); t = time.perf_counter()
    c = Corpus.from_folder(root, sr=sr, stream=kind != 'memory', progress=False)
    out = dict(seconds=round(time.perf_counter() - t, 2), files=len(c), rss_after_import_mb=round(base, 1))
    if kind == 'read':                                                # on demand: every sound once, as a training epoch would
        t = time.perf_counter(); n = 0
        for s in c: n += len(s)
        out = dict(seconds=round(time.perf_counter() - t, 2), files=len(c), samples=n, rss_after_import_mb=round(base, 1))
    out['files_per_s'] = round(len(c) / max(out['seconds'], 1e-9), 1)
    if c.streamed: out['prepared'] = c.sounds.prepared
    out['peak_rss_mb'] = round(_rss_mb(), 1)
    out['held_audio_mb'] = round(sum(len(s) for s in c.sounds) * 4 / 2**20, 1) if not c.streamed else 0.0
    return out


def _child(kind: str, root: str, sr: int, cache: str, kill_at: int | None = None) -> dict:
    env = {**os.environ, 'LATENTPLAY_CACHE': cache}
    cmd = [sys.executable, __file__, '--phase', kind, '--root', root, '--sr', str(sr)]
    if kill_at is None:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        return json.loads(r.stdout)
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = _journal(root, sr, cache); t = time.perf_counter()
    while p.poll() is None:                                           # kill it outright once half the files are journalled
        if os.path.exists(journal) and _lines(journal) >= kill_at: p.send_signal(signal.SIGKILL); break
        time.sleep(0.05)
    p.wait()
    return dict(killed_after_s=round(time.perf_counter() - t, 2), journalled=_lines(journal), returncode=p.returncode)


def _journal(root: str, sr: int, cache: str) -> str:
    old = os.environ.get('LATENTPLAY_CACHE'); os.environ['LATENTPLAY_CACHE'] = cache
    try:
        from latentplay.corpus import _journal_path
        return str(_journal_path(root, sr))
    finally:
        if old is None: os.environ.pop('LATENTPLAY_CACHE')
        else: os.environ['LATENTPLAY_CACHE'] = old


def _lines(path: str) -> int:
    with open(path, 'rb') as f: return f.read().count(b'\n')


def compare(tmp: str, n: int, sr: int, repeats: int) -> dict:
    "Cold preparation, streamed vs in memory, on an `n`-file folder: `repeats` interleaved runs each, fresh caches; medians."
    import statistics
    root = os.path.join(tmp, f'compare{n}'); write_folder(root, n, sr)
    runs = {'stream': [], 'memory': []}
    for r in range(repeats):
        for kind in runs: runs[kind].append(_child(kind, root, sr, os.path.join(tmp, f'cmp_{kind}_{r}')))
    med = lambda kind, k: round(statistics.median(x[k] for x in runs[kind]), 2)
    out = {kind: dict(seconds=med(kind, 'seconds'), peak_rss_mb=med(kind, 'peak_rss_mb'),
                      rss_growth_mb=round(med(kind, 'peak_rss_mb') - med(kind, 'rss_after_import_mb'), 1),
                      seconds_each=[x['seconds'] for x in runs[kind]]) for kind in runs}
    out.update(files=n, repeats=repeats, time_stream_over_memory=round(out['stream']['seconds'] / out['memory']['seconds'], 2),
               rss_growth_memory_over_stream=round(out['memory']['rss_growth_mb'] / max(out['stream']['rss_growth_mb'], 1e-9), 1))
    return out


def main(files: int, sr: int, compare_files: int = 2000, repeats: int = 3) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root, cache_a, cache_b, cache_c = (os.path.join(tmp, k) for k in ('library', 'cache_a', 'cache_b', 'cache_c'))
        os.environ['LATENTPLAY_CACHE'] = os.path.join(tmp, 'builtin')     # the drum render for the folder, not the user's
        out = dict(bench='corpus_10k', sr=sr, folder=write_folder(root, files, sr))
        out['stream_cold'] = _child('stream', root, sr, cache_a)
        out['stream_cold']['cache_mb'] = round(_du(cache_a) / 2**20, 1)
        out['stream_warm'] = _child('stream', root, sr, cache_a)              # everything reused from the journal
        out['read_every_sound'] = _child('read', root, sr, cache_a)
        out['interrupted'] = _child('stream', root, sr, cache_b, kill_at=files // 2)
        out['resumed'] = _child('stream', root, sr, cache_b)
        out['memory_cold'] = _child('memory', root, sr, cache_c)              # the old path: every sound held in memory
        out['memory_warm'] = _child('memory', root, sr, cache_c)
        out['compare'] = compare(tmp, min(files, compare_files), sr, repeats)
        sc, mc = out['stream_cold'], out['memory_cold']
        out['ratios'] = dict(
            peak_rss_memory_over_stream=round(mc['peak_rss_mb'] / sc['peak_rss_mb'], 2),
            rss_growth_memory_over_stream=round((mc['peak_rss_mb'] - mc['rss_after_import_mb'])
                                                / max(sc['peak_rss_mb'] - sc['rss_after_import_mb'], 1e-9), 1),
            cold_time_stream_over_memory=round(sc['seconds'] / mc['seconds'], 2),
            warm_time_stream_over_memory=round(out['stream_warm']['seconds'] / out['memory_warm']['seconds'], 2),
            resumed_decoded_fraction=round(out['resumed']['prepared']['decoded'] / files, 3))
        return out


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--files', type=int, default=10000); ap.add_argument('--sr', type=int, default=22050)
    ap.add_argument('--compare-files', type=int, default=2000, help='folder size of the repeated stream-vs-memory timing')
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--phase'); ap.add_argument('--root')
    a = ap.parse_args()
    warnings.simplefilter('ignore')
    print(json.dumps(phase(a.phase, a.root, a.sr) if a.phase else main(a.files, a.sr, a.compare_files, a.repeats), indent=None if a.phase else 2))
