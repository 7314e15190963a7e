"""Built-in corpora: size (files, minutes, classes, memory), cold render time and cached load time, in a fresh
temporary cache so that the user's cache is untouched. Prints JSON.
Usage: python bench/bench_corpus.py [--sr 22050] [--sets gm-voice gm-drums ...] (default: every built-in set)"""
import argparse, json, os, tempfile, time, warnings

def main(sr: int, sets=None):
    with tempfile.TemporaryDirectory() as cache:
        os.environ['LATENTPLAY_CACHE'] = cache
        from latentplay.corpus import Corpus
        from latentplay.soundfont import builtin_sets
        out = {}
        for name in sets or builtin_sets():
            t = time.perf_counter(); c = Corpus.builtin(name, sr=sr, progress=False); cold = time.perf_counter() - t
            t = time.perf_counter(); Corpus.builtin(name, sr=sr, progress=False); warm = time.perf_counter() - t
            s = c.summary()
            labels = sorted({k for snd in c for k in snd.meta if k not in ('source',)})
            out[name] = dict(files=s['files'], minutes=s['minutes'], classes=len(s['classes']), label_fields=labels,
                             memory_mb=round(sum(x.audio.nbytes for x in c) / 2**20, 1),
                             render_seconds=round(cold, 2), cached_load_seconds=round(warm, 3))
        return dict(bench='corpus', sr=sr, corpora=out)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--sr', type=int, default=22050); ap.add_argument('--sets', nargs='*')
    warnings.simplefilter('ignore')
    a = ap.parse_args()
    print(json.dumps(main(a.sr, a.sets), indent=2))
