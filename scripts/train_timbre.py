"""Train the small pretrained timbre space on gm-notes (the 12 rated instruments; one note in five held out), the way
the shipped models are trained: re-runnable, the same seed gives the same model on the same machine.

    nice -n 10 python scripts/train_timbre.py --steps 3000 --half --out latentplay/pretrained/gm-notes-timbre.lp   # the shipped one
    python scripts/train_timbre.py --out build/timbre.lp [--steps 3000] [--device cuda]
    torchrun --nproc_per_node 2 scripts/train_timbre.py --out ...        (data-parallel: the same model, faster)

It prints the perceptual fit (Spearman, Mantel p) of the centroids and of the held-out notes as JSON, and writes the
model in float16 (half the size) with `--half`.
"""
import argparse, json, time
import torch

from latentplay.corpus import Corpus
from latentplay.timbre import TimbreSpace, perceptual_fit
from latentplay.train import is_main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True, help='the model file to write (.lp)')
    ap.add_argument('--steps', type=int, default=3000, help='training steps, both stages together (default 3000)')
    ap.add_argument('--minutes', type=float, default=None, help='or a time budget')
    ap.add_argument('--latent-dim', type=int, default=16)
    ap.add_argument('--hidden', type=int, default=512)
    ap.add_argument('--device', default=None, help='cpu (default) or cuda')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--half', action='store_true', help='store the weights as float16')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    notes = Corpus.builtin('gm-notes', progress=False)
    t0 = time.perf_counter()
    m = TimbreSpace.fit(notes, max_steps=None if a.minutes else a.steps, minutes=a.minutes, device=a.device, seed=a.seed,
                        latent_dim=a.latent_dim, hidden=a.hidden, progress=is_main())
    if not is_main(): return
    m = m.cpu()
    m.save(a.out, half=a.half)
    fit = m.perceptual_fit(permutations=999)
    held = perceptual_fit(m.project(notes, indices=m.info['held_out']), permutations=999)
    print(json.dumps(dict(out=a.out, seconds=round(time.perf_counter() - t0, 1), steps=m.info['steps'],
                          centroids=fit, held_out=held), indent=1))


if __name__ == '__main__':
    main()
