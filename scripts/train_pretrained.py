"""Train the small pretrained models that ship in `latentplay/pretrained/`, one per built-in corpus.

    python scripts/train_pretrained.py                     # all three, 12 minutes each, one CPU thread
    python scripts/train_pretrained.py --only gm-drums --minutes 30 --device cuda
    python scripts/train_pretrained.py --only --small gm-drums       # gm-drums-small.lp: the shipped model, trimmed
    python scripts/train_pretrained.py --only gm-drums --init --steps 1000 --lr 5e-4 --stages 0.4 0.6
                                                           # fine-tune the shipped model (e.g. to add grain conditioning)
    python scripts/train_pretrained.py --only gm-notes --config hidden=384     # any further `GrainModel.fit` setting

Each model trains on 90% of its corpus (`split(test=0.1, seed=0)`); the other 10% stays unseen, for the
benchmarks. The decoder is conditioned on the class (and, for gm-notes, on the pitch), batches are class-balanced
(`GrainModel.fit`'s defaults; gm-notes adds `pitch=True`, which brings the harmonic decoder). Training writes a resumable checkpoint under `build/`, so an interrupted run continues where it stopped
when the same command is run again. The shipped file stores its weights as float16.

The shipped gm-notes came from `--only gm-notes --fresh --steps 1400`, then `--only gm-notes --init --minutes 22 --lr 5e-4
--stages 0.5 0.5 --threads 2` (a fine-tune that gives the sequence level half the budget), then
`--only gm-notes --init --minutes 40 --lr 5e-4 --stages 0.5 0.5 --threads 1 --fresh` and `--only gm-notes --statistics`
(both on a busy 2-core machine; the second keeps the training embeddings that `generate` draws near); gm-textures from two
fine-tuning runs of the earlier 12-minute model, `--only gm-textures --init --steps 1400 --lr 5e-4 --stages 0.5 0.5`, then
`--only gm-textures --init --steps 1200 --lr 5e-4 --stages 0.25 0.75`, then `--only gm-textures --statistics`.

`--split grouped` trains on `split(test=0.1, seed=0, group='auto')` instead, where no held-out sound has another
velocity (or length) of itself in training; start such a chain with `--fresh --out DIR` (a model that heard the
held-out sounds must not be its start), e.g. `--only gm-drums --split grouped --fresh --minutes 12 --out build/grouped`.

`--statistics` refits only what `generate` draws from (each label's embedding statistics and, for notes and long sounds as `fit` keeps them, the kept training
embeddings), on the same 90%, without training: how the shipped gm-textures got its kept embeddings
(`--only gm-textures --statistics`).

`--small NAME` also writes `NAME-small.lp`: the shipped `NAME.lp` with 90% of its parameters removed by lottery-ticket
rounds (`latentplay.lottery.trim`: information criterion, local selection, survivors continuing, `--trim-steps`
retraining steps on the same 90%), resumable like the training. The shipped gm-drums-small also has a cheaper
synthesizer: 1024-sample grains and no post-filter, retrained for 2242 grain and 2296 sequence steps after the rounds:

    python scripts/train_pretrained.py --only --small gm-drums --grain 1024 --post-channels 0 --synth-steps 2242 2296
"""
import argparse, json, time
from pathlib import Path

import torch

from latentplay.corpus import Corpus
from latentplay.granular import GrainModel, _fit_embedding_statistics, _keeps_embeddings
from latentplay.dsp import lsd, sc, rmse_logmag
from latentplay.models import load_model

ROOT = Path(__file__).resolve().parents[1]
SPLIT = {'sound': None, 'grouped': 'auto'}   # --split: the `group` of `Corpus.split`

def split(c, a):
    "The training and held-out parts of corpus `c` under `--split`."
    return c.split(test=0.1, seed=0, group=SPLIT[a.split])

def checkpoint(name:str, a, what:str='training') -> Path:
    "The resumable checkpoint of a run (`what`: training or trimming): one per model and split."
    return ROOT / 'build' / f"{name}{'' if a.split == 'sound' else '-' + a.split}.{what}.lp"

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--only', nargs='*', default=['gm-drums', 'gm-notes', 'gm-textures'])
    ap.add_argument('--minutes', type=float, default=12.0)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--out', default=str(ROOT / 'latentplay' / 'pretrained'))
    ap.add_argument('--fresh', action='store_true', help='ignore an interrupted run and start again')
    ap.add_argument('--small', nargs='*', default=[], help='also trim these shipped models into NAME-small.lp')
    ap.add_argument('--keep', type=float, default=0.1, help='fraction of the parameters a small model keeps')
    ap.add_argument('--trim-steps', type=int, default=1500, help='retraining steps of all trimming rounds together')
    ap.add_argument('--grain', type=int, default=None, help='--small: shorter grains for the small model (1024): a cheaper synthesizer')
    ap.add_argument('--post-channels', type=int, default=None, help='--small: post-filter channels the small model keeps (0: none)')
    ap.add_argument('--synth-steps', type=int, nargs='+', default=None, metavar='STEPS',
                    help='--small: retraining after --grain/--post-channels: steps, or grain steps and sequence steps')
    ap.add_argument('--steps', type=int, default=None, help='a step budget instead of --minutes (both levels together)')
    ap.add_argument('--init', action='store_true', help='start from the shipped NAME.lp (fine-tuning; new condition layers start silent)')
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--stages', type=float, nargs='+', default=None, help="budget shares of the stages (default `GrainModel.fit`'s)")
    ap.add_argument('--statistics', action='store_true', help="no training: refit the shipped NAME.lp's generation statistics "
                    "(each label's embedding Gaussian and the kept training embeddings that `generate` draws near)")
    ap.add_argument('--split', choices=list(SPLIT), default='sound',
                    help="sound: note by note, the split the shipped models were trained on (another velocity of every held-out "
                         "sound is in training); grouped: split(group='auto'), every sibling held out with it (use --fresh and a new --out)")
    ap.add_argument('--config', nargs='*', default=[], metavar='KEY=VALUE',
                    help='further `GrainModel.fit` settings, VALUE read as JSON when it parses (e.g. hidden=384)')
    a = ap.parse_args()
    if a.split != 'sound' and (a.init or a.statistics or a.small) and Path(a.out).resolve() == (ROOT / 'latentplay' / 'pretrained').resolve():
        raise SystemExit("--split grouped starts from models of its own: the shipped ones heard the held-out sounds. "
                         "Train with --fresh --out DIR first, then --init/--statistics/--small with the same --out")
    torch.set_num_threads(a.threads)
    for name in a.only:
        c = Corpus.builtin(name, sr=22050)
        train, test = split(c, a)
        ckpt = checkpoint(name, a)
        if a.fresh and ckpt.exists(): ckpt.unlink()
        t0 = time.time()
        if a.statistics:
            m = load_model(Path(a.out) / f'{name}.lp')
            _fit_embedding_statistics(m, train, keep=_keeps_embeddings(train, bool(m.pitch_range), m.config()['seq_seconds']))   # as `fit` would
            write(m, name, test, a, t0); continue
        init = load_model(Path(a.out) / f'{name}.lp') if a.init else None
        opts = ({'stages': tuple(a.stages)} if a.stages else {}) | {'pitch': name == 'gm-notes'} | extra(a.config)
        m = GrainModel.fit(train, minutes=None if a.steps else a.minutes, max_steps=a.steps, checkpoint=ckpt, resume=True,
                           device=a.device, seed=0, init=init, lr=a.lr, **opts)
        write(m.cpu(), name, test, a, t0)
    for name in a.small: small(name, a)

def extra(pairs) -> dict:
    "`KEY=VALUE` pairs as keyword arguments, each value read as JSON when it parses (`hidden=384`, `pitch=false`)."
    out = {}
    for p in pairs:
        k, sep, v = p.partition('=')
        if not sep or not k.isidentifier(): raise SystemExit(f"--config takes KEY=VALUE pairs such as hidden=384, got {p!r}")
        try: out[k] = json.loads(v)
        except json.JSONDecodeError: out[k] = v
    return out

def write(m, name, test, a, t0):
    "Score `m` on the held-out sounds, keep the scores in its file, save it as float16 and say so."
    scores = {'lsd': [], 'sc': [], 'rmse_logmag': []}
    for s in test.sounds:
        out = m.resynthesize(s)
        for k, f in (('lsd', lsd), ('sc', sc), ('rmse_logmag', rmse_logmag)): scores[k].append(float(f(s, out)))
    m.info['held_out'] = {k: float(torch.tensor(v).median()) for k, v in scores.items()} | {'sounds': len(test)}
    m.info['trained_on'] = a.device
    m.info['split'] = f"split(test=0.1, seed=0{'' if SPLIT[a.split] is None else f', group={SPLIT[a.split]!r}'})"
    path = m.save(Path(a.out) / f'{name}.lp', half=True)
    print(json.dumps({'model': name, 'file': str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path), 'MB': round(path.stat().st_size / 1e6, 2),
                      'parameters': sum(p.numel() for p in m.parameters()), 'wall_minutes': round((time.time() - t0) / 60, 1),
                      'steps': m.info.get('steps'), 'held_out_median': m.info['held_out']}), flush=True)

def small(name, a):
    "The shipped model `name`, trimmed to `a.keep` of its parameters, written as `name-small.lp`."
    from latentplay.lottery import trim
    c = Corpus.builtin(name, sr=22050)
    train, test = split(c, a)
    t0 = time.time()
    ckpt = checkpoint(f'{name}-small', a, 'trimming')
    if a.fresh and ckpt.exists(): ckpt.unlink()
    steps = a.synth_steps and (a.synth_steps[0] if len(a.synth_steps) == 1 else tuple(a.synth_steps))
    m = trim(load_model(Path(a.out) / f'{name}.lp', a.device), train, keep=a.keep, criterion='information',
             selection='local', max_steps=a.trim_steps, rewind='continue', checkpoint=ckpt, seed=0,
             grain=a.grain, post_channels=a.post_channels, synth_steps=steps)   # the new synthesizer after the rounds
    write(m.cpu(), f'{name}-small', test, a, t0)

if __name__ == '__main__': main()
