"""`TimbreSpace` on gm-notes (the 12 rated instruments; one note in five of each held out), one CPU thread unless told.

1. Perceptual fit: Spearman correlation and Mantel permutation test (9999) between the 12 instruments' latent centroid
   distances and the rated dissimilarities, for the same budget without and with the regulariser; and the same for
   the centroids of the held-out notes only.
2. Resynthesis of held-out notes (encode -> decode at the note's pitch and length, the learned inverter), `lsd` dB and
   `sc`, against the ceilings of a magnitude model: the true mel magnitudes through Griffin-Lim (32 iterations) and
   through the learned inverter; and loudness-matched noise (the floor).
3. Slider -> 1 s note latency (decode of one point, median of 15 after a warm-up), inverter and Griffin-Lim.
4. Time to a usable model: the wall time of the regularised fit at this budget, with --threads torch threads.

Prints JSON. Usage: nice -n 10 python bench/bench_timbre.py [--steps 1500] [--threads 1] [--notes 40]
"""
import argparse, json, time
import numpy as np
import torch

from latentplay.corpus import Corpus
from latentplay.dsp import lsd, sc
from latentplay.spectral import pretrained_inverter, noise_floor
from latentplay.timbre import TimbreSpace, perceptual_fit


def median_ms(f, repeats=15):
    f()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter(); f(); ts.append(1000 * (time.perf_counter() - t0))
    return float(np.median(ts))


def score(pairs):
    pairs = list(pairs)
    L = [float(lsd(torch.from_numpy(x), torch.as_tensor(y))) for x, y in pairs]
    S = [float(sc(torch.from_numpy(x), torch.as_tensor(y))) for x, y in pairs]
    return dict(lsd=round(float(np.mean(L)), 3), sc=round(float(np.mean(S)), 4))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--steps', type=int, default=1500, help='training steps of each model (both stages together)')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--notes', type=int, default=40, help='held-out notes scored for resynthesis')
    ap.add_argument('--permutations', type=int, default=9999)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    notes = Corpus.builtin('gm-notes', progress=False)
    out = dict(steps=a.steps, threads=a.threads)
    models = {}
    for reg in (False, True):
        t0 = time.perf_counter()
        m = TimbreSpace.fit(notes, max_steps=a.steps, regularise=reg, progress=False)
        name = 'regularised' if reg else 'plain'
        models[name] = m
        held = m.info['held_out']
        out[name] = dict(fit_seconds=round(time.perf_counter() - t0, 1),
                         centroids={k: round(v, 4) for k, v in m.perceptual_fit(permutations=a.permutations).items()},
                         held_out={k: round(v, 4) for k, v in perceptual_fit(m.project(notes, indices=held), a.permutations).items()})
    torch.set_num_threads(1)
    m = models['regularised']
    held = m.info['held_out'][:a.notes]
    sp, inv = m.spectral, pretrained_inverter('gm-notes')
    orig = [notes[i].audio for i in held]
    rebuilt = [m.decode(m.encode(notes[i]), pitch=notes[i].meta['pitch'], seconds=notes[i].duration).audio for i in held]
    gl = [sp.griffin_lim(sp(torch.from_numpy(x)), 32, length=len(x)).numpy() for x in orig]
    iv = [inv.to_audio(sp(torch.from_numpy(x)), length=len(x)).numpy() for x in orig]
    nz = [noise_floor(x).numpy() for x in orig]
    out['resynthesis'] = dict(notes=len(held), timbre_space=score(zip(orig, rebuilt)), griffin_lim_of_true=score(zip(orig, gl)),
                              inverter_of_true=score(zip(orig, iv)), noise=score(zip(orig, nz)))
    z = m.prior(1)
    out['latency_ms_1s_note'] = dict(inverter=round(median_ms(lambda: m.decode(z, seconds=1.0)), 2),
                                     griffin_lim=round(median_ms(lambda: m.decode(z, seconds=1.0, inversion='griffin-lim'), 5), 2),
                                     descriptor_map_32x32=round(median_ms(lambda: m.descriptor_map(n=32), 5), 2))
    print(json.dumps(out, indent=1))


if __name__ == '__main__':
    main()
