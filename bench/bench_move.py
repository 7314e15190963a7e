"""MoVE (latentplay.move): timbre transfer between the instruments of one model, measured as the MoVE paper and issue 11
ask, on inputs the model never heard: the held-out notes of gm-notes (`split(test=0.1, seed=0)`, the split
scripts/train_move.py trains on) and the whole gm-voice corpus (sung notes, glides and phrases).

- target recognition: an `InstrumentClassifier` (latentplay.mir) trained on the *real* training notes of the model's
  instruments names the instrument of each transferred sound; the share named as the target (chance 1/k), beside its
  accuracy on the real held-out notes (its ceiling) and the share it names as the *input's* instrument;
- pitch kept: per frame, YIN f0 of input and output where both are clearly periodic (periodicity > 0.7): the median
  |difference| in cents (per sound, then the median over sounds), and the share of frames within 50 cents;
- loudness kept: correlation of the A-weighted loudness curves (`features.loudness`) over the frames within 40 dB of the
  input's peak, median over sounds, and the median level offset in dB;
- descriptor distributions (the MoVE paper's evaluation): per target instrument, the two-sample Kolmogorov-Smirnov
  statistic (0: the same distribution, 1: disjoint) between the median centroid, bandwidth, flatness and roll-off of
  the transferred notes and those of the real held-out notes of that instrument, beside the same statistic for the
  inputs themselves (where the transfer started from); the mean over descriptors and targets;
- speed: transfer of 10 s of a sung phrase on one thread, as a real-time factor (median of 5 after a warm-up), with
  the seconds of some stages; also in CPU seconds of the process (`time.process_time`), the fair figure when other
  jobs share the machine (the load average is printed beside it).

Prints JSON (one object). Usage: python bench/bench_move.py [--model m.lp] [--targets 2] [--classifier-steps 600]"""
import argparse, json, math, os, time, warnings
import numpy as np
import torch

warnings.filterwarnings('ignore')
from latentplay.corpus import Corpus
from latentplay.features import loudness, f0_yin, describe
from latentplay.mir import InstrumentClassifier
from latentplay.models import load_model, pretrained
from latentplay.sound import Sound
from latentplay.move import MoVE


def cents_error(x, y):
    "(median |cents| over the frames where both are periodic, share of those frames within 50 cents, frames)."
    fx, px = f0_yin(x, x.sr); fy, py = f0_yin(y, y.sr)
    k = (px > 0.7) & (py > 0.7) & (fx > 0) & (fy > 0)
    if int(k.sum()) < 3: return None
    c = (1200 * torch.log2(fy[k] / fx[k])).abs().numpy()
    return float(np.median(c)), float((c < 50).mean()), int(k.sum())


def loud_stats(x, y):
    lx, ly = loudness(x), loudness(y)
    k = lx > lx.max() - 40
    return float(np.corrcoef(lx[k], ly[k])[0, 1]), float((ly[k] - lx[k]).median())


def measure(m, clf, inputs, targets_of):
    "Transfer every input to its targets; classifier, pitch and loudness figures."
    hit, src_hit, cents, within50, cors, offs, n = [], [], [], [], [], [], 0
    for s in inputs:
        for t in targets_of(s):
            y = m.transfer(s, instrument=t)
            assert np.isfinite(y.audio).all() and len(y.audio) == len(s.audio)
            p = clf.predict(y); hit.append(p == t); n += 1
            if s.meta.get('instrument') is not None: src_hit.append(p == s.meta['instrument'])
            e = cents_error(s, y)
            if e is not None: cents.append(e[0]); within50.append(e[1])
            r, o = loud_stats(s, y); cors.append(r); offs.append(o)
    out = {'transfers': n, 'target_recognised': round(float(np.mean(hit)), 3),
           'f0_error_cents_median': round(float(np.median(cents)), 1) if cents else None,
           'f0_frames_within_50_cents': round(float(np.mean(within50)), 3) if within50 else None,
           'pitched_transfers': len(cents), 'loudness_correlation_median': round(float(np.median(cors)), 3),
           'loudness_offset_db_median': round(float(np.median(offs)), 2)}
    if src_hit: out['input_instrument_named'] = round(float(np.mean(src_hit)), 3)
    return out


DESCRIBED = ('centroid', 'bandwidth', 'flatness', 'rolloff')

def descriptor_match(m, held, inst, targets_of):
    "KS statistics of descriptor distributions: transferred notes vs real notes of the target, and inputs vs the same."
    from scipy.stats import ks_2samp
    real = {t: [describe(s) for s in held.filter(instrument=t).sounds] for t in inst}
    outs, ins = {t: [] for t in inst}, {t: [] for t in inst}
    for s in held.sounds:
        d = describe(s)
        for t in targets_of(s): outs[t].append(describe(m.transfer(s, instrument=t))); ins[t].append(d)
    ks = lambda a, b, k: float(ks_2samp([x[k] for x in a], [x[k] for x in b]).statistic)
    per = {t: {k: {'transferred': round(ks(outs[t], real[t], k), 3), 'inputs': round(ks(ins[t], real[t], k), 3)} for k in DESCRIBED}
           for t in inst if len(outs[t]) >= 3 and len(real[t]) >= 3}
    mean = lambda w: round(float(np.mean([v[k][w] for v in per.values() for k in DESCRIBED])), 3)
    return {'ks_mean_transferred_vs_target': mean('transferred'), 'ks_mean_inputs_vs_target': mean('inputs'), 'per_target': per}


def speed(m, voice):
    ten = Sound(np.tile(voice.audio, math.ceil(10 * voice.sr / len(voice.audio)))[:10 * voice.sr], voice.sr)
    f = lambda: m.transfer(ten, instrument='Violin')
    f(); ts, cpu = [], []
    for _ in range(5):
        t0, c0 = time.perf_counter(), time.process_time(); f()
        ts.append(time.perf_counter() - t0); cpu.append(time.process_time() - c0)
    x = torch.from_numpy(ten.audio)
    stages = {}
    with torch.no_grad():
        for name, g in [('pitch_track', lambda: m.pitch_track(ten)), ('analysis', lambda: m._analyse(x)),
                        ('encoder', lambda: m.encoder(m._slices(m._analyse(x)[0])))]:
            g(); t0 = time.perf_counter(); g(); stages[name] = time.perf_counter() - t0
    med = float(np.median(ts))
    c = float(np.median(cpu))
    return {'seconds_for_10s': round(med, 3), 'rtf_one_thread': round(10 / med, 1),
            'cpu_seconds_for_10s': round(c, 3), 'rtf_one_thread_cpu_time': round(10 / c, 1),
            'load_average': round(os.getloadavg()[0], 1), 'cores': os.cpu_count(),
            'stage_seconds': {k: round(v, 3) for k, v in stages.items()}}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', default=None, help="a trained MoVE (default: the shipped pretrained('gm-move'))")
    ap.add_argument('--targets', type=int, default=2, help='targets per held-out note (the next instruments after its own)')
    ap.add_argument('--classifier-steps', type=int, default=600)
    a = ap.parse_args()
    torch.set_num_threads(1)
    m = load_model(a.model) if a.model else pretrained('gm-move')
    inst = list(m.instruments)
    train, held = Corpus.builtin('gm-notes', progress=False).split(test=0.1, seed=0)
    train, held = train.filter(instrument=inst), held.filter(instrument=inst)
    t0 = time.perf_counter()
    clf = InstrumentClassifier.fit(train, max_steps=a.classifier_steps, progress=False, seed=0)
    out = {'model': {'instruments': inst, 'latent_dim': m.latent_dim, 'parameters': sum(p.numel() for p in m.parameters()),
                     'steps': m.info.get('steps'), 'minutes': round(m.info.get('minutes', 0), 2)},
           'classifier': {'labels': clf.labels, 'steps': a.classifier_steps, 'minutes': round((time.perf_counter() - t0) / 60, 2),
                          'accuracy_real_held_out': round(clf.evaluate(held)['accuracy'], 3), 'chance': round(1 / len(inst), 3)}}
    nxt = lambda s: [inst[(inst.index(s.meta['instrument']) + j) % len(inst)] for j in range(1, a.targets + 1)]
    out['held_out_notes'] = {'inputs': len(held), **measure(m, clf, list(held.sounds), nxt)}
    out['descriptor_distributions'] = descriptor_match(m, held, inst, nxt)
    out['held_out_notes_resynthesis'] = measure(m, clf, list(held.sounds), lambda s: [s.meta['instrument']])
    voice = Corpus.builtin('gm-voice', progress=False)
    vs = list(voice.sounds)
    rr = lambda s, _i=iter(range(10 ** 9)): [inst[next(_i) % len(inst)]]            # targets in turn
    out['gm_voice'] = {'inputs': len(vs), **measure(m, clf, vs, rr)}
    out['speed'] = speed(m, voice.filter(kind='phrase')[0])
    print(json.dumps(out))


if __name__ == '__main__': main()
