"""Train the small MIR models that ship in `latentplay/pretrained/mir/`, full and trimmed to a tenth of their parameters.

    python scripts/train_mir.py                          # all three, one CPU thread: about 16 minutes of wall time for
                                                         # the six models and 22 more for the controls, on a shared
                                                         # 2-core machine running two such jobs
    python scripts/train_mir.py --only instrument pitch  # some of instrument | pitch | onsets
    python scripts/train_mir.py --quick --out /tmp/mir   # a 50th of the steps: checks that it runs
    python scripts/train_mir.py --no-control             # skip the control run (the full model trained as long as the trimmed one)
    python scripts/train_mir.py --only pitch --reuse-full --no-control --work /tmp/mir-work
                                                         # trim the shipped full model again (its file kept); the rounds
                                                         # are saved in --work, so an interrupted run resumes there
    python scripts/train_mir.py --split sound --no-control --out /tmp/mir-sound
                                                         # the old split, note by note: nearly every held-out sound has
                                                         # another velocity of itself in training
    python scripts/train_mir.py --only pitch --shift 0 --copies 1 --out /tmp/mir-plain
                                                         # the note models on their notes as they are (default: the
                                                         # kind's `augment`, notes varied in speed)
    python scripts/train_mir.py --only onsets --reuse-full --trim-steps 6000 --finetune 2000 --selection global ...
                                                         # try other trimming settings (--criterion, --rewind, --rate, --min-width)

For each model (issue 12, SYSTEMS.md section 3):
- it trains on 80% of its built-in corpus (`split(test=0.2, seed=0, group='auto')`, the split of the MIR page and tests:
  every velocity of a held-out note or hit is held out with it) for a fixed number of steps with seed 0, so the same
  command gives the same weights on the same machine; the note models train as `fit` does by default, on copies of
  every note sped up or slowed down (the kind's `augment`: instrument 8 copies within 8 semitones, pitch 4 within 6);
- it is scored on the other 20%, never heard: instrument accuracy (gm-notes), raw pitch accuracy within 50 cents
  (gm-notes, 8 frames of every note), onset F-measure within 50 ms (100 loops mixed from held-out gm-drums hits);
- `latentplay.lottery.trim(..., keep=0.1)` (the lottery engine, with the settings of `TRIM`: information criterion,
  local selection, 20% of the units per round, survivors continuing) trims it, retraining on the same 80%; then the
  smallest model trains `finetune` steps more (instrument 3,000, pitch 9,000; the last round alone gets only its share of the rounds'
  steps), and the trimmed model is scored again, every round's model too (`rounds`);
- `compare_scores` gives the 95% paired-bootstrap interval of the change from full to trimmed, over the held-out notes
  or loops (`vs_full`): a change inside the test set's noise holds zero in it;
- a control: the full model trained for the steps of its fit and of the trimming together, so that "the trimmed model
  beats the full one" can be told apart from "it trained longer" (with --no-control, the last control measured stays,
  with its step count);
- both shipped files store float16 weights (`save(half=True)`), and the scores written are those of the files as
  loaded back. `NAME.lp` and `NAME-small.lp` go to `--out`, with `figures.json` (every figure printed).
"""
import argparse, json, statistics, sys, time, warnings
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]

# name: (class name, corpus, fit steps, trim steps (all rounds together), batch size)
SETUPS = {'instrument': ('InstrumentClassifier', 'gm-notes', 3000, 1400, 32),
          'pitch': ('PitchEstimator', 'gm-notes', 3000, 4000, 32),
          'onsets': ('OnsetDetector', 'gm-drums', 2000, 4000, 16)}
# how each model is trimmed (`trim`'s settings) and the extra steps at the final size (`finetune`: the last round's
# retraining made longer), in `chunks` runs with seeds 1000, 1001...: for the onset detector each seed mixes 160 new
# training loops, as each round of `trim` does (a model trained longer on the same 160 loops learns them by heart)
TRIM = {'instrument': dict(criterion='information', selection='local', rewind='continue', rate=0.2, min_width=4, finetune=3000, chunks=1),
        'pitch': dict(criterion='information', selection='local', rewind='continue', rate=0.2, min_width=4, finetune=9000, chunks=1),
        'onsets': dict(criterion='information', selection='local', rewind='continue', rate=0.2, min_width=4, finetune=4000, chunks=8)}
# more training of the full model after its fit: (steps, chunks), each chunk on new examples (seeds 1000, 1001...), as the
# trimmed model's finetune; for the onset detector, whose fit sees only 160 loops
MORE = {'instrument': (0, 1), 'pitch': (0, 1), 'onsets': (4000, 8)}
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


SPLIT = {'sound': None, 'grouped': 'auto'}   # --split: the `group` of `Corpus.split` (the shipped models: 'sound')

def train_one(name:str, out:Path, control:bool, progress:bool, reuse:bool=False, work:Path|None=None, old:dict|None=None, split:str='grouped',
              augment:dict|None=None) -> dict:
    import latentplay.mir as mir
    from latentplay.corpus import Corpus
    from latentplay.lottery import trim
    from latentplay.models import load_model
    from latentplay.train import Budget
    cls_name, corpus, fit_steps, trim_steps, bs = SETUPS[name]
    opts = dict(TRIM[name]); finetune, chunks = opts.pop('finetune'), opts.pop('chunks')
    cls = getattr(mir, cls_name)
    aug = {k: v for k, v in (augment or {}).items() if v is not None} if cls.augment else {}   # fit's shift= and copies=
    train, test = Corpus.builtin(corpus, progress=False).split(test=0.2, seed=0, group=SPLIT[split])
    said = f"split(test=0.2, seed=0{'' if SPLIT[split] is None else f', group={SPLIT[split]!r}'})"
    t0 = time.perf_counter()
    full_path = out / f'{FILES[name]}.lp'
    if reuse:                                      # the full model shipped before (trimming alone is retried)
        if not full_path.exists(): raise SystemExit(f"--reuse-full: no {full_path}; train it first (without --reuse-full)")
        full = load_model(full_path)
        fit_steps = full.info.get('steps', fit_steps) - full.info.get('more_steps', 0)
    else: full = cls.fit(train, max_steps=fit_steps, batch_size=bs, seed=0, progress=progress, **aug)
    more, more_chunks = MORE[name]
    reuse_file = reuse
    if more:                                       # more training of the full model, on new examples
        done = None if work is None else work / f'{FILES[name]}-more-{more}x{more_chunks}.lp'
        if done is not None and done.exists(): full, reuse_file = load_model(done), False       # an earlier run's (float32)
        elif full.info.get('more_steps', 0) < more:     # (a reused full model that had them already is kept)
            for j in range(more_chunks):
                full._train(train, Budget(None, more // more_chunks), seed=1000 + j, progress=progress, options={'batch_size': bs})
            if done is not None: work.mkdir(parents=True, exist_ok=True); full.save(done)
            reuse_file = False
        full.info = {**full.info, 'more_steps': more, 'more_chunks': more_chunks}
    fit_s = time.perf_counter() - t0 if not reuse else (old or {}).get('fit_seconds')
    t0 = time.perf_counter()
    ck = None
    if work is not None:                           # rounds saved there: the same command resumes an interrupted trim
        work.mkdir(parents=True, exist_ok=True)
        ck = work / f"{FILES[name]}-more-{more}-trim-{trim_steps}-{'-'.join(f'{k}={v}' for k, v in opts.items())}.lp"   # the settings name it
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        curve = {}                                 # held-out score of every round's model (a round resumed from --work has none)
        small = trim(full, train, keep=0.1, max_steps=trim_steps, batch_size=bs, seed=0, progress=progress, checkpoint=ck,
                     on_round=lambda r, m: curve.__setitem__(r, score(m, test)['score']), **opts)
        for j in range(chunks if finetune else 0):  # the smallest size trained longer
            small._train(train, Budget(None, finetune // chunks), seed=1000 + j, progress=progress, options={'batch_size': bs})
        if finetune: small.info = {**small.info, 'finetune_steps': finetune, 'finetune_chunks': chunks}
    trim_s = time.perf_counter() - t0
    rec = {'model': cls_name, 'corpus': corpus, 'metric': full.metric, 'split': said, 'augment': full.info.get('augment'), 'train_sounds': len(train), 'test_sounds': len(test),
           'test_with_sibling_in_training': len(test.siblings_in(train)),
           'fit_steps': fit_steps, 'more_steps': MORE[name][0], 'more_chunks': MORE[name][1], 'trim_steps': trim_steps, 'finetune_steps': finetune, 'finetune_chunks': chunks, 'batch_size': bs,
           'fit_seconds': None if fit_s is None else round(fit_s, 1), 'trim_seconds': round(trim_s, 1),
           'trim': {k: v for k, v in small.info['trim']['settings'].items()},
           'rounds': [{**{k: v for k, v in h.items() if k in ('round', 'parameters', 'widths')}, **({'score': curve[h['round']]} if h['round'] in curve else {})}
                      for h in small.info['trim']['history']]}
    models = {}
    for key, m in (('full', full), ('small', small)):
        fname = FILES[name] + ('-small' if key == 'small' else '')
        path = out / f'{fname}.lp'
        if not (reuse_file and key == 'full'):     # a reused full model's file stays as it is
            m.info = {**m.info, 'script': 'scripts/train_mir.py', 'split': said}
            path = m.save(path, half=True)
        back = load_model(path)                    # the figures are those of the shipped file
        s = score(back, test)
        if not (reuse_file and key == 'full'):
            back.info = {**back.info, 'held_out': {back.metric: s['score'], 'n': s['n']}}
            back.save(path, half=True)
        models[fname] = back
        rec[key] = {'file': f'{fname}.lp', 'parameters': sum(p.numel() for p in back.parameters()), 'widths': back.widths,
                    'checkpoint_bytes': path.stat().st_size, **s, 'float32_score': score(m, test)['score']}
    c = mir.compare_scores(models[FILES[name]], models[FILES[name] + '-small'], test)
    rec['small']['vs_full'] = {'difference': round(c['difference'], 4), 'ci95': [round(v, 4) for v in c['ci95']], 'items': c['items'], 'unit': c['unit']}
    steps = fit_steps + MORE[name][0] + trim_steps + finetune
    if control:                                    # the full model, trained as many steps as fit + trim (+ finetune)
        t0 = time.perf_counter()
        ctl = cls.fit(train, max_steps=steps, batch_size=bs, seed=0, progress=progress, **aug)
        rec['full_same_steps'] = {**score(ctl, test), 'steps': steps, 'seconds': round(time.perf_counter() - t0, 1)}
    elif old and (old.get('full_same_steps') or {}).get('steps') == steps:    # the last control measured, if as long
        rec['full_same_steps'] = old['full_same_steps']
    probe = mir.drum_loop(test, seed=3)[0] if name == 'onsets' else test[7]
    lat = latency_ms(models, probe)
    f, s = rec['full'], rec['small']
    f['latency_ms'], s['latency_ms'] = lat[f['file'][:-3]], lat[s['file'][:-3]]
    rec['side_by_side'] = {'kept': round(s['parameters'] / f['parameters'], 4), 'score_change': round(s['score'] - f['score'], 4),
                           'score_change_ci95': s['vs_full']['ci95'],
                           'size_ratio': round(f['checkpoint_bytes'] / s['checkpoint_bytes'], 2),
                           'speedup': round(f['latency_ms'] / s['latency_ms'], 2),
                           'probe': 'a 2 s drum loop' if name == 'onsets' else 'a 1 s note (test[7])'}
    return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--only', nargs='*', choices=list(SETUPS), default=list(SETUPS))
    ap.add_argument('--out', default=str(ROOT / 'latentplay' / 'pretrained' / 'mir'))
    ap.add_argument('--no-control', action='store_true', help='skip the full model trained for fit + trim steps (keeps the last one measured)')
    ap.add_argument('--reuse-full', action='store_true', help="trim the full model already in --out (not trained again, its file kept)")
    ap.add_argument('--work', default=None, help='folder for the trim checkpoints: an interrupted run resumes from its last round')
    ap.add_argument('--trim-steps', type=int, default=None, help='retraining steps of all rounds together (default per model)')
    ap.add_argument('--finetune', type=int, default=None, help='extra steps at the final size (default per model)')
    ap.add_argument('--finetune-chunks', type=int, default=None, help='in this many runs, each on new examples (default per model)')
    for k in ('criterion', 'selection', 'rewind'): ap.add_argument(f'--{k}', default=None)
    ap.add_argument('--rate', type=float, default=None, help='fraction of the units removed per round')
    ap.add_argument('--min-width', type=int, default=None)
    ap.add_argument('--more', type=int, nargs=2, default=None, metavar=('STEPS', 'CHUNKS'),
                    help="train the full model STEPS more after its fit, in CHUNKS runs on new examples (default per model)")
    ap.add_argument('--split', choices=list(SPLIT), default='grouped', help="grouped: split(group='auto'), as the shipped models (no "
                    "held-out sound has another velocity of itself in training); sound: note by note, nearly every one has")
    ap.add_argument('--shift', type=float, default=None, help="note models: fit's shift= (semitones; default the kind's augment, 0: none)")
    ap.add_argument('--copies', type=int, default=None, help="note models: fit's copies= (default the kind's augment)")
    ap.add_argument('--progress', action='store_true', help='progress bars')
    ap.add_argument('--quick', action='store_true', help='a 50th of the steps (checks that it runs; use another --out)')
    a = ap.parse_args()
    for name in a.only:
        c, corpus, f, t, bs = SETUPS[name]
        SETUPS[name] = (c, corpus, f, a.trim_steps or t, bs)
        for k, v in (('criterion', a.criterion), ('selection', a.selection), ('rate', a.rate), ('min_width', a.min_width), ('finetune', a.finetune), ('chunks', a.finetune_chunks),
                     ('rewind', None if a.rewind is None else {'true': True, 'false': False}.get(a.rewind.lower(), a.rewind))):
            if v is not None: TRIM[name][k] = v
        if a.more is not None: MORE[name] = tuple(a.more)
    if a.quick:
        for k, (c, corpus, f, t, bs) in SETUPS.items(): SETUPS[k] = (c, corpus, max(2, f // 50), max(20, t // 50), bs)
        for k in TRIM: TRIM[k]['finetune'] //= 50
        for k, (st, ch) in MORE.items(): MORE[k] = (st // 50, ch)
    torch.set_num_threads(1)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    fig = out / 'figures.json'
    figures = json.loads(fig.read_text()) if fig.exists() else {}
    for name in a.only:
        rec = train_one(name, out, not a.no_control, a.progress, a.reuse_full, None if a.work is None else Path(a.work), figures.get(name), a.split,
                        {'shift': a.shift, 'copies': a.copies})
        figures[name] = rec
        figures = {k: figures[k] for k in SETUPS if k in figures}
        fig.write_text(json.dumps({**figures}, indent=1) + '\n')
        print(json.dumps({name: rec}), flush=True)


if __name__ == '__main__':
    sys.exit(main())
