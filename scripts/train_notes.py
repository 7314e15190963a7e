"""Train the small pretrained NoteModel on gm-techniques (re-runnable; resumes an interrupted run).

    python scripts/train_notes.py --minutes 6 --hold-out 0 --half --out latentplay/pretrained/gm-techniques-notes.lp
    python scripts/train_notes.py --minutes 10 --out build/notes.lp [--device cuda] [--fader 1.0]

The shipped `gm-techniques-notes.lp` was made by the first line (all 567 notes, 6 minutes on one CPU thread, float16).
`--split grouped` holds out whole groups of siblings (`split(test=0.1, seed=0, group='auto')`: no held-out note has
another velocity of itself in training), as `bench/bench_notes.py --split grouped` scores them; the default `sound` is the
split the shipped models and their figures use.

`--small` instead trims the shipped `gm-techniques-notes.lp` into `gm-techniques-notes-small.lp` beside it:
lottery-ticket rounds (`latentplay.lottery.trim`: information criterion, local selection, survivors continuing,
`--rounds` rounds, `--trim-steps` retraining steps in all) down to `--keep` of the encoder's and decoder's parameters,
retrained on the 90% of the notes the benchmarks do not hold out; resumable (the checkpoint is under build/).

    python scripts/train_notes.py --small      # the shipped gm-techniques-notes-small.lp: --keep 0.1 --trim-steps 1440, 14 min on 2 shared cores
Several processes: `torchrun --nproc_per_node 2 scripts/train_notes.py ...` (the fit loop shares each batch). The
training checkpoint is `--out` itself until the end, when the finished model replaces it."""
import argparse, json, time
from pathlib import Path
import torch
from latentplay.corpus import Corpus
from latentplay.notes import NoteModel
from latentplay.train import is_main

SPLIT = {'sound': None, 'grouped': 'auto'}   # --split: the `group` of `Corpus.split`

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--corpus', default='gm-techniques', help="built-in corpus: gm-techniques (instrument + style) or gm-notes")
    ap.add_argument('--minutes', type=float, default=10.0)
    ap.add_argument('--max-steps', type=int, default=None)
    ap.add_argument('--out', default='build/gm-techniques-notes.lp')
    ap.add_argument('--half', action='store_true', help='store the finished weights as float16 (half the size)')
    ap.add_argument('--device', default=None, help="'cpu' (default) or 'cuda'")
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--fader', type=float, default=1.0, help='final weight of the fader term (0: none)')
    ap.add_argument('--fader-loss', default='max', choices=('max', 'uniform'))
    ap.add_argument('--critic-steps', type=int, default=1)
    ap.add_argument('--latent-dim', type=int, default=8)
    ap.add_argument('--channels', type=int, default=128)
    ap.add_argument('--hold-out', type=float, default=0.1, help='fraction of notes held out (the benchmark uses seed 0, 0.1)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--split', choices=list(SPLIT), default='sound', help="grouped: no held-out note's sibling in training")
    ap.add_argument('--small', action='store_true', help='trim the shipped model into gm-techniques-notes-small.lp instead of training')
    ap.add_argument('--keep', type=float, default=0.1, help='--small: fraction of the parameters kept')
    ap.add_argument('--rounds', type=int, default=3, help='--small: trimming rounds')
    ap.add_argument('--trim-steps', type=int, default=1440, help='--small: retraining steps of all rounds together')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.small: return small(a)
    corpus = Corpus.builtin(a.corpus, progress=False)
    train = corpus.split(test=a.hold_out, seed=0, group=SPLIT[a.split])[0] if a.hold_out > 0 else corpus
    t0 = time.perf_counter()
    m = NoteModel.fit(train, minutes=a.minutes, max_steps=a.max_steps, checkpoint=a.out, resume=True, device=a.device,
                      fader=a.fader, fader_loss=a.fader_loss, critic_steps=a.critic_steps, seed=a.seed, progress=is_main(), latent_dim=a.latent_dim, channels=a.channels)
    if is_main():
        m.cpu().save(a.out, half=a.half)
        val = [h for h in m.history if 'val_rec' in h]
        print(json.dumps({'out': a.out, 'notes': len(train), 'steps': m.info.get('steps'), 'seconds': round(time.perf_counter() - t0, 1),
                          'last_validation': val[-1] if val else None}))

def small(a):
    "The shipped note model trimmed to `a.keep` of its parameters, scored on the held-out notes, written beside it (float16)."
    import warnings
    from latentplay.lottery import trim
    from latentplay.models import pretrained
    from latentplay.dsp import lsd, sc
    root = Path(__file__).resolve().parents[1]
    if a.split != 'sound': raise SystemExit("--small --split grouped: the shipped model it trims heard the held-out notes; "
                                             "train a model of your own with --split grouped and trim that (latentplay trim)")
    train, test = Corpus.builtin(a.corpus, progress=False).split(test=0.1, seed=0)
    full, t0 = pretrained('gm-techniques-notes'), time.perf_counter()
    ckpt = root / 'build' / f'gm-techniques-notes-small-{a.keep:g}.trimming.lp'
    ckpt.parent.mkdir(exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        m = trim(full, train, keep=a.keep, criterion='information', selection='local', rounds=a.rounds, max_steps=a.trim_steps,
                 rewind='continue', checkpoint=ckpt, seed=a.seed, progress=True, validate_every=1e9)
    def score(m):
        r = []
        for s in test.sounds:
            x = m._fit_length(torch.from_numpy(s.audio))
            y = torch.from_numpy(m.decode(m.encode(s), pitch=s.meta['pitch'], instrument=s.meta['instrument'], style=s.meta['style']).audio)
            r.append((float(lsd(x, y)), float(sc(x, y))))
        return {'lsd': sum(v for v, _ in r) / len(r), 'sc': sum(v for _, v in r) / len(r), 'notes': len(r)}
    m.info['held_out'], full_scores = score(m.cpu().eval()), score(full)
    out = Path(a.out) if a.out != 'build/gm-techniques-notes.lp' else root / 'latentplay' / 'pretrained' / 'gm-techniques-notes-small.lp'
    m.save(out, half=True)
    P = lambda m: sum(p.numel() for p in m.parameters())
    print(json.dumps({'out': str(out), 'channels': m.config()['channels'], 'parameters': P(m), 'parameters_full': P(full),
                      'bytes': out.stat().st_size, 'held_out': m.info['held_out'], 'held_out_full': full_scores,
                      'seconds': round(time.perf_counter() - t0, 1)}))

if __name__ == '__main__': main()
