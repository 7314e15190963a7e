"""Speed of the neural granular synthesizer on one CPU thread: real-time factors (seconds of audio per second of
compute, medians after a warm-up) of decode, encode and resynthesis, plus parameters and FLOPs per second of audio.
Prints JSON. Usage: python bench/bench_grains_speed.py [--model gm-drums | --model path.lp] [--seconds 10] [--repeats 7]"""
import argparse, json, time
import numpy as np
import torch

from latentplay.dsp import frame
from latentplay.granular import GrainModel
from latentplay.models import pretrained, pretrained_names, load_model
from latentplay.soundfont import render_note
from latentplay.sound import Sound


def median_time(f, repeats):
    f()                                                                   # warm-up
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def flops(f):
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as fc: f()
    return fc.get_total_flops()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--model', default='gm-drums', help="a pretrained name, a .lp file, or 'default' for an untrained default model")
    ap.add_argument('--seconds', type=float, default=10.0)
    ap.add_argument('--repeats', type=int, default=7)
    a = ap.parse_args()
    torch.set_num_threads(1)
    m = pretrained(a.model) if a.model in pretrained_names() else load_model(a.model) if a.model.endswith('.lp') else GrainModel()
    sr = m.sr
    T = int(a.seconds * sr) // m.hop_length
    z = m.prior(T, seed=0)
    secs = T * m.hop_length / sr
    note = Sound(np.resize(render_note(42, 48, hold=2.0, release=0.5, sr=sr), int(a.seconds * sr)).astype(np.float32), sr)
    t_dec = median_time(lambda: m.decode(z), a.repeats)
    t_enc = median_time(lambda: m.encode(note), a.repeats)
    t_res = median_time(lambda: m.resynthesize(note), a.repeats)
    z1 = m.prior(sr // m.hop_length, seed=0)                                       # one second of latents
    with torch.no_grad():
        f_dec = flops(lambda: m.render(z1)) / (len(z1) * m.hop_length / sr)
        f_enc = flops(lambda: m.encoder(frame(torch.from_numpy(note.audio[:sr]), m.frame_length, m.hop_length, center=True))) / 1.0
    n_grain = sum(p.numel() for mod in (m.encoder, m.decoder, m.synth) for p in mod.parameters())
    print(json.dumps({
        'benchmark': 'grains-speed', 'model': a.model if a.model in pretrained_names() or a.model.endswith('.lp') else 'default (untrained)',
        'grain_conditioning': m.grain_conditioning,
        'unit': 'real-time factor: seconds of audio per second of compute, 1 CPU thread, median',
        'sr': sr, 'frame_length': m.frame_length, 'hop_length': m.hop_length, 'latent_dim': m.latent_dim, 'audio_seconds': round(secs, 2),
        'rtf_decode': round(secs / t_dec, 1), 'rtf_encode': round(a.seconds / t_enc, 1),
        'rtf_resynthesis': round(a.seconds / t_res, 1),
        'ms_per_audio_second_decode': round(1000 * t_dec / secs, 3),
        'parameters_total': sum(p.numel() for p in m.parameters()), 'parameters_grain_level': n_grain,
        'mflop_per_audio_second_decode_matmul_conv': round(f_dec / 1e6, 1),
        'mflop_per_audio_second_encode_matmul_conv': round(f_enc / 1e6, 1),
        'note': 'FLOPs count matrix products and convolutions (FlopCounterMode); FFTs are not counted',
        'torch': torch.__version__}))


if __name__ == '__main__': main()
