"""Train the learned spectral inverter that ships as `latentplay/pretrained/gm-notes.inverter`.

    nice -n 10 python scripts/train_inverter.py                    # 4 minutes on one CPU thread
    python scripts/train_inverter.py --minutes 20 --device cuda    # longer, on a GPU

It learns, on the training split of `gm-notes` (`split(test=0.05, seed=0)`: the held-out 5% stays unseen for the
docs and the benchmarks), to turn the default magnitude representation (`latentplay.spectral.DEFAULT_SPECTRAL`)
back into audio in one pass. At the end it scores held-out notes (their first second) against Griffin-Lim and
loudness-matched noise, stores the scores in the file's header (`info`), and writes the weights as float16.
"""
import argparse, json, time
from pathlib import Path

import torch

from latentplay.corpus import Corpus
from latentplay.spectral import fit_inverter, noise_floor, score_audio

ROOT = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--minutes', type=float, default=4.0, help='training budget (wall clock)')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--channels', type=int, default=128)
    ap.add_argument('--blocks', type=int, default=4)
    ap.add_argument('--held-out', type=int, default=24, help='held-out notes scored at the end')
    ap.add_argument('--out', default=str(ROOT / 'latentplay' / 'pretrained' / 'gm-notes.inverter'))
    ap.add_argument('--split', choices=('sound', 'grouped'), default='sound',
                    help="sound: as the shipped inverter; grouped: no held-out note has another velocity of itself in training")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    notes = Corpus.builtin('gm-notes', sr=22050)
    train, test = notes.split(test=0.05, seed=0, group='auto' if a.split == 'grouped' else None)
    t0 = time.time()
    inv = fit_inverter(train, minutes=a.minutes, channels=a.channels, blocks=a.blocks, seed=0, device=a.device)
    inv = inv.cpu()
    held = [s.audio[:22050] for s in test][:a.held_out]
    sp = inv.spectral
    scores = {'inverter': score_audio(held, lambda x: inv.to_audio(sp(x), len(x))),
              'griffin_lim_32': score_audio(held, lambda x: sp.griffin_lim(sp(x), 32, length=len(x))),
              'noise': score_audio(held, noise_floor)}
    inv.info.update(held_out={k: {m: round(v, 4) for m, v in s.items() if m != 'ms'} for k, s in scores.items()},
                    held_out_notes=len(held), train_minutes=round((time.time() - t0) / 60, 2), device=a.device)
    path = inv.save(a.out, half=True)
    print(json.dumps(dict(file=str(path), bytes=path.stat().st_size, **inv.info), indent=1))


if __name__ == '__main__':
    main()
