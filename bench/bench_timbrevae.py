"""TimbreVAE (latentplay.timbrevae): how much loudness is left in the latent with and without the adversary, side by side.

Four models are trained on the same sounds with the same seeds, on one thread: the encoder reading the plain log-mel
frames (as the paper) or each frame divided by its level (`level_free`, the default), each without and with the
loudness adversary (the default is level-free with the adversary). Then, on held-out sounds: the R² of fresh regressors (ridge and a small MLP, fitted on half of the held-out
sounds and scored on the other half) predicting each latent step's loudness from its point; the reconstruction of the
held-out sounds (`lsd`, `sc`, medians) beside the learned inverter's own rebuild of their exact mel frames (the
ceiling); the loudness control (one point decoded at several loudness values, the level measured); and the speed of
`transfer` on 10 s of sound. Prints JSON.

    python bench/bench_timbrevae.py --steps 300                 # all four models, all of gm-notes' training split
    python bench/bench_timbrevae.py --steps 1000 --only plain plain+adversary   # the adversary's effect, given time
    python bench/bench_timbrevae.py --instrument Flute --steps 600
    python bench/bench_timbrevae.py --split sound               # the old split, for comparison

The split (`--split`): `grouped` (the default) holds out every velocity of one instrument's pitch together
(`split(test=0.1, seed=0, group='auto')`); `sound` draws note by note, which leaves another velocity of every held-out
note in training. The inverter ceiling uses the shipped gm-notes inverter, trained on a sound-by-sound split: on the
grouped held-out notes it has heard most of them (`inverter_heard_held_out` counts them), so that ceiling is optimistic.
"""
import argparse, json, statistics, sys, time
import numpy as np
import torch


def median_time(f, n=3):
    f()                                                   # warm-up
    ts = []
    for _ in range(n):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--steps', type=int, default=600, help='training steps of each model')
    ap.add_argument('--minutes', type=float, default=None, help='or a time budget per model')
    ap.add_argument('--instrument', default=None, help='train on one instrument of gm-notes (default: all of them)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--save', default=None, help='write the last model trained here (a .lp file)')
    ap.add_argument('--split', choices=['grouped', 'sound'], default='grouped', help='grouped: siblings held out together; sound: the old split')
    ap.add_argument('--only', nargs='*', default=None, help='train only these of: plain, plain+adversary, level_free, level_free+adversary')
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    from latentplay.corpus import Corpus
    from latentplay.dsp import lsd, sc
    from latentplay.features import loudness as measured_loudness
    from latentplay.sound import Sound
    from latentplay.timbrevae import TimbreVAE, loudness_r2
    from latentplay.spectral import shipped_inverter_for

    notes = Corpus.builtin('gm-notes', progress=False)
    tr, te = notes.split(test=0.1, seed=0, group='auto' if a.split == 'grouped' else None)
    if a.instrument: tr = tr.filter(instrument=a.instrument)
    out = {'corpus': 'gm-notes' + (f' ({a.instrument})' if a.instrument else ''), 'split': a.split, 'train_sounds': len(tr),
           'held_out_sounds': len(te), 'held_out_with_sibling_in_training': len(te.siblings_in(tr)),
           'inverter_heard_held_out': len(te.siblings_in(notes.split(test=0.05, seed=0)[0], group=lambda m: tuple(sorted(m.items())))),
           'steps': a.steps, 'minutes': a.minutes, 'threads': 1}
    configs = {'plain': dict(level_free=False, adversary=False), 'plain+adversary': dict(level_free=False, adversary=True),
               'level_free': dict(level_free=True, adversary=False), 'level_free+adversary': dict(level_free=True, adversary=True)}
    models = {}
    for key, kw in configs.items():
        if a.only and key not in a.only: continue
        t = time.perf_counter()
        m = TimbreVAE.fit(tr, max_steps=None if a.minutes else a.steps, minutes=a.minutes, progress=False,
                          validate_every=1e9, seed=a.seed, **kw)
        models[key] = m
        rec = [(float(lsd(s.audio, y.audio)), float(sc(s.audio, y.audio))) for s in te.sounds for y in [m.transfer(s)]]
        out[key] = {**kw, 'train_seconds': round(time.perf_counter() - t, 1), 'steps': m.info['steps'],
                    'loudness_r2': {k: round(v, 3) if isinstance(v, float) else v for k, v in loudness_r2(m, te, seed=a.seed, group='auto' if a.split == 'grouped' else None).items()},
                    'lsd_median': round(statistics.median(r[0] for r in rec), 2), 'sc_median': round(statistics.median(r[1] for r in rec), 3)}
        if a.instrument:                                  # the same figures on held-out notes of that instrument only
            own = te.filter(instrument=a.instrument)
            if len(own) >= 2:
                out[key]['loudness_r2_own_instrument'] = {k: round(v, 3) if isinstance(v, float) else v for k, v in loudness_r2(m, own, seed=a.seed, group='auto' if a.split == 'grouped' else None).items()}
        print(json.dumps({key: out[key]}), file=sys.stderr, flush=True)
    m = models[list(models)[-1]]
    out['measured_model'] = list(models)[-1]
    inv = shipped_inverter_for(m.spectral)
    ceil = [(float(lsd(s.audio, y)), float(sc(s.audio, y))) for s in te.sounds for y in [inv.to_audio(m.spectral(s.tensor()), len(s))]]
    out['inverter_ceiling'] = {'lsd_median': round(statistics.median(r[0] for r in ceil), 2), 'sc_median': round(statistics.median(r[1] for r in ceil), 3)}
    # the loudness control: one point of a held-out note, held 1 s, decoded at several loudness values
    s = te.sounds[0]
    z = m.encode(s)
    pt = z[len(z) // 3].expand(43, -1)
    asked = [-50, -40, -30, -20, -10]
    got = [float(measured_loudness(m.decode(pt, loudness=l).audio, n_fft=1024, hop_length=256)[8:-8].mean()) for l in asked]
    out['loudness_control'] = {'asked_db': asked, 'measured_db': [round(g, 2) for g in got],
                               'monotone': all(b > a_ for a_, b in zip(got, got[1:]))}
    # speed: transfer of 10 s (a held-out note repeated), one thread
    ten = Sound(np.tile(s.audio, int(np.ceil(10 * s.sr / len(s))))[:10 * s.sr], s.sr)
    tt = median_time(lambda: m.transfer(ten))
    td = median_time(lambda: m.decode(m.encode(ten), loudness=m.loudness(ten)))
    out['speed'] = {'transfer_10s_seconds': round(tt, 3), 'transfer_x_realtime': round(10 / tt, 1),
                    'inverter_share': round(median_time(lambda: inv.to_audio(m.spectral(ten.tensor()), len(ten))) / tt, 2)}
    if a.save: m.save(a.save, half=True); out['saved'] = a.save
    print(json.dumps(out, indent=1))


if __name__ == '__main__':
    main()
