"""Lottery trimming of the shipped note model (`gm-techniques-notes`, a FiLM-conditioned WAE): held-out quality against
the fraction removed, for the criteria information, information-output and magnitude, local and global selection; each
point with its parameters, checkpoint bytes, multiply-adds (decoder: one note; FLOPs per output sample), peak memory
of a fresh process generating a note, and one-thread generation latency; the masked ticket beside the trimmed one, and
the full model retrained for the same steps (the control). The drum-model sweep is bench/bench_lottery.py; this reuses
its budgets and the note benchmark's measures (bench/bench_notes.py).

Quality (the note model's own held-out measure, as bench_notes.py takes it): the mean `lsd` (dB) and `sc` of held-out
notes resynthesized (encode, decode with the note's own pitch, instrument and style, learned inverter), and, unless
`--no-conditions`, the conditioning accuracy of generated notes: one note per held-out note's (pitch, instrument, style),
its pitch by YIN (exact MIDI, pitch class) and its instrument and style by classifiers trained on real training notes.
Held-out notes: `split(test=0.1, seed=0)` (63 notes; `--quick`: every other one, 32). The shipped model was trained on all 567 notes (its script's
`--hold-out 0`), so it has heard them; trimming retrains on the other 504 only: the comparison favours the full model.

A note model has one width (`channels`) for all its layers, so `trim` keeps the same number of channels in every layer
(each its own best): global selection removes the same units as local selection here (the JSON says whether the two
curves came out identical). Three rounds to keep 10%: about 54%, 78% and 90% removed.

Prints one JSON object (and a line per finished run on stderr). One thread. Run it niced, a criterion per call:
    nice -n 10 .venv/bin/python bench/bench_lottery_notes.py --quick --criteria information --selections local   # ~6 min
    nice -n 10 .venv/bin/python bench/bench_lottery_notes.py --quick --runs information:local:masked --no-control
    nice -n 10 .venv/bin/python bench/bench_lottery_notes.py --steps 1200 --criteria information --selections local"""
import argparse, copy, json, statistics, subprocess, sys, tempfile, time, warnings
from pathlib import Path
import numpy as np
import torch

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).parent))
import latentplay as lp
from latentplay.lottery import trim, ENGINES
from latentplay.train import Budget
from bench_lottery import BUDGETS                                    # the embedded budgets of SYSTEMS.md section 4
from bench_grains_quality import Classifier                        # the note benchmark's classifiers (bench_notes.py)
from latentplay.dsp import lsd, sc
from latentplay.features import f0_yin


def acc(pred, true) -> float: return float(np.mean([p == t for p, t in zip(pred, true)]))

def midi_of(s):
    "MIDI pitch of a note by YIN over its first second (as bench_notes.py)."
    f0, per = f0_yin(torch.from_numpy(s.audio[:s.sr]), s.sr)
    v = f0[per > 0.5]
    return None if not len(v) else int(round(69 + 12 * np.log2(float(v.median()) / 440)))

def conditions_recognised(m, test, inst_clf, style_clf) -> dict:
    "One generated note per held-out note's (pitch, instrument, style): how often the classifiers and YIN hear what was asked (bench_notes.py)."
    conds = [(s.meta['pitch'], s.meta['instrument'], s.meta['style']) for s in test]
    gen = [m.generate(pitch=p, instrument=i, style=st, seed=k) for k, (p, i, st) in enumerate(conds)]
    mids = [midi_of(s) for s in gen]
    return dict(instrument=acc(inst_clf.predict(gen), [c[1] for c in conds]), style=acc(style_clf.predict(gen), [c[2] for c in conds]),
                pitch_exact=acc(mids, [c[0] for c in conds]),
                pitch_class=acc([None if x is None else x % 12 for x in mids], [c[0] % 12 for c in conds]))

@torch.no_grad()
def resynthesis(m, test) -> dict:
    "Mean lsd and sc of held-out notes encoded and decoded with their own conditions (learned inverter), as bench_notes.py."
    r = []
    for s in test:
        x = m._fit_length(torch.from_numpy(s.audio))
        y = torch.from_numpy(m.decode(m.encode(s), pitch=s.meta['pitch'], instrument=s.meta['instrument'], style=s.meta['style']).audio)
        r.append((float(lsd(x, y)), float(sc(x, y))))
    return {'model (inverter)': {'lsd': float(np.mean([a for a, _ in r])), 'sc': float(np.mean([b for _, b in r]))}}


def held_out(m, test, clfs=None) -> dict:
    "Mean lsd/sc of the inverter resynthesis of the held-out notes; with `clfs`, the conditions of generated notes recognised."
    r = resynthesis(m, test)['model (inverter)']
    out = {'lsd': round(r['lsd'], 3), 'sc': round(r['sc'], 4)}
    if clfs is not None:
        out.update({k: round(v, 3) for k, v in conditions_recognised(m, test, *clfs).items()})
    return out


def macs(m) -> dict:
    "Multiply-adds of decoding one note (decoder: Linear once, each Conv1d at its output length) and of encoding one."
    n = {'dec': 0, 'enc': 0}
    def hook(key):
        def f(mod, a, o):
            if isinstance(mod, torch.nn.Linear): n[key] += mod.in_features * mod.out_features * (o.numel() // o.shape[-1])
            else: n[key] += mod.out_channels * mod.in_channels // mod.groups * mod.kernel_size[0] * o.shape[-1] * o.shape[0]
        return f
    hs = [mod.register_forward_hook(hook(key)) for key, net in (('dec', m.decoder), ('enc', m.encoder))
          for mod in net.modules() if isinstance(mod, (torch.nn.Linear, torch.nn.Conv1d))]
    try:
        with torch.no_grad(): m.decoder(m.prior(1), m.condition(60)[None]); m.encoder(torch.zeros(1, m.spectral.n_bins, m.frames))
    finally:
        for h in hs: h.remove()
    return {'decoder_macs_per_note': n['dec'], 'decoder_flops_per_sample': round(2 * n['dec'] / m.length, 1), 'encoder_macs_per_note': n['enc']}


def peak_mb(path) -> float:
    "Peak resident memory (MB) a fresh process gains by loading the model and generating one note (VmHWM after minus VmRSS before)."
    code = ("import torch; torch.set_num_threads(1); import latentplay.notes; from latentplay.models import load_model\n"
            "st = lambda k: int(next(l for l in open('/proc/self/status') if l.startswith(k)).split()[1]) / 1024\n"
            "from latentplay.spectral import shipped_inverter_for as inv\n"           # the inverter loaded first: not counted
            "from latentplay.spectral import DEFAULT_SPECTRAL, Spectral; inv(Spectral(**DEFAULT_SPECTRAL))\n"
            f"a = st('VmRSS'); m = load_model({str(path)!r}); y = m.generate(pitch=60); print(st('VmHWM') - a)")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    if r.returncode == 0: return float(r.stdout.split()[-1])
    print('peak memory not measured:', r.stderr.strip().splitlines()[-1:], file=sys.stderr)
    return float('nan')


def sizes(m, tmp:Path, name:str, memory:bool=True) -> dict:
    "Parameters (all, non-zero, trimmed parts), checkpoint bytes (float32, float16), multiply-adds, peak memory, channels."
    path, half = m.save(tmp / f'{name}.lp'), m.save(tmp / f'{name}-half.lp', half=True)
    parts = [p for n, p in m.named_parameters() if n.split('.')[0] in ('encoder', 'decoder')]
    out = {'channels': m.config()['channels'], 'parameters': sum(p.numel() for p in m.parameters()),
           'nonzero_parameters': int(sum((p != 0).sum() for p in m.parameters())),
           'nonzero_trimmed_parts': int(sum((p != 0).sum() for p in parts)),
           'checkpoint_bytes': path.stat().st_size, 'checkpoint_bytes_half': half.stat().st_size, **macs(m)}
    if memory: out['peak_mb'] = round(peak_mb(path), 1)
    return out


def gen_ms(models:dict, reps:int=9) -> dict:
    """Median one-thread milliseconds to generate one note (`generate`: decoder + learned inverter) and for the decoder
    network alone, the models measured in turn, round after round, so that a busy machine slows them alike."""
    whole, net = {k: [] for k in models}, {k: [] for k in models}
    with torch.no_grad():
        cs = {k: m.condition(60, 'Violin', 'pizzicato')[None] for k, m in models.items()}
        for k, m in models.items(): m.generate(pitch=60); m.decoder(m.prior(1), cs[k])
        for i in range(reps):
            for k, m in models.items():
                t = time.perf_counter(); m.generate(pitch=60, instrument={'Violin': 0.7, 'Trumpet': 0.3}, style='pizzicato', seed=i)
                whole[k].append(time.perf_counter() - t)
                z = m.prior(1, seed=i)
                t = time.perf_counter(); m.decoder(z, cs[k]); net[k].append(time.perf_counter() - t)
    return {k: {'generate_ms': round(1e3 * statistics.median(whole[k]), 2), 'decoder_ms': round(1e3 * statistics.median(net[k]), 3)}
            for k in models}


def control(full, train, test, steps:int, clfs=None) -> dict:
    "The full model retrained for `steps` with the very retraining the trim rounds use (the fair control)."
    m = ENGINES['notes'].retrain(copy.deepcopy(full), train, Budget(None, steps), 0, False, {'validate_every': 1e9}).eval()
    return held_out(m, test, clfs)


def run_one(full, train, test, tmp, crit, sel, kind, a, clfs):
    "One trim to `a.keep`, measured after every round."
    key = f"{crit}-{sel}" + ('-masked' if kind == 'masked' else '')
    curve, t0 = [], time.time()
    P = sum(p.numel() for n, p in full.named_parameters() if n.split('.')[0] in ('encoder', 'decoder'))
    def on_round(r, m):
        pt = {'round': r, **held_out(m, test, clfs), **sizes(m, tmp, f'{key}-{r}', memory=a.memory_every_round or r == a.rounds)}
        pt.update(gen_ms({'m': m}, reps=5)['m'])
        pt['removed'] = round(1 - pt['nonzero_trimmed_parts'] / P, 4)             # of the trimmed parts (encoder, decoder)
        curve.append(pt)
        print(key, json.dumps(pt), file=sys.stderr, flush=True)
    m = trim(full, train, keep=a.keep, criterion=crit, selection=sel, physical=kind != 'masked', rounds=a.rounds, max_steps=a.steps,
             rewind='continue', progress=False, validate_every=1e9, seed=0, on_round=on_round)
    return key, m, {'points': curve, 'minutes': round((time.time() - t0) / 60, 2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='240 retraining steps per trim (all 3 rounds together), every other held-out note (32)')
    ap.add_argument('--keep', type=float, default=0.1)
    ap.add_argument('--rounds', type=int, default=3, help='rounds to reach --keep (3: about 54%%, 78%%, 90%% removed)')
    ap.add_argument('--steps', type=int, default=None, help='retraining steps per trim, all rounds together (default 1200; quick 240)')
    ap.add_argument('--criteria', default='information,information-output,magnitude')
    ap.add_argument('--selections', default='local,global')
    ap.add_argument('--runs', default=None, help='instead of the sweep: criterion:selection:trim|masked, comma-separated')
    ap.add_argument('--no-masked', action='store_true', help='skip the masked ticket beside the first trim')
    ap.add_argument('--no-control', action='store_true', help='skip the full model retrained for the same steps')
    ap.add_argument('--no-conditions', action='store_true', help='skip the conditioning accuracy of generated notes')
    ap.add_argument('--memory-every-round', action='store_true', help='peak memory after every round (else the last round only)')
    ap.add_argument('--out', default=None, help='also save the best trimmed model here (float16)')
    a = ap.parse_args()
    a.steps = a.steps or (240 if a.quick else 1200)
    warnings.simplefilter('ignore')
    c = lp.Corpus.builtin('gm-techniques', progress=False)
    train, test = c.split(test=0.1, seed=0)
    test = list(test)[::2] if a.quick else list(test)
    full = lp.pretrained('gm-techniques-notes')
    clfs = None
    if not a.no_conditions:
        trs = list(train)
        clfs = (Classifier(c.sr).fit(trs, [s.meta['instrument'] for s in trs], c.classes_of('instrument')),
                Classifier(c.sr).fit(trs, [s.meta['style'] for s in trs], sorted({s.meta['style'] for s in trs})))
    tmp = Path(tempfile.mkdtemp())
    t0 = time.time()
    out = {'model': 'gm-techniques-notes', 'keep': a.keep, 'rounds': a.rounds, 'held_out_notes': len(test), 'train_notes': len(train),
           'retrain_steps_per_trim': a.steps, 'threads': 1, 'budgets': BUDGETS,
           'full': {**held_out(full, test, clfs), **sizes(full, tmp, 'full'), 'removed': 0.0}, 'curves': {}}
    print('full', json.dumps(out['full']), file=sys.stderr, flush=True)
    runs = ([r.split(':') for r in a.runs.split(',')] if a.runs else
            [[cr, se, 'trim'] for cr in a.criteria.split(',') for se in a.selections.split(',')])
    if not a.runs and not a.no_masked: runs.insert(1, [runs[0][0], runs[0][1], 'masked'])
    last = {}
    for crit, sel, kind in runs:
        try: key, m, curve = run_one(full, train, test, tmp, crit, sel, kind, a, clfs)
        except ValueError as e:
            out['curves'][f"{crit}-{sel}"] = {'refused': str(e)}; print(crit, sel, 'refused:', e, file=sys.stderr); continue
        out['curves'][key], last[key] = curve, m
        print('curve', json.dumps({key: curve}, default=float), f"{curve['minutes']} min", file=sys.stderr, flush=True)
    if not a.no_control:
        out['control'] = control(full, train, test, a.steps, clfs)
        print('control', out['control'], file=sys.stderr, flush=True)
    for cr in a.criteria.split(','):                     # one width for all layers: global selection == local selection?
        l, g = out['curves'].get(f'{cr}-local', {}), out['curves'].get(f'{cr}-global', {})
        if 'points' in l and 'points' in g:
            out.setdefault('global_equals_local', {})[cr] = all(p['lsd'] == q['lsd'] and p['channels'] == q['channels']
                                                                for p, q in zip(l['points'], g['points']))
    physical = [k for k in last if not k.endswith('-masked')]
    if physical:
        best_key = min(physical, key=lambda k: out['curves'][k]['points'][-1]['lsd'])
        models = {'full': full, 'trimmed': last[best_key]}
        out['trimmed'] = {'run': best_key, **out['curves'][best_key]['points'][-1]}
        masked = [k for k in last if k.endswith('-masked')]
        if masked:
            models['masked'] = last[masked[0]]
            out['masked'] = {'run': masked[0], **out['curves'][masked[0]]['points'][-1]}
        for k, v in gen_ms(models).items(): out[k].update(v)                  # side by side, one thread
        f, t = out['full'], out['trimmed']
        out['ratios'] = {'parameters_removed': round(1 - t['parameters'] / f['parameters'], 4), 'lsd_change': round(t['lsd'] / f['lsd'] - 1, 4),
                         'generate_speedup': round(f['generate_ms'] / t['generate_ms'], 2), 'decoder_speedup': round(f['decoder_ms'] / t['decoder_ms'], 2),
                         'checkpoint_ratio': round(t['checkpoint_bytes'] / f['checkpoint_bytes'], 4),
                         **({'masked_decoder_speedup': round(f['decoder_ms'] / out['masked']['decoder_ms'], 2)} if 'masked' in out else {})}
        if a.out: models['trimmed'].save(a.out, half=True); out['saved'] = a.out
    out['minutes'] = round((time.time() - t0) / 60, 1)
    print(json.dumps(out, indent=1, default=float))


if __name__ == '__main__': main()
