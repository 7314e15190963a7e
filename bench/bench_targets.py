"""Descriptor-targeted synthesis on one CPU thread: for 3 s targets (a centroid curve; centroid + loudness), the time
and decoded latents `follow_descriptors` needs to reach a median descriptor error <= 5%, and the errors of the
gradient and greedy searches at equal numbers of decoded latents. Medians over targets and seeds. Prints JSON.
Usage: python bench/bench_targets.py [--model gm-drums] [--seeds 3]

With --note-models: the models that decode magnitudes instead (`gm-notes-timbre`: a rising brightness curve over a 1 s
note at three pitches; `gm-techniques-notes`: constant loudness targets under three instrument/style conditions), each
the error of the first guess and of the answer (measured on the decoded audio), the correlation of the achieved and
target log-centroid curves, the pitch error of the answer (YIN), and seconds.
Usage: python bench/bench_targets.py --note-models"""
import argparse, json, time
import numpy as np
import torch

from latentplay.models import pretrained, load_model
from latentplay.targets import follow_descriptors, greedy_descriptor_path


def targets():
    t = np.linspace(0, 1, 64)
    centroid = {'sweep up': np.geomspace(500, 6000, 64), 'sweep down': np.geomspace(5000, 700, 64),
                'wobble': 2000 * 2 ** np.sin(2 * np.pi * 2 * t)}
    loud = {'swell': -50 + 32 * np.sin(np.pi * t) ** 2, 'fade in': np.linspace(-45, -20, 64), 'steady': np.full(64, -30.)}
    return {'centroid': {k: {'centroid': v} for k, v in centroid.items()},
            'centroid+loudness': {f'{a} / {b}': {'centroid': centroid[a], 'loudness': loud[b]}
                                  for a, b in zip(centroid, loud)}}


def reach(r, tol):
    "Seconds and decoded latents at the first history entry with error <= tol (None if never)."
    h = next((h for h in r.history if h['error'] <= tol), None)
    return (h['seconds'], h['decoder_calls']) if h else (None, None)


def med(xs):
    xs = [x for x in xs if x is not None]
    return round(float(np.median(xs)), 4) if xs else None


def _key(sound):
    from latentplay.features import f0_yin
    f0, per = f0_yin(sound.audio, sound.sr)
    v = f0[per > 0.5].numpy()
    return float(69 + 12 * np.log2(np.median(v) / 440)) if len(v) else float('nan')


def note_models():
    "Targets through decoded magnitudes (capability `magnitudes`): the timbre space and the note model."
    ts, nm = pretrained('gm-notes-timbre'), pretrained('gm-techniques-notes')
    rise, rows = {'centroid': np.geomspace(600, 1600, 16)}, {'timbre_rising_centroid_1s': [], 'notes_loudness': []}
    for pitch in (48, 60, 72):
        start = follow_descriptors(ts, rise, 1.0, conditions={'pitch': pitch}, n_iter=0)
        r = follow_descriptors(ts, rise, 1.0, conditions={'pitch': pitch})
        on = slice(4, -4)
        rows['timbre_rising_centroid_1s'].append(dict(
            pitch=pitch, start_error=round(start.error['overall'], 4), error=round(r.error['overall'], 4),
            log_centroid_correlation=round(float(np.corrcoef(np.log(r.achieved['centroid'][on]), np.log(r.target['centroid'][on]))[0, 1]), 4),
            pitch_error_semitones=round(_key(r.sound) - pitch, 3), seconds=round(r.seconds, 3), iterations=len(r.history) - 1))
    for cond in (dict(pitch=60, instrument='Violin', style='arco'), dict(pitch=55, instrument='Trumpet', style='muted'),
                 dict(pitch=48, instrument='Guitar', style='nylon')):
        for db in (-30.0, -20.0):
            start = follow_descriptors(nm, {'loudness': db}, conditions=cond, n_iter=0)
            r = follow_descriptors(nm, {'loudness': db}, conditions=cond, n_iter=60)
            rows['notes_loudness'].append(dict(**cond, loudness=db, start_error=round(start.error['overall'], 4),
                                               error=round(r.error['overall'], 4), achieved_median_db=round(float(np.median(r.achieved['loudness'])), 2),
                                               pitch_error_semitones=round(_key(r.sound) - cond['pitch'], 3), seconds=round(r.seconds, 3)))
    return {'benchmark': 'targets through magnitudes', 'threads': torch.get_num_threads(), **rows}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--note-models', action='store_true', help='measure the timbre space and the note model instead')
    ap.add_argument('--model', default='gm-drums', help="a pretrained name or a checkpoint path")
    ap.add_argument('--seconds', type=float, default=3.0)
    ap.add_argument('--seeds', type=int, default=3)
    ap.add_argument('--budgets', default='1500,3000,6000,12000')
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.note_models: return print(json.dumps(note_models(), indent=1))
    m = load_model(a.model) if a.model.endswith('.lp') else pretrained(a.model)
    budgets = [int(b) for b in a.budgets.split(',')]
    follow_descriptors(m, {'centroid': 1000.}, 1.0, tol=None, n_iter=5)               # warm-up
    out = {'benchmark': 'targets', 'model': a.model, 'audio_seconds': a.seconds, 'seeds': a.seeds,
           'unit': 'error: median |achieved - target| / |target| over frames (mean over descriptors); '
                   'decoder calls: latents decoded (the backward pass of gradient descent is not counted; see seconds)',
           'torch': torch.__version__, 'threads': torch.get_num_threads(), 'results': {}}
    for group, tg in targets().items():
        runs = [(name, t, s) for name, t in tg.items() for s in range(a.seeds)]
        rs = [follow_descriptors(m, t, a.seconds, seed=s, tol=0.05, n_iter=300) for _, t, s in runs]
        hits = [reach(r, 0.05) for r in rs]
        conv = [follow_descriptors(m, t, a.seconds, seed=s) for _, t, s in runs]      # default tol 2%
        res = {'targets': list(tg), 'runs': len(runs),
               'to_5pct_seconds_median': med([h[0] for h in hits]), 'to_5pct_seconds_max': max((h[0] for h in hits if h[0]), default=None),
               'to_5pct_decoder_calls_median': med([h[1] for h in hits]),
               'reached_5pct': sum(h[0] is not None for h in hits),
               'default_run': {'error_median': med([r.error['overall'] for r in conv]),
                               'seconds_median': med([r.seconds for r in conv]),
                               'decoder_calls_median': med([r.decoder_calls for r in conv])},
               'equal_budget': []}
        for b in budgets:
            eg = [follow_descriptors(m, t, a.seconds, seed=s, budget=b, tol=None, n_iter=10000) for _, t, s in runs]
            eh = [greedy_descriptor_path(m, t, a.seconds, seed=s, budget=b) for _, t, s in runs]
            res['equal_budget'].append({
                'budget_latents': b,
                'gradient_error_median': med([r.error['overall'] for r in eg]),
                'greedy_error_median': med([r.error['overall'] for r in eh]),
                'gradient_better_in': sum(x.error['overall'] < y.error['overall'] for x, y in zip(eg, eh)),
                'gradient_seconds_median': med([r.seconds for r in eg]), 'greedy_seconds_median': med([r.seconds for r in eh]),
                'gradient_calls_median': med([r.decoder_calls for r in eg]), 'greedy_calls_median': med([r.decoder_calls for r in eh])})
        out['results'][group] = res
    ok5 = all(r['reached_5pct'] == r['runs'] and (r['to_5pct_seconds_max'] or 99) <= 5 for r in out['results'].values())
    better = all(e['gradient_error_median'] < e['greedy_error_median'] for r in out['results'].values() for e in r['equal_budget'])
    out['goals'] = {'3s_target_to_5pct_within_5s_every_run': ok5, 'better_than_greedy_at_equal_calls': better}
    print(json.dumps(out, indent=1))


if __name__ == '__main__':
    main()
