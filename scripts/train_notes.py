"""Train the small pretrained NoteModel on gm-techniques (re-runnable; resumes an interrupted run).

    python scripts/train_notes.py --minutes 6 --hold-out 0 --half --out latentplay/pretrained/gm-techniques-notes.lp
    python scripts/train_notes.py --minutes 10 --out build/notes.lp [--device cuda] [--fader 1.0]

The shipped `gm-techniques-notes.lp` was made by the first line (all 567 notes, 6 minutes on one CPU thread, float16).
Several processes: `torchrun --nproc_per_node 2 scripts/train_notes.py ...` (the fit loop shares each batch). The
training checkpoint is `--out` itself until the end, when the finished model replaces it."""
import argparse, json, time
from pathlib import Path
import torch
from latentplay.corpus import Corpus
from latentplay.notes import NoteModel
from latentplay.train import is_main

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
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    corpus = Corpus.builtin(a.corpus, progress=False)
    train = corpus.split(test=a.hold_out, seed=0)[0] if a.hold_out > 0 else corpus
    t0 = time.perf_counter()
    m = NoteModel.fit(train, minutes=a.minutes, max_steps=a.max_steps, checkpoint=a.out, resume=True, device=a.device,
                      fader=a.fader, fader_loss=a.fader_loss, critic_steps=a.critic_steps, seed=a.seed, progress=is_main(), latent_dim=a.latent_dim, channels=a.channels)
    if is_main():
        m.cpu().save(a.out, half=a.half)
        val = [h for h in m.history if 'val_rec' in h]
        print(json.dumps({'out': a.out, 'notes': len(train), 'steps': m.info.get('steps'), 'seconds': round(time.perf_counter() - t0, 1),
                          'last_validation': val[-1] if val else None}))

if __name__ == '__main__': main()
