"""Lottery trimming of the shipped drum model: full curves of held-out quality against the fraction removed, for every
criterion and for local and global selection, each round with its parameters, checkpoint bytes, multiply-adds (decoder,
per frame, and FLOPs per output sample), one-thread decode latency and (at the end of each run, or every round with
`--memory-every-round`) resident memory; the masked ticket beside trimming (same quality, no speed-up); and the full
model retrained for the same steps (the fair control for "trimmed models beat the full one").

Prints one JSON object (and a line per finished run on stderr). One thread. Run it niced:
    nice -n 10 .venv/bin/python bench/bench_lottery.py --quick            # a small sweep: ~10-20 min on 2 shared cores
    nice -n 10 .venv/bin/python bench/bench_lottery.py --steps 1500        # the full sweep: hours on 2 cores
    nice -n 10 .venv/bin/python bench/bench_lottery.py --runs information:local:continue:trim --steps 1500 --out small.lp
    nice -n 10 .venv/bin/python bench/bench_lottery.py --goal --control full-finetuned.lp   # the goal, on the shipped models
Goal (issue 12): 90% of the parameters removed, held-out lsd at most 5% worse, decoding at least 4x faster. `--goal` checks
it on the shipped gm-drums-small (trimmed, with its cheaper synthesizer: `scripts/train_pretrained.py --small`) against
gm-drums, on all held-out hits, and against the full model fine-tuned as long as the small one was (`--control FILE`),
with decode times as wall and thread-CPU medians (the latter barely moves when other processes share the cores)."""
import argparse, copy, json, os, statistics, subprocess, sys, tempfile, time, warnings
from pathlib import Path
import torch

torch.set_num_threads(1)
import latentplay as lp
from latentplay.dsp import lsd
from latentplay.lottery import trim, count_macs, CRITERIA, ENGINES
from latentplay.train import Budget

# embedded budgets of SYSTEMS.md section 4 (FLOPs per output sample, storage bytes, memory bytes): drawn on the plots
BUDGETS = {'arduino': {'flops_per_sample': (160e3, 320e3), 'storage_bytes': (128e3, 256e3), 'memory_bytes': (8e3, 16e3)},
           'raspberry-pi': {'flops_per_sample': (41e6, 53e6), 'storage_bytes': (256e6, 1e9), 'memory_bytes': (512e6, 1e9)}}


def held_out(m, sounds) -> float:
    "Median lsd (dB) of the model's resynthesis of held-out hits."
    return statistics.median(float(lsd(s, m.resynthesize(s))) for s in sounds)


def decode_ms(models:dict, steps:int=400, reps:int=15) -> dict:
    """Median one-thread milliseconds to decode `steps` latent frames, the whole decode and the network part alone
    (`controls`), the models measured in turn, round after round, so that a busy machine slows them alike."""
    z = {k: m.prior(steps) for k, m in models.items()}
    whole, net = {k: [] for k in models}, {k: [] for k in models}
    with torch.no_grad():
        for k, m in models.items(): m.decode(z[k]); m.controls(z[k])
        for _ in range(reps):
            for k, m in models.items():
                t = time.perf_counter(); m.decode(z[k]); whole[k].append(time.perf_counter() - t)
                t = time.perf_counter(); m.controls(z[k]); net[k].append(time.perf_counter() - t)
    audio = {k: 1e3 * steps * m.hop_length / m.sr for k, m in models.items()}
    return {k: {'decode_ms': 1e3 * statistics.median(whole[k]), 'network_ms': 1e3 * statistics.median(net[k]), 'audio_ms': audio[k]}
            for k in models}


def resident_mb(path) -> float:
    "Resident memory (MB) a fresh process gains by loading the model and decoding 400 frames (VmRSS after minus before)."
    code = ("import torch; torch.set_num_threads(1); import latentplay.granular; from latentplay.models import load_model\n"
            "rss = lambda: int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1]) / 1024\n"
            f"a = rss(); m = load_model({str(path)!r}); y = m.decode(m.prior(400)); print(rss() - a)")
    return float(subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.split()[-1])


def sizes(m, tmp:Path, name:str, memory:bool=True) -> dict:
    "Parameters (all, non-zero), checkpoint bytes (float32 and float16), multiply-adds, FLOPs per output sample, memory."
    path, half = m.save(tmp / f'{name}.lp'), m.save(tmp / f'{name}-half.lp', half=True)
    dec = count_macs(m.decoder)
    out = {'parameters': sum(p.numel() for p in m.parameters()),
           'nonzero_parameters': int(sum((p != 0).sum() for p in m.parameters())),
           'checkpoint_bytes': path.stat().st_size, 'checkpoint_bytes_half': half.stat().st_size,
           'decoder_macs_per_frame': dec, 'decoder_flops_per_sample': round(2 * dec / m.hop_length, 1),
           'encoder_macs_per_grain': count_macs(m.encoder), 'sequence_macs_per_step': count_macs(m.sequence), 'widths': m.widths}
    if memory: out['resident_mb'] = round(resident_mb(path), 1)
    return out


def decode_times(models:dict, steps:int=400, reps:int=21) -> dict:
    "Median wall and thread-CPU milliseconds of each model's decode of `steps` frames, the models measured in turn."
    z = {k: m.prior(steps) for k, m in models.items()}
    wall, cpu = {k: [] for k in models}, {k: [] for k in models}
    with torch.no_grad():
        for k, m in models.items(): m.decode(z[k])
        for _ in range(reps):
            for k, m in models.items():
                t, c = time.perf_counter(), time.thread_time(); m.decode(z[k])
                cpu[k].append(time.thread_time() - c); wall[k].append(time.perf_counter() - t)
    return {k: {'decode_wall_ms': round(1e3 * statistics.median(wall[k]), 3), 'decode_cpu_ms': round(1e3 * statistics.median(cpu[k]), 3)} for k in models}


def goal(control_path=None, small='gm-drums-small') -> dict:
    "Issue 12's goal on the shipped models: gm-drums-small against gm-drums (and a fine-tuned control), all held-out hits."
    test = lp.Corpus.builtin('gm-drums', progress=False).split(test=0.1, seed=0)[1]
    models = {'full': lp.pretrained('gm-drums'), 'small': lp.pretrained(small) if small in lp.pretrained_names() else lp.load_model(small)}
    if control_path: models['control'] = lp.load_model(control_path)
    out = {'small_model': small, 'control_model': control_path}
    out.update({k: {'lsd': round(held_out(m, test.sounds), 3), 'parameters': sum(p.numel() for p in m.parameters()),
               'frame_length': m.frame_length, 'post_channels': m.config()['fir_channels']} for k, m in models.items()})
    for k, v in decode_times(models).items(): out[k].update(v)
    f, s = out['full'], out['small']
    out['test_hits'], out['threads'] = len(test), 1
    out['ratios'] = {'parameters_removed': round(1 - s['parameters'] / f['parameters'], 4), 'lsd_change': round(s['lsd'] / f['lsd'] - 1, 4),
                     'decode_speedup_cpu': round(f['decode_cpu_ms'] / s['decode_cpu_ms'], 2), 'decode_speedup_wall': round(f['decode_wall_ms'] / s['decode_wall_ms'], 2)}
    if 'control' in out: out['ratios']['lsd_change_vs_control'] = round(s['lsd'] / out['control']['lsd'] - 1, 4)
    out['goal'] = {'90%_removed': out['ratios']['parameters_removed'] >= 0.9, 'lsd_within_5%': out['ratios']['lsd_change'] <= 0.05,
                   'decode_4x': out['ratios']['decode_speedup_cpu'] >= 4,
                   **({'lsd_within_5%_of_control': out['ratios']['lsd_change_vs_control'] <= 0.05} if 'control' in out else {})}
    out['load_average'] = os.getloadavg()
    return out


def control(full, train, hits, steps:int, seed:int=0) -> float:
    "Held-out lsd of the full model retrained for `steps` with the very retraining the trim rounds use (the fair control)."
    m = ENGINES['grains'].retrain(copy.deepcopy(full), train, Budget(None, steps), seed, False, {'validate_every': 1e9}).eval()
    return held_out(m, hits)


def run_one(full, train, hits, tmp, crit, sel, rewind, kind, a):
    "One trim, measured after every round."
    key = f"{crit}-{sel}-{rewind}" + ('-masked' if kind == 'masked' else '')
    curve, t0 = [], time.time()
    def on_round(r, m):
        pt = {'round': r, 'lsd': held_out(m, hits), **sizes(m, tmp, f'{key}-{r}', memory=a.memory_every_round)}
        pt.update(decode_ms({'m': m}, reps=5)['m'])
        curve.append(pt)
    parts = tuple(p for p in a.parts.split(',') if p)
    if crit == 'norm': parts = tuple(p for p in parts if p != 'sequence')      # the sequence LSTMs have no norm to rank by
    m = trim(full, train, keep=a.keep, criterion=crit, selection=sel, physical=kind != 'masked', max_steps=a.steps, rate=a.rate,
             rewind={'rewind': True, 'reinit': False, 'continue': 'continue'}[rewind], parts=parts, progress=False,
             validate_every=1e9, on_round=on_round)
    P = sum(p.numel() for p in full.parameters())
    for pt, h in zip(curve, m.info['trim']['history']):
        pt['removed'] = round(1 - h['fraction'], 4)                                   # of the trimmed parts
        pt['removed_of_model'] = round(1 - pt['nonzero_parameters'] / P, 4)           # of the whole model
    return key, m, {'points': curve, 'parts': list(parts), 'minutes': round((time.time() - t0) / 60, 2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='a small sweep: 13 test hits, 120 steps per trim, 40%% of the units per round')
    ap.add_argument('--keep', type=float, default=0.1)
    ap.add_argument('--steps', type=int, default=None, help='retraining steps per trim, all rounds together (default 1500; quick 120)')
    ap.add_argument('--rate', type=float, default=None, help='share of the units removed per round (default 0.2; quick 0.4)')
    ap.add_argument('--parts', default='encoder,decoder,sequence', help="parts trimmed (default all; 'norm' leaves out the sequence, which has no norms)")
    ap.add_argument('--criteria', default=','.join(CRITERIA), help='criteria swept (default all)')
    ap.add_argument('--selections', default='local,global')
    ap.add_argument('--rewind', default='continue', choices=('continue', 'rewind', 'reinit'))
    ap.add_argument('--runs', default=None, help='instead of the sweep: criterion:selection:rewind|reinit|continue:trim|masked, comma-separated')
    ap.add_argument('--no-masked', action='store_true', help='skip the masked ticket beside the first trim')
    ap.add_argument('--no-control', action='store_true', help='skip the full model retrained for the same steps')
    ap.add_argument('--memory-every-round', action='store_true', help='resident memory after every round (a fresh process each: slower)')
    ap.add_argument('--out', default=None, help='also save the best trimmed model here')
    ap.add_argument('--goal', action='store_true', help='only the goal, checked on the shipped gm-drums-small against gm-drums (a minute or two)')
    ap.add_argument('--control', default=None, help='with --goal: the full model fine-tuned as long as the small one (a .lp file)')
    ap.add_argument('--small', default='gm-drums-small', help='with --goal: the small model checked (default the shipped one; or a .lp file)')
    a = ap.parse_args()
    if a.goal:
        warnings.simplefilter('ignore')
        return print(json.dumps(goal(a.control, a.small), indent=1))
    a.steps = a.steps or (120 if a.quick else 1500)
    a.rate = a.rate or (0.4 if a.quick else 0.2)
    warnings.simplefilter('ignore')
    c = lp.Corpus.builtin('gm-drums', progress=False)
    train, test = c.split(test=0.1, seed=0)                 # the shipped model's own split: `test` was never seen
    hits = test.sounds[::6] if a.quick else test.sounds
    full = lp.pretrained('gm-drums')
    tmp = Path(tempfile.mkdtemp())
    t0 = time.time()
    out = {'model': 'gm-drums', 'keep': a.keep, 'test_hits': len(hits), 'retrain_steps_per_trim': a.steps, 'rate': a.rate,
           'parts': a.parts, 'threads': 1, 'budgets': BUDGETS,
           'full': {'lsd': held_out(full, hits), **sizes(full, tmp, 'full')}, 'curves': {}}
    runs = ([r.split(':') for r in a.runs.split(',')] if a.runs else
            [[cr, se, a.rewind, 'trim'] for cr in a.criteria.split(',') for se in a.selections.split(',')])
    if not a.runs and not a.no_masked: runs.insert(1, [runs[0][0], runs[0][1], runs[0][2], 'masked'])
    last = {}
    for crit, sel, rewind, kind in runs:
        try: key, m, curve = run_one(full, train, hits, tmp, crit, sel, rewind, kind, a)
        except ValueError as e:                              # a criterion this model's parts cannot support: say so, go on
            out['curves'][f"{crit}-{sel}-{rewind}"] = {'refused': str(e)}; print(crit, sel, 'refused:', e, file=sys.stderr); continue
        out['curves'][key], last[key] = curve, m
        if kind != 'masked': curve['final_resident_mb'] = sizes(m, tmp, key + '-final')['resident_mb']
        print(key, json.dumps({k: v for k, v in curve['points'][-1].items() if k != 'widths'}), f"{curve['minutes']} min", file=sys.stderr, flush=True)
        print('curve', json.dumps({key: curve}, default=float), file=sys.stderr, flush=True)      # kept even if the sweep is cut short
    if not a.no_control:
        out['control_lsd'] = control(full, train, hits, a.steps)
        print('control', out['control_lsd'], file=sys.stderr, flush=True)
    physical = [k for k in last if not k.endswith('-masked')]
    best_key = min(physical, key=lambda k: out['curves'][k]['points'][-1]['lsd'])
    best = last[best_key]
    out['trimmed'] = {'run': best_key, 'lsd': out['curves'][best_key]['points'][-1]['lsd'], **sizes(best, tmp, 'trimmed')}
    models = {'full': full, 'trimmed': best}
    masked = [k for k in last if k.endswith('-masked')]
    if masked:
        mk = masked[0]
        out['masked'] = {'run': mk, 'lsd': out['curves'][mk]['points'][-1]['lsd'], **sizes(last[mk], tmp, 'masked')}
        models['masked'] = last[mk]
        twin = mk[:-len('-masked')]
        if twin in out['curves'] and 'points' in out['curves'][twin]:       # round by round: masked vs trimmed, same non-zero count
            out['masked_vs_trimmed'] = [{'round': p['round'], 'removed': p['removed'], 'lsd_masked': p['lsd'], 'lsd_trimmed': q['lsd'],
                                         'decode_ms_masked': p['decode_ms'], 'decode_ms_trimmed': q['decode_ms'],
                                         'checkpoint_bytes_masked': p['checkpoint_bytes'], 'checkpoint_bytes_trimmed': q['checkpoint_bytes']}
                                        for p, q in zip(out['curves'][mk]['points'], out['curves'][twin]['points'])]
    for k, v in decode_ms(models).items(): out[k].update(v)
    f, t = out['full'], out['trimmed']
    out['ratios'] = {'parameters_removed': 1 - t['parameters'] / f['parameters'], 'lsd_change': t['lsd'] / f['lsd'] - 1,
                     'decode_speedup': f['decode_ms'] / t['decode_ms'], 'network_speedup': f['network_ms'] / t['network_ms'],
                     'checkpoint_ratio': t['checkpoint_bytes'] / f['checkpoint_bytes'],
                     **({'masked_decode_speedup': f['decode_ms'] / out['masked']['decode_ms']} if 'masked' in out else {})}
    out['goal'] = {'90%_removed': out['ratios']['parameters_removed'] >= 0.9, 'lsd_within_5%': out['ratios']['lsd_change'] <= 0.05,
                   'decode_4x': out['ratios']['decode_speedup'] >= 4}
    ref = min(f['lsd'], out.get('control_lsd', f['lsd']))
    out['better_than_full'] = {k: [p['removed'] for p in v['points'] if p['lsd'] < f['lsd']] for k, v in out['curves'].items() if 'points' in v}
    out['better_than_control'] = {k: [p['removed'] for p in v['points'] if p['lsd'] < ref] for k, v in out['curves'].items() if 'points' in v}
    out['minutes'] = round((time.time() - t0) / 60, 1)
    if a.out: best.save(a.out); out['saved'] = a.out
    print(json.dumps(out, indent=1, default=float))


if __name__ == '__main__': main()
