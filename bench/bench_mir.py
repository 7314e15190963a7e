"""Small MIR models, full and trimmed (issue 12, §3): held-out accuracy, parameters, checkpoint size and one-thread latency.

Each model is trained on 80% of its built-in corpus, then trimmed by lottery rounds down to `--keep` (default 0.1) with
`lp.trim`; every round's model is measured, so one trim gives the whole curve of accuracy against the fraction kept.
Prints JSON: per model, the full model, every round, and the rounds nearest to 50%, 20% and 10% side by side; and
under `shipped`, the six shipped models (`pretrained_mir`: each task full and `-small`) measured side by side, with the
95% paired-bootstrap interval of the score change (`compare_scores`: is it more than the test set's noise?).

    python bench/bench_mir.py                      # all three (about 12 minutes on one thread)
    python bench/bench_mir.py --model instrument   # one of instrument | pitch | onsets
    python bench/bench_mir.py --quick              # tiny budgets: checks that it runs
    python bench/bench_mir.py --model instrument --masked   # also the classic masked ticket at --keep, beside
    python bench/bench_mir.py --shipped            # only the shipped models (latentplay/pretrained/mir), full and
                                                   # trimmed side by side: accuracy, parameters, size, latency (a minute)
    python bench/bench_mir.py --latency DIR        # one-thread latency of every MIR checkpoint in DIR (a bench run
                                                   # leaves its models in the folder printed as `checkpoints`), full
                                                   # and trimmed measured in turn, 60 times each: medians side by side
    python bench/bench_mir.py --split both --no-trim   # the held-out sets with and without siblings, same full models
    python bench/bench_mir.py --augment both --no-trim --model instrument --model pitch
                                                   # each note model trained as `fit` does (notes varied in speed, see
                                                   # `shift` and `copies`) and on the notes as they are, side by side

The split (`--split`, for the models trained here). gm-notes renders every note at 3 velocities and gm-drums every drum
at 5, so a sound-by-sound split leaves another velocity of nearly every held-out note or hit in training (169 of 172
notes, 156 of 156 hits at `test=0.2`): the instrument and pitch test sets, and the hits the onset test loops are mixed
from, measure generalisation to another velocity. `grouped` (the default) holds out whole groups
(`split(test=0.2, seed=0, group='auto')`: every velocity of one instrument's pitch, of one kit's drum); `sound` is the
old split; `both` trains one model on the grouped training part less as many sounds again drawn one by one, and scores
it on the unseen groups (`full`) and on those drawn sounds, whose siblings stay in training (`full.sibling_held_out`).
`--no-trim` measures the full models only (no trimming rounds, no shipped section).
The shipped models are scored on the split their files name (`info['split']`, written by `scripts/train_mir.py`).

Varied notes (`--augment`): `fit` trains the note models on `copies` versions of every training note, sped up or slowed
down by up to `shift` semitones (the kind's `augment`), pitch labels following. `default` benches models trained that
way; `none` on the notes as they are (`shift=0, copies=1`); `both` trains both from the same seed and budget and scores
them on the same held-out notes (`without_variation`, with the paired-bootstrap interval of the change)."""
import argparse, json, statistics, tempfile, time, warnings
from pathlib import Path
import numpy as np
import torch

torch.set_num_threads(1)
warnings.filterwarnings('ignore')

from latentplay.corpus import Corpus
from latentplay.lottery import trim
from latentplay.mir import (InstrumentClassifier, PitchEstimator, OnsetDetector, drum_loop, pretrained_mir, pretrained_mir_names,
                            compare_scores)

SETUPS = {  # name: (class, corpus, fit options, trim steps)
    'instrument': (InstrumentClassifier, 'gm-notes', dict(minutes=1.0), 1000),
    'pitch': (PitchEstimator, 'gm-notes', dict(minutes=2.0), 1500),
    'onsets': (OnsetDetector, 'gm-drums', dict(minutes=1.0, batch_size=16), 1000),
}

def latency_ms(f, repeats:int=20) -> float:
    "Median milliseconds of `f()` on one thread, after a warm-up."
    for _ in range(3): f()
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); f(); times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)

def measure(m, test, probe, tmp:Path) -> dict:
    "Held-out score, size, and the median time of `predict` (front end included) and of the network alone."
    path = m.save(tmp / f'{m.kind}-{sum(p.numel() for p in m.parameters())}.lp')
    x = m.examples(test)['x'][:87 if m.kind == 'mir-pitch' else 1]      # one 1 s note's frames / one note's or loop's log-mel
    with torch.no_grad(): net = latency_ms(lambda: m(x))
    return {'score': round(m.evaluate(test)['score'], 4), 'parameters': sum(p.numel() for p in m.parameters()),
            'widths': m.widths, 'checkpoint_bytes': path.stat().st_size, 'latency_ms': round(latency_ms(lambda: m.predict(probe)), 3),
            'net_latency_ms': round(net, 3)}

def splits(c, how:str):
    "`(train, test, sibling_test)` of corpus `c` for `--split` `how` (`sibling_test` only with 'both', else None)."
    if how != 'both': return (*c.split(test=0.2, seed=0, group='auto' if how == 'grouped' else None), None)
    train, test = c.split(test=0.2, seed=0, group='auto')
    train, sib = train.split(test=len(test), seed=0)          # as many sounds again, drawn one by one from the other groups
    return train, test, sib

def bench(name:str, quick:bool, keep:float, criterion:str, selection:str, masked:bool=False, split:str='grouped', no_trim:bool=False,
          augment:str='default') -> dict:
    cls, corpus, fit_opts, steps = SETUPS[name]
    plain = dict(shift=0, copies=1) if cls.augment else {}            # a note model on its notes as they are
    train, test, sib = splits(Corpus.builtin(corpus, progress=False), split)
    if quick: fit_opts, steps = {**fit_opts, 'minutes': None, 'max_steps': 60}, 40
    probe = drum_loop(test, seed=3)[0] if name == 'onsets' else test[7]
    tmp = Path(tempfile.mkdtemp(prefix=f'bench-mir-{name}-'))
    t = time.perf_counter()
    full = cls.fit(train, progress=False, **fit_opts, **(plain if augment == 'none' else {}))
    out = {'model': cls.__name__, 'metric': full.metric, 'fit_seconds': round(time.perf_counter() - t, 1), 'checkpoints': str(tmp),
           'split': split, 'train_sounds': len(train), 'test_sounds': len(test), 'test_with_sibling_in_training': len(test.siblings_in(train)),
           'augment': full.info.get('augment'), 'full': measure(full, test, probe, tmp), 'rounds': []}
    if augment == 'both' and plain:                  # the same seed and budget on the notes as they are
        other = cls.fit(train, progress=False, **fit_opts, **plain)
        c = compare_scores(other, full, test)
        out['without_variation'] = {'score': round(c['a'], 4), 'with_variation': round(c['b'], 4), 'change': round(c['difference'], 4),
                                    'change_ci95': [round(v, 4) for v in c['ci95']], 'items': f"{c['items']} {c['unit']}"}
    if sib is not None:
        r = full.evaluate(sib)
        out['full']['sibling_held_out'] = {'score': round(r['score'], 4), 'n': r['n'], 'sounds': len(sib),
                                           'with_sibling_in_training': len(sib.siblings_in(train))}
    if no_trim: return out
    def on_round(r, m): out['rounds'].append({'round': r, **measure(m, test, probe, tmp)})
    t = time.perf_counter()
    trim(full, train, keep=keep, criterion=criterion, selection=selection, max_steps=steps, progress=False, on_round=on_round)
    out['trim'] = dict(keep=keep, criterion=criterion, selection=selection, retrain_steps=steps, seconds=round(time.perf_counter() - t, 1))
    if masked:                                       # the same rounds with zeros instead of removal: same size, no speed-up
        t = time.perf_counter()
        mk = trim(full, train, keep=keep, criterion=criterion, selection=selection, max_steps=steps, progress=False, physical=False)
        out['masked'] = {**measure(mk, test, probe, tmp), 'nonzero_parameters': int(sum((p != 0).sum() for p in mk.parameters())),
                         'seconds': round(time.perf_counter() - t, 1)}
    P = out['full']['parameters']
    for r in out['rounds']: r['kept'] = round(r['parameters'] / P, 4)
    f = out['full']
    out['side_by_side'] = {f'keep {k}': {**(best := min(out['rounds'], key=lambda r: abs(r['kept'] - k))),
                                         'score_change': round(best['score'] - f['score'], 4),
                                         'size_ratio': round(f['checkpoint_bytes'] / best['checkpoint_bytes'], 2),
                                         'speedup': round(f['latency_ms'] / best['latency_ms'], 2),
                                         'net_speedup': round(f['net_latency_ms'] / best['net_latency_ms'], 2)}
                           for k in (0.5, 0.2, 0.1) if k >= keep - 1e-9}
    return out

def latencies(folder:Path, repeats:int=60) -> dict:
    "Median ms of `predict` and of the network alone for every checkpoint in `folder`, all measured in turn (drifting load hits all alike)."
    from latentplay.models import load_model
    ms = {p.name: load_model(p) for p in sorted(folder.glob('mir-*.lp'))}
    if not ms: raise SystemExit(f"no MIR checkpoints (mir-*.lp) in {folder}")
    m0 = next(iter(ms.values()))
    test = Corpus.builtin('gm-drums' if m0.kind == 'mir-onsets' else 'gm-notes', progress=False).split(**split_of(m0))[1]
    probe = drum_loop(test, seed=3)[0] if m0.kind == 'mir-onsets' else test[7]
    x = m0.examples(test)['x'][:87 if m0.kind == 'mir-pitch' else 1]
    times = {n: {'predict': [], 'net': []} for n in ms}
    with torch.no_grad():
        for n, m in ms.items(): m.predict(probe); m(x)                 # warm-up
        for _ in range(repeats):
            for n, m in ms.items():
                t = time.perf_counter(); m.predict(probe); times[n]['predict'].append(time.perf_counter() - t)
                t = time.perf_counter(); m(x); times[n]['net'].append(time.perf_counter() - t)
    rows = {n: {'parameters': sum(p.numel() for p in ms[n].parameters()), 'widths': ms[n].widths,
                'predict_ms': round(1000 * statistics.median(v['predict']), 3), 'net_ms': round(1000 * statistics.median(v['net']), 3)}
            for n, v in times.items()}
    big = max(rows.values(), key=lambda r: r['parameters'])
    for r in rows.values(): r['predict_speedup'], r['net_speedup'] = round(big['predict_ms'] / r['predict_ms'], 2), round(big['net_ms'] / r['net_ms'], 2)
    return dict(sorted(rows.items(), key=lambda kv: -kv[1]['parameters']))

def split_of(m) -> dict:
    "The `Corpus.split` arguments a model was trained with: its `info['split']` (as `scripts/train_mir.py` writes it), else grouped."
    said = m.info.get('split', "group='auto'")
    return dict(test=0.2, seed=0, group='auto' if "group='auto'" in said else None)

SHIPPED = {'instrument': ('gm-instrument', 'gm-notes'), 'pitch': ('gm-pitch', 'gm-notes'), 'onsets': ('gm-onsets', 'gm-drums')}

def shipped(repeats:int=60) -> dict:
    "The shipped MIR models, each task's full and `-small` model side by side: held-out score, parameters, file size, one-thread latency."
    have, out = pretrained_mir_names(), {}
    for task, (name, corpus) in SHIPPED.items():
        if name not in have or name + '-small' not in have: continue
        ms = {k: pretrained_mir(n) for k, n in (('full', name), ('small', name + '-small'))}
        train, test = Corpus.builtin(corpus, progress=False).split(**split_of(ms['full']))   # the split the models never heard
        probe = drum_loop(test, seed=3)[0] if task == 'onsets' else test[7]               # a 2 s loop / a 1 s note
        x = ms['full'].examples(test)['x'][:87 if task == 'pitch' else 1]                  # the network's input for it
        times = {k: {'predict': [], 'net': []} for k in ms}
        with torch.no_grad():
            for m in ms.values(): m.predict(probe); m(x)
            for _ in range(repeats):                    # in turn: a drifting load hits both alike
                for k, m in ms.items():
                    t = time.perf_counter(); m.predict(probe); times[k]['predict'].append(time.perf_counter() - t)
                    t = time.perf_counter(); m(x); times[k]['net'].append(time.perf_counter() - t)
        rows = {}
        for k, m in ms.items():
            r = m.evaluate(test, loops=100) if task == 'onsets' else m.evaluate(test)
            rows[k] = {'name': Path(m.source).stem, 'metric': m.metric, 'score': round(r['score'], 4), 'n': r['n'],
                       'parameters': sum(p.numel() for p in m.parameters()), 'widths': m.widths,
                       'checkpoint_bytes': Path(m.source).stat().st_size,
                       'predict_ms': round(1000 * statistics.median(times[k]['predict']), 3),
                       'net_ms': round(1000 * statistics.median(times[k]['net']), 3)}
        f, s = rows['full'], rows['small']
        c = compare_scores(ms['full'], ms['small'], test)              # paired bootstrap over the held-out notes / loops
        out[task] = {**rows, 'test_sounds': len(test), 'test_with_sibling_in_training': len(test.siblings_in(train)), 'side_by_side': {'kept': round(s['parameters'] / f['parameters'], 4), 'score_change': round(s['score'] - f['score'], 4),
                                              'score_change_ci95': [round(v, 4) for v in c['ci95']], 'items': f"{c['items']} {c['unit']}",
                                              'size_ratio': round(f['checkpoint_bytes'] / s['checkpoint_bytes'], 2),
                                              'predict_speedup': round(f['predict_ms'] / s['predict_ms'], 2),
                                              'net_speedup': round(f['net_ms'] / s['net_ms'], 2)}}
    return out

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', choices=list(SETUPS), action='append', help='the model(s) to measure (default all)')
    ap.add_argument('--quick', action='store_true', help='tiny budgets (a smoke run)')
    ap.add_argument('--keep', type=float, default=0.1)
    ap.add_argument('--criterion', default='information')
    ap.add_argument('--selection', default='local')
    ap.add_argument('--masked', action='store_true', help='also trim by masking (the classic lottery ticket) at --keep')
    ap.add_argument('--shipped', action='store_true', help='only the shipped models, full and trimmed side by side')
    ap.add_argument('--latency', type=Path, default=None, help='measure the latency of the checkpoints in this folder only')
    ap.add_argument('--split', choices=['grouped', 'sound', 'both'], default='grouped',
                    help='grouped: whole groups of siblings held out; sound: the old split; both: one model scored with and without siblings')
    ap.add_argument('--no-trim', action='store_true', help='the full models only: no trimming rounds, no shipped section')
    ap.add_argument('--augment', choices=['default', 'none', 'both'], default='default',
                    help="note models: trained on varied notes as fit does (default), on the notes as they are (none), or both side by side")
    a = ap.parse_args()
    if a.latency is not None:
        print(json.dumps({'threads': torch.get_num_threads(), 'latency': latencies(a.latency)}, indent=1)); raise SystemExit
    if a.shipped:
        print(json.dumps({'threads': torch.get_num_threads(), 'shipped': shipped()}, indent=1)); raise SystemExit
    res = {n: bench(n, a.quick, a.keep, a.criterion, a.selection, a.masked, a.split, a.no_trim, a.augment) for n in (a.model or list(SETUPS))}
    if a.no_trim: print(json.dumps({'threads': torch.get_num_threads(), 'quick': a.quick, 'split': a.split, 'models': res}, indent=1)); raise SystemExit
    print(json.dumps({'threads': torch.get_num_threads(), 'quick': a.quick, 'models': res, 'shipped': shipped(10 if a.quick else 60)}, indent=1))
