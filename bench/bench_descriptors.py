"""Descriptor throughput on one CPU thread, in seconds of audio per second of compute (after a warm-up).
Prints JSON. Usage: python bench/bench_descriptors.py [--seconds 20] [--repeats 5]"""
import argparse, json, time
import numpy as np
import torch

from latentplay.features import descriptors
from latentplay.soundfont import render_note


def throughput(x, sr, repeats, **kw):
    descriptors(x[..., :sr], sr, **kw)                                  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        descriptors(x, sr, **kw)
        times.append(time.perf_counter() - t0)
    return x.numel() / sr / float(np.median(times))           # median, as every latentplay benchmark


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--seconds', type=float, default=20.0, help='seconds of audio per measurement')
    ap.add_argument('--repeats', type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(1)
    sr = 22050
    note = render_note(42, 48, hold=2.0, release=0.5, sr=sr)            # a real cello note, tiled
    x = torch.tensor(np.resize(note, int(a.seconds * sr)))
    spectral = ['loudness', 'centroid', 'bandwidth', 'flatness', 'rolloff']
    out = {'benchmark': 'descriptors', 'unit': 'seconds of audio per second, 1 CPU thread', 'sr': sr, 'n_fft': 2048,
           'hop_length': 512, 'audio_seconds': a.seconds, 'torch': torch.__version__,
           'all': round(throughput(x, sr, a.repeats), 1),
           'spectral_only': round(throughput(x, sr, a.repeats, names=spectral), 1),
           'f0_only': round(throughput(x, sr, a.repeats, names=['f0']), 1),
           'batch_8x': round(throughput(x[: len(x) // 8 * 8].reshape(8, -1), sr, a.repeats), 1)}
    print(json.dumps(out))


if __name__ == '__main__': main()
