"""Train the small pretrained many-instrument model (`MoVE`) on eight instruments of gm-notes (the training part of
its `split(test=0.1, seed=0)`; bench/bench_move.py measures on the held-out part), the way the shipped models are
trained: re-runnable, the same seed and steps give the same model on the same machine.

    nice -n 10 python scripts/train_move.py --half --out latentplay/pretrained/gm-move.lp     # the shipped one (2500 steps)
    python scripts/train_move.py --out build/move.lp [--steps 3000] [--instruments Violin,Trumpet] [--device cuda]
    torchrun --nproc_per_node 2 scripts/train_move.py --out ...        (data-parallel: the same model, faster)

It prints, as JSON, the held-out validation losses and a quick check: a held-out flute note turned into a violin
(pitch error in cents, loudness correlation). The full measures are bench/bench_move.py's.
"""
import argparse, json, math, time
from pathlib import Path
import numpy as np
import torch

from latentplay.corpus import Corpus
from latentplay.features import loudness, f0_yin
from latentplay.train import is_main
from latentplay.move import MoVE

INSTRUMENTS = ['Violin', 'Trumpet', 'Flute', 'Cello', 'Clarinet', 'Saxophone', 'FrenchHorn', 'Oboe']


SPLIT = {'sound': None, 'grouped': 'auto'}   # --split: the `group` of `Corpus.split`

def notes(instruments, split:str='sound'):
    "(train, held): the notes of `instruments` in gm-notes' split (test=0.1, seed=0; `split='grouped'`: whole groups of siblings)."
    train, held = Corpus.builtin('gm-notes', progress=False).split(test=0.1, seed=0, group=SPLIT[split])
    return train.filter(instrument=instruments), held.filter(instrument=instruments)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True, help='the model file to write (.lp)')
    ap.add_argument('--steps', type=int, default=2500, help='training steps (default 2500)')
    ap.add_argument('--instruments', default=','.join(INSTRUMENTS), help='comma-separated instruments of gm-notes')
    ap.add_argument('--channels', type=int, default=128)
    ap.add_argument('--latent-dim', type=int, default=4)
    ap.add_argument('--mmd-weight', type=float, default=1.0, help='weight of the MMD between the instruments\' latents')
    ap.add_argument('--beta', type=float, default=0.001, help='weight of the KL term (default 0.001)')
    ap.add_argument('--device', default=None, help='cpu (default) or cuda')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--half', action='store_true', help='store the weights as float16')
    ap.add_argument('--split', choices=list(SPLIT), default='sound',
                    help="sound: as the shipped model; grouped: no held-out note has another velocity of itself in training")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    train, held = notes(a.instruments.split(','), a.split)
    t0 = time.perf_counter()
    m = MoVE.fit(train, max_steps=a.steps, valid=held, device=a.device, seed=a.seed, channels=a.channels,
                 latent_dim=a.latent_dim, mmd_weight=a.mmd_weight, beta=a.beta, progress=is_main(), validate_every=60)
    if not is_main(): return
    m = m.cpu().eval()
    m.save(a.out, half=a.half)
    val = [h for h in m.history if 'val_rec' in h]
    fl = held.filter(instrument='Flute')[0] if 'Flute' in m.instruments else held[0]
    y = m.transfer(fl, instrument='Violin' if 'Violin' in m.instruments else m.instruments[0])
    (fx, px), (fy, py) = f0_yin(fl, fl.sr), f0_yin(y, y.sr)
    k = (px > 0.7) & (py > 0.7)
    lx, ly = loudness(fl), loudness(y)
    on = lx > lx.max() - 40
    print(json.dumps({'model': a.out, 'instruments': m.instruments, 'steps': a.steps, 'minutes': round((time.perf_counter() - t0) / 60, 2),
                      'train_notes': len(train), 'held_notes': len(held), 'slices': m.info['slices'],
                      'held_out': {k2: round(v, 4) for k2, v in val[-1].items() if k2.startswith('val_')} if val else None,
                      'flute_to_violin': {'f0_error_cents': round(float((1200 * torch.log2(fy[k] / fx[k])).abs().median()), 1) if k.sum() > 2 else None,
                                          'loudness_correlation': round(float(np.corrcoef(lx[on], ly[on])[0, 1]), 3)},
                      'size_mb': round(Path(a.out).stat().st_size / 1e6, 2)}))


if __name__ == '__main__': main()
