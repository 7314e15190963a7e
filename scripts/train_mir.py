"""Train the small MIR models that ship in `latentplay/pretrained/mir/`, full and trimmed to a tenth of their parameters.

    python scripts/train_mir.py                          # all three, one CPU thread: 17 minutes of wall time for the six
                                                         # models and 24 more for the controls, on a busy shared 2-core
                                                         # machine (load 10); less on an idle one
    python scripts/train_mir.py --only instrument pitch  # some of instrument | pitch | onsets
    python scripts/train_mir.py --quick --out /tmp/mir   # a 50th of the steps: checks that it runs
    python scripts/train_mir.py --no-control             # skip the control run (the full model trained as long as the trimmed one)

For each model (issue 12, SYSTEMS.md section 3):
- it trains on 80% of its built-in corpus (`split(test=0.2, seed=0)`, the split of the MIR page and tests) for a fixed
  number of steps with seed 0, so the same command gives the same weights on the same machine;
- it is scored on the other 20%, never heard: instrument accuracy (gm-notes), raw pitch accuracy within 50 cents
  (gm-notes, 8 frames of every note), onset F-measure within 50 ms (100 loops mixed from held-out gm-drums hits);
- `latentplay.lottery.trim(..., keep=0.1)` (the lottery engine: information criterion, local selection, 20% of the
  units per round, survivors continuing) trims it, retraining on the same 80%, and the trimmed model is scored again;
- a control: the full model trained for the steps of its fit and of the trimming together, so that "the trimmed model
  beats the full one" can be told apart from "it trained longer";
- both shipped files store float16 weights (`save(half=True)`), and the scores written are those of the files as
  loaded back. `NAME.lp` and `NAME-small.lp` go to `--out`, with `figures.json` (every figure printed).
"""
import argparse, json, statistics, sys, time, warnings
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]

# name: (class name, corpus, fit steps, trim steps (all rounds together), batch size)
SETUPS = {'instrument': ('InstrumentClassifier', 'gm-notes', 1500, 1400, 32),
          'pitch': ('PitchEstimator', 'gm-notes', 3000, 3200, 32),
          'onsets': ('OnsetDetector', 'gm-drums', 2000, 1400, 16)}
FILES = {'instrument': 'gm-instrument', 'pitch': 'gm-pitch', 'onsets': 'gm-onsets'}
EVAL_LOOPS = 100          # onset loops scored (seed 1), mixed from held-out hits


def score(m, test) -> dict:
    "Held-out figures of `m`: its headline score and how many examples it rests on."
    r = m.evaluate(test, loops=EVAL_LOOPS) if m.kind == 'mir-onsets' else m.evaluate(test)
    out = {'score': round(r['score'], 4), 'n': r['n']}
    if 'per_class' in r: out['per_class'] = {k: round(v, 4) for k, v in r['per_class'].items()}
    if 'median_cents_error' in r: out['median_cents_error'] = round(r['median_cents_error'], 2)
    return out


def latency_ms(models:dict, probe, repeats:int=30) -> dict:
    "Median ms of one `predict` of `probe` on one thread, the models measured in turn (a drifting load hits all alike)."
    times = {n: [] for n in models}
    for m in models.values(): m.predict(probe)
    for _ in range(repeats):
        for n, m in models.items():
            t = time.perf_counter(); m.predict(probe); times[n].append(time.perf_counter() - t)
    return {n: round(1000 * statistics.median(v), 3) for n, v in times.items()}


def train_one(name:str, out:Path, control:bool, progress:bool) -> dict:
    import latentplay.mir as mir
    from latentplay.corpus import Corpus
    from latentplay.lottery import trim
    from latentplay.models import load_model
    cls_name, corpus, fit_steps, trim_steps, bs = SETUPS[name]
    cls = getattr(mir, cls_name)
    train, test = Corpus.builtin(corpus, progress=False).split(test=0.2, seed=0)
    t0 = time.perf_counter()
    full = cls.fit(train, max_steps=fit_steps, batch_size=bs, seed=0, progress=progress)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        small = trim(full, train, keep=0.1, max_steps=trim_steps, batch_size=bs, seed=0, progress=progress)
    trim_s = time.perf_counter() - t0
    rec = {'model': cls_name, 'corpus': corpus, 'metric': full.metric, 'train_sounds': len(train), 'test_sounds': len(test),
           'fit_steps': fit_steps, 'trim_steps': trim_steps, 'batch_size': bs, 'fit_seconds': round(fit_s, 1),
           'trim_seconds': round(trim_s, 1), 'trim': {k: v for k, v in small.info['trim']['settings'].items()}}
    models = {}
    for key, m in (('full', full), ('small', small)):
        fname = FILES[name] + ('-small' if key == 'small' else '')
        m.info = {**m.info, 'script': 'scripts/train_mir.py', 'split': 'split(test=0.2, seed=0)'}
        path = m.save(out / f'{fname}.lp', half=True)
        back = load_model(path)                    # the figures are those of the shipped file
        s = score(back, test)
        back.info = {**back.info, 'held_out': {back.metric: s['score'], 'n': s['n']}}
        back.save(path, half=True)
        models[fname] = back
        rec[key] = {'file': f'{fname}.lp', 'parameters': sum(p.numel() for p in back.parameters()), 'widths': back.widths,
                    'checkpoint_bytes': path.stat().st_size, **s, 'float32_score': score(m, test)['score']}
    if control:                                    # the full model, trained as many steps as fit + trim
        t0 = time.perf_counter()
        ctl = cls.fit(train, max_steps=fit_steps + trim_steps, batch_size=bs, seed=0, progress=progress)
        rec['full_same_steps'] = {**score(ctl, test), 'steps': fit_steps + trim_steps, 'seconds': round(time.perf_counter() - t0, 1)}
    probe = mir.drum_loop(test, seed=3)[0] if name == 'onsets' else test[7]
    lat = latency_ms(models, probe)
    f, s = rec['full'], rec['small']
    f['latency_ms'], s['latency_ms'] = lat[f['file'][:-3]], lat[s['file'][:-3]]
    rec['side_by_side'] = {'kept': round(s['parameters'] / f['parameters'], 4), 'score_change': round(s['score'] - f['score'], 4),
                           'size_ratio': round(f['checkpoint_bytes'] / s['checkpoint_bytes'], 2),
                           'speedup': round(f['latency_ms'] / s['latency_ms'], 2),
                           'probe': 'a 2 s drum loop' if name == 'onsets' else 'a 1 s note (test[7])'}
    return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--only', nargs='*', choices=list(SETUPS), default=list(SETUPS))
    ap.add_argument('--out', default=str(ROOT / 'latentplay' / 'pretrained' / 'mir'))
    ap.add_argument('--no-control', action='store_true', help='skip the full model trained for fit + trim steps')
    ap.add_argument('--progress', action='store_true', help='progress bars')
    ap.add_argument('--quick', action='store_true', help='a 50th of the steps (checks that it runs; use another --out)')
    a = ap.parse_args()
    if a.quick:
        for k, (c, corpus, f, t, bs) in SETUPS.items(): SETUPS[k] = (c, corpus, max(2, f // 50), max(20, t // 50), bs)
    torch.set_num_threads(1)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    fig = out / 'figures.json'
    figures = json.loads(fig.read_text()) if fig.exists() else {}
    for name in a.only:
        rec = train_one(name, out, not a.no_control, a.progress)
        figures[name] = rec
        figures = {k: figures[k] for k in SETUPS if k in figures}
        fig.write_text(json.dumps({**figures}, indent=1) + '\n')
        print(json.dumps({name: rec}), flush=True)


if __name__ == '__main__':
    sys.exit(main())
