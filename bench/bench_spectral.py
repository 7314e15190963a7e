"""Spectral representations and their inversion, on held-out notes of gm-notes (their first second), one CPU thread.

1. The representation table: each representation at 256 values per frame (hop 256) taken to magnitudes and back by
   Griffin-Lim (same iterations for all), scored against the original (`lsd` dB, `sc`), with the median ms per note.
2. The learned inverter (the shipped one, or --train MINUTES to train one here) against Griffin-Lim at several
   iteration counts and loudness-matched noise: quality, and median ms to render a 1 s note (after a warm-up).

Prints JSON. Usage: python bench/bench_spectral.py [--notes 24] [--cqt-notes 6] [--n-iter 32] [--train MINUTES]
"""
import argparse, json, time
import numpy as np
import torch

from latentplay.corpus import Corpus
from latentplay.spectral import (SCALES, Spectral, compare_representations, fit_inverter, noise_floor,
                                 pretrained_inverter, score_audio)


def median_ms(f, repeats=7):
    f()                                                                   # warm-up
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter(); f(); ts.append(1000 * (time.perf_counter() - t0))
    return float(np.median(ts))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--notes', type=int, default=24)
    ap.add_argument('--cqt-notes', type=int, default=6, help='the constant-Q row is slow: fewer notes for it')
    ap.add_argument('--n-iter', type=int, default=32)
    ap.add_argument('--train', type=float, default=None, help='train an inverter for this many minutes instead of loading the shipped one')
    a = ap.parse_args()
    torch.set_num_threads(1)
    notes = Corpus.builtin('gm-notes', progress=False)
    train, test = notes.split(test=0.05, seed=0)
    held = [s.audio[:22050] for s in test][:a.notes]
    r = lambda v: round(v, 4)
    rows = compare_representations(held, {f'{s} 256': Spectral(s) for s in SCALES if s != 'cqt'} |
                                   {'stft 513 (n_fft 1024, reference)': Spectral('stft', n_bins=513)}, a.n_iter)
    rows += [dict(r, notes=a.cqt_notes) for r in compare_representations(held[:a.cqt_notes], {'cqt 256': Spectral('cqt')}, a.n_iter)]
    inv = fit_inverter(train, minutes=a.train, progress=False) if a.train else pretrained_inverter('gm-notes')
    sp = inv.spectral
    x1 = torch.from_numpy(held[0]); M1 = sp(x1)
    speed = {'inverter': median_ms(lambda: inv.to_audio(M1, len(x1))),
             'inverter_refine_8': median_ms(lambda: inv.to_audio(M1, len(x1), refine=8))}
    quality = {'inverter': score_audio(held, lambda x: inv.to_audio(sp(x), len(x))),
               'inverter_refine_8': score_audio(held, lambda x: inv.to_audio(sp(x), len(x), refine=8))}
    for k in (8, 16, 32, 100):
        speed[f'griffin_lim_{k}'] = median_ms(lambda: sp.griffin_lim(M1, k, length=len(x1)), 3)
        quality[f'griffin_lim_{k}'] = score_audio(held, lambda x: sp.griffin_lim(sp(x), k, length=len(x)))
    quality['loudness_matched_noise'] = score_audio(held, noise_floor)
    out = dict(
        held_out_notes=len(held), seconds_per_note=1.0, threads=1,
        representations=[{k: (r(v) if isinstance(v, float) else v) for k, v in row.items()} for row in rows],
        representation_n_iter=a.n_iter,
        inverter=dict(config=inv.config(), info=inv.info, parameters=sum(p.numel() for p in inv.parameters())),
        median_ms_1s_note={k: r(v) for k, v in speed.items()},
        speedup_vs_griffin_lim_32=r(speed['griffin_lim_32'] / speed['inverter']),
        quality={k: {m: r(v) for m, v in q.items() if m != 'ms'} for k, q in quality.items()})
    print(json.dumps(out, indent=1))


if __name__ == '__main__':
    main()
