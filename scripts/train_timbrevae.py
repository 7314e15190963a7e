"""Train a small loudness-agnostic timbre space (`TimbreVAE`) on the notes of one instrument of gm-notes (the corpus's
own held-out tenth left out, as bench/bench_timbrevae.py splits it), the way the shipped models are trained:
re-runnable, the same seed and steps give the same model on the same machine.

    nice -n 10 python scripts/train_timbrevae.py --half --out latentplay/pretrained/gm-flute-timbrevae.lp
    python scripts/train_timbrevae.py --instrument Violin --out build/violin-vae.lp [--steps 600] [--device cuda]
    torchrun --nproc_per_node 2 scripts/train_timbrevae.py --out ...        (data-parallel: the same model, faster)

It prints (JSON) the held-out resynthesis of the instrument's notes (lsd, sc), the R² of fresh regressors predicting
loudness from the latent on all held-out notes of gm-notes, and the loudness control (one point at -50...-10 dB).
"""
import argparse, json, sys, time
import numpy as np
import torch
from latentplay.corpus import Corpus
from latentplay.dsp import lsd, sc
from latentplay.features import loudness as measured_loudness
from latentplay.train import is_main
from latentplay.timbrevae import TimbreVAE, loudness_r2


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True, help='the model file to write (.lp)')
    ap.add_argument('--steps', type=int, default=600, help='training steps (default 600)')
    ap.add_argument('--instrument', default='Flute', help='the instrument of gm-notes to learn (default Flute)')
    ap.add_argument('--no-adversary', action='store_true', help='train without the loudness adversary')
    ap.add_argument('--device', default=None, help='cpu (default) or cuda')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--half', action='store_true', help='store the weights as float16')
    ap.add_argument('--split', choices=('sound', 'grouped'), default='sound',
                    help="sound: as the shipped models; grouped: no held-out note has another velocity of itself in training")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tr, te = Corpus.builtin('gm-notes', progress=False).split(test=0.1, seed=0, group='auto' if a.split == 'grouped' else None)
    train, held = tr.filter(instrument=a.instrument), te.filter(instrument=a.instrument)
    if not len(train): sys.exit(f"gm-notes has no instrument {a.instrument!r}")
    t0 = time.perf_counter()
    m = TimbreVAE.fit(train, max_steps=a.steps, adversary=not a.no_adversary, valid=held if len(held) else None, device=a.device,
                      seed=a.seed, progress=is_main(), validate_every=60)
    if not is_main(): return
    m = m.cpu().eval()
    m.save(a.out, half=a.half)
    pairs = [(s, m.resynthesize(s)) for s in held.sounds]
    pt = m.encode(held[0] if len(held) else train[0])
    pt = pt[len(pt) // 3].expand(43, -1)
    level = [round(float(measured_loudness(m.decode(pt, loudness=l).audio, n_fft=1024, hop_length=256)[8:-8].mean()), 1) for l in (-50, -40, -30, -20, -10)]
    print(json.dumps({'model': a.out, 'instrument': a.instrument, 'adversary': not a.no_adversary, 'steps': a.steps,
                      'minutes': round((time.perf_counter() - t0) / 60, 2), 'train_notes': len(train), 'held_notes': len(held),
                      'held_lsd': round(float(np.median([float(lsd(x, y)) for x, y in pairs])), 3) if pairs else None,
                      'held_sc': round(float(np.median([float(sc(x, y)) for x, y in pairs])), 3) if pairs else None,
                      'loudness_r2_all_held_out': {k: round(v, 3) if isinstance(v, float) else v for k, v in loudness_r2(m, te).items()},
                      'loudness_control_db': {'asked': [-50, -40, -30, -20, -10], 'measured': level}}, indent=1))


if __name__ == '__main__':
    main()
