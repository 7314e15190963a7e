"""Train the small pretrained violin timbre (`VQTimbre`) on the violin notes of gm-notes and gm-techniques (each
corpus's own held-out tenth left out, as bench/bench_vq.py splits them), the way the shipped models are trained:
re-runnable, the same seed and steps give the same model on the same machine.

    nice -n 10 python scripts/train_vq.py --half --out latentplay/pretrained/gm-violin-vq.lp   # the shipped one
    nice -n 10 python scripts/train_vq.py --half --decoder harmonic --out build/violin-harmonic.lp
    nice -n 10 python scripts/train_vq.py --half --instrument Flute --out latentplay/pretrained/gm-flute-vq.lp
    python scripts/train_vq.py --out build/violin.lp [--steps 600] [--device cuda]
    torchrun --nproc_per_node 2 scripts/train_vq.py --out ...        (data-parallel: the same model, faster)

It prints the held-out resynthesis (lsd, sc), the codebook's perplexity and usage on held-out frames, as JSON.
"""
import argparse, json, sys, time
from pathlib import Path
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'bench'))
from bench_vq import violins                                   # the one split, shared with the benchmark
from latentplay.dsp import lsd, sc
from latentplay.train import is_main
from latentplay.vq import VQTimbre, perplexity, usage


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True, help='the model file to write (.lp)')
    ap.add_argument('--steps', type=int, default=600, help='training steps (default 600)')
    ap.add_argument('--n-codes', type=int, default=256)
    ap.add_argument('--device', default=None, help='cpu (default) or cuda')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--half', action='store_true', help='store the weights as float16')
    ap.add_argument('--decoder', default='noise', choices=['noise', 'harmonic'], help="'noise' (default) or 'harmonic' (harmonics of the input's f0 beside the noise)")
    ap.add_argument('--instrument', default='Violin', help='the instrument of gm-notes/gm-techniques to learn (default Violin)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    train, held, *_ = violins(a.instrument)
    t0 = time.perf_counter()
    m = VQTimbre.fit(train, max_steps=a.steps, valid=held, device=a.device, seed=a.seed, n_codes=a.n_codes,
                     decoder=a.decoder, progress=is_main(), validate_every=60)
    if not is_main(): return
    m = m.cpu().eval()
    m.save(a.out, half=a.half)
    pairs = [(s, m.resynthesize(s)) for s in held.sounds]
    idx = torch.cat([m.codes(s) for s in held.sounds])
    print(json.dumps({'model': a.out, 'instrument': a.instrument, 'decoder': a.decoder, 'steps': a.steps, 'minutes': round((time.perf_counter() - t0) / 60, 2),
                      'train_notes': len(train), 'held_notes': len(held),
                      'held_lsd': round(float(np.median([float(lsd(x, y)) for x, y in pairs])), 3),
                      'held_sc': round(float(np.median([float(sc(x, y)) for x, y in pairs])), 3),
                      'held_perplexity': round(float(perplexity(idx, m.n_codes)), 1), 'held_usage': round(float(usage(idx, m.n_codes)), 3),
                      'size_mb': round(Path(a.out).stat().st_size / 1e6, 2)}))


if __name__ == '__main__': main()
