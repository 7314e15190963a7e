"""Speed of a model exported for nn~, as nn~ calls it: the TorchScript file loaded with torch alone, one CPU thread,
inference mode, buffers of 4096, 2048 and 512 samples (at least the largest ratio, as nn~ makes them) fed one after
the other; per method the median time per buffer (after a warm-up), the buffer's duration, and their ratio (time per
buffer / buffer duration: below 1 keeps up with real time; nn~ needs well below). At the model's rate and at 44.1 kHz.
Prints JSON. Usage: python bench/bench_export.py [--model gm-drums] [--buffers 40] [--rates 22050,44100]"""
import argparse, json, tempfile, time
from pathlib import Path
import numpy as np
import torch

from latentplay.models import pretrained


def per_buffer(f, method, N, n, d, batch=1):
    "Median seconds per call of `method` over `n` consecutive buffers of `N` host samples (the first ones are a warm-up)."
    cin, rin, cout, rout = getattr(f, f'{method}_params').tolist()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, cin, N // rin, generator=g) * (0.1 if method != 'decode' else 1.0)
    call = getattr(f, method)
    f.reset(batch)
    ts = []
    with torch.inference_mode():
        for i in range(n + 5):
            t0 = time.perf_counter(); y = call(x); ts.append(time.perf_counter() - t0)
            assert y.shape[-1] * rout == N
    return float(np.median(ts[5:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--model', default='gm-drums')
    ap.add_argument('--buffers', type=int, default=40, help='buffers timed per method and size')
    ap.add_argument('--rates', default='22050,44100', help='host sample rates, comma-separated')
    a = ap.parse_args()
    torch.set_num_threads(1)
    m = pretrained(a.model)
    out = {'model': a.model, 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'hosts': {}}
    with tempfile.TemporaryDirectory() as d:
        for rate in map(int, a.rates.split(',')):
            path = m.export(Path(d) / f'{a.model}-{rate}.ts', sr=rate)
            f = torch.jit.load(str(path)).eval()
            higher = max(max(p[1], p[3]) for p in (getattr(f, f'{k}_params').tolist() for k in f.get_methods()))
            host = {}
            for N in sorted({max(n, higher) for n in (4096, 2048, 512)}, reverse=True):
                dur = N / rate
                for method in ('decode', 'encode', 'forward'):
                    t = per_buffer(f, method, N, a.buffers, m.latent_dim)
                    host[f'{method}_{N}'] = {'ms_per_buffer': round(1000 * t, 3), 'buffer_ms': round(1000 * dur, 2),
                                             'ratio': round(t / dur, 4)}
            out['hosts'][str(rate)] = host
    print(json.dumps(out, indent=1))


if __name__ == '__main__':
    main()
