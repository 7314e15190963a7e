"""The harmonic + noise grain decoder against the noise-only decoder of `GrainModel`, trained side by side with the
same step budget on the same 90% of a built-in corpus (`split(test=0.1, seed=0, group='auto')`) and measured on the unseen 10%:
resynthesis (`lsd`, `sc` medians), the f0 error of resynthesis in cents (`lp.features.transfer_measures`: YIN on the
input and on the output, pitched frames of both), the classifier of bench/bench_grains_quality.py on generated sounds
(mean and worst class), for a model conditioned on pitch the pitch of generated notes against the pitch asked for
(`pitch_check` of the same file), and decode speed (real-time factor, one thread, median after a warm-up). Prints JSON
(one line per corpus). gm-notes models are conditioned on pitch (`fit(pitch=True)`, as the shipped one), gm-drums not.

The split (`--split`): `grouped` (the default) holds out whole sounds with all their siblings
(`split(test=0.1, seed=0, group='auto')`: for gm-drums every velocity of one kit's drum, for gm-notes every velocity of
one instrument's pitch, `latentplay.corpus.SIBLINGS`); `sound` draws sound by sound as before, which leaves another
velocity of every held-out sound in training (figures then measure generalisation to another velocity); `both` trains
one model and scores it on two held-out sets of the same size: whole unseen groups (as `grouped`) and sounds drawn one by
one from the remaining groups, whose siblings stay in training (`*_sibling_held_out` in the JSON): the sibling effect on
the same model.

Usage: python bench/bench_grains_harmonic.py [--only gm-notes gm-drums] [--steps 600] [--per-class 5] [--held-out 40]
       [--split grouped|sound|both] [--decoders noise harmonic] [--save DIR]   (also writes DIR/<corpus>-<decoder>.lp, e.g. for bench_grains_speed.py --model)"""
import argparse, json, sys, time
from pathlib import Path
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_grains_quality import Classifier, pitch_check               # the same classifier and pitch check
from bench_grains_speed import median_time
from latentplay.corpus import Corpus
from latentplay.granular import GrainModel
from latentplay.dsp import lsd, sc
from latentplay.features import transfer_measures


def resynthesis(m, test):
    "Medians over held-out sounds of lsd, sc and the f0 error (cents) of the resynthesis (sounds with pitched frames in both)."
    L, S, C = [], [], []
    for s in test:
        out = m.resynthesize(s)
        L.append(float(lsd(s, out))); S.append(float(sc(s, out)))
        t = transfer_measures(s, out)
        if t['pitched_frames']: C.append(t['f0_error_cents'])
    f = lambda v: round(float(np.median(v)), 3) if len(v) else None
    return {'lsd': f(L), 'sc': f(S), 'f0_error_cents': f(C), 'sounds_with_pitched_frames': len(C), 'sounds': len(test)}


def generation(m, train, test, per_class):
    "The classifier (trained on real training sounds) on `generate(label=...)` at the default temperature."
    clf = Classifier(train.sr).fit(train.sounds, train.labels, m.labels)
    per = {}
    for lab in m.labels:
        gen = m.generate(label=lab, n=per_class, seed=0)
        assert all(np.isfinite(g.audio).all() for g in gen)
        per[lab] = round(float(np.mean([p == lab for p in clf.predict(gen)])), 2)
    real = clf.predict(test.sounds)
    return {'mean': round(float(np.mean(list(per.values()))), 3), 'min': min(per.values()), 'per_class': per,
            'classifier_on_real_held_out': round(float(np.mean([p == l for p, l in zip(real, test.labels)])), 3)}


def speed(m, seconds=10.0, repeats=5):
    "Decode real-time factor of a prior path, one thread."
    T = int(seconds * m.sr) // m.hop_length
    z = m.prior(T, seed=0)
    return round(T * m.hop_length / m.sr / median_time(lambda: m.decode(z), repeats), 1)


def splits(c, split):
    "`(train, test, sibling_test)`: the split asked for; with 'both' also sounds whose siblings stay in training (else None)."
    if split != 'both': return (*c.split(test=0.1, seed=0, group='auto' if split == 'grouped' else None), None)
    train, test = c.split(test=0.1, seed=0, group='auto')
    train, sib = train.split(test=len(test), seed=0)            # as many sounds again, drawn one by one from the other groups
    return train, test, sib


def run(name, steps, per_class, held_out, save, split='grouped', decoders=('noise', 'harmonic')):
    c = Corpus.builtin(name, sr=22050, progress=False)
    train, test, sib = splits(c, split)
    spread = lambda t: t[np.linspace(0, len(t) - 1, held_out).round().astype(int).tolist()] if held_out and len(t) > held_out else t
    test, sib = spread(test), sib if sib is None else spread(sib)   # spread over the classes
    pitch = name == 'gm-notes'
    out = {'benchmark': 'grains-harmonic', 'corpus': name, 'split': split, 'steps': steps, 'held_out_sounds': len(test),
           'held_out_with_sibling_in_training': len(test.siblings_in(train)), 'pitch_conditioned': pitch}
    if sib is not None: out.update(sibling_held_out_sounds=len(sib), sibling_held_out_with_sibling_in_training=len(sib.siblings_in(train)))
    for dec in decoders:
        t0 = time.perf_counter()
        m = GrainModel.fit(train, max_steps=steps, pitch=pitch, decoder=dec, seed=0, progress=False, validate_every=1e9)
        r = {'train_minutes': round((time.perf_counter() - t0) / 60, 2), 'steps': m.info['steps'],
             'parameters': sum(p.numel() for p in m.parameters())}
        if save: Path(save).mkdir(parents=True, exist_ok=True); m.save(Path(save) / f'{name}-{dec}.lp')
        r['resynthesis'] = resynthesis(m, test)
        r['generated_accuracy'] = generation(m, train, test, per_class)
        if sib is not None:
            r['resynthesis_sibling_held_out'] = resynthesis(m, sib)
            clf = Classifier(train.sr).fit(train.sounds, train.labels, m.labels)
            r['classifier_on_real_sibling_held_out'] = round(float(np.mean([p == l for p, l in zip(clf.predict(sib.sounds), sib.labels)])), 3)
        if pitch: r['pitch_of_generated'] = pitch_check(m, train)
        r['rtf_decode'] = speed(m)
        out[dec] = r
        print(json.dumps({'corpus': name, 'decoder': dec, **r}), file=sys.stderr, flush=True)   # progress
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--only', nargs='*', default=['gm-notes', 'gm-drums'])
    ap.add_argument('--steps', type=int, default=600, help='training steps of each model (both levels together)')
    ap.add_argument('--per-class', type=int, default=5)
    ap.add_argument('--held-out', type=int, default=40, help='held-out sounds resynthesized (0: all)')
    ap.add_argument('--save', default=None, help='folder to keep the trained models in')
    ap.add_argument('--split', choices=['grouped', 'sound', 'both'], default='grouped',
                    help="grouped: siblings held out together; sound: the old split; both: one model scored on unseen groups and on sounds with siblings in training")
    ap.add_argument('--decoders', nargs='*', default=['noise', 'harmonic'], choices=['noise', 'harmonic'])
    a = ap.parse_args()
    torch.set_num_threads(1)
    for name in a.only: print(json.dumps(run(name, a.steps, a.per_class, a.held_out, a.save, a.split, a.decoders)), flush=True)


if __name__ == '__main__': main()
