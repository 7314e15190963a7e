"""Speed of the neural granular synthesizer on one CPU thread: real-time factors (seconds of audio per second of
compute, medians after a warm-up) of decode, encode and resynthesis, plus parameters and FLOPs per second of audio.
With `--parts`, where a decode's time goes: the decoder network layer by layer, `get_controls`, the noise rows, the
filtering, the grains' inverse FFT, the windowed overlap-add and the post-filter, each as a share of the decode.
With `--against OTHER`, a second model (a trimmed one) measured side by side, round after round so that a busy
machine slows both alike: the decode and network speed-ups, and the Amdahl ceiling of the decode speed-up that the
synthesizer, which trimming leaves as it is, allows. Times are medians of wall time and of the thread's own CPU time
(the latter barely moves when other processes share the cores). Prints JSON.
Usage: python bench/bench_grains_speed.py [--model gm-drums | --model path.lp] [--seconds 10] [--repeats 7]
       python bench/bench_grains_speed.py --model gm-drums --against gm-drums-small --parts --repeats 21
       python bench/bench_grains_speed.py --model gm-drums --against gm-drums-small --post-channels 1 0 --lsd gm-drums
       python bench/bench_grains_speed.py --model gm-drums --against control.lp gm-drums-small --lsd gm-drums   # several
       git show HEAD:latentplay/dsp.py > /tmp/dsp_before.py   # then, the synthesizer before and after a change:
       python bench/bench_grains_speed.py --model gm-drums --against gm-drums-small --before /tmp/dsp_before.py"""
import argparse, json, os, statistics, time
import numpy as np
import torch

from latentplay.dsp import frame, _filtered, _windowed_sum, _grain_window
from latentplay.granular import GrainModel, _embed_conditions
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


def load(name):
    return pretrained(name) if name in pretrained_names() else load_model(name) if name.endswith('.lp') else GrainModel()


def label(name): return name if name in pretrained_names() or name.endswith('.lp') else 'default (untrained)'


def pieces(m, z) -> dict:
    """One decode of latents `z` cut into its steps, each a function of the step before's output (computed once here):
    name -> callable. The steps are those `GrainModel._decode_w` and `NoiseGrainSynth.get_signal` run, in order."""
    s, d = m.synth, m.decoder
    w = m.condition_vector() if m.grain_conditioning else None
    W, H, T = s.frame_length, s.hop_length, len(z)
    out = {}
    c = _embed_conditions(d.label, d.pitch, w, d.n_labels)
    if c is not None: out['network: conditions'] = lambda: torch.cat([z, _embed_conditions(d.label, d.pitch, w, d.n_labels).expand(T, -1)], -1)
    x = z if c is None else torch.cat([z, c.expand(T, -1)], -1)
    for i, layer in enumerate(d.net):
        kind = type(layer).__name__
        shape = f"{layer.in_features}->{layer.out_features}" if kind == 'Linear' else str(x.shape[-1])
        out[f'network: {i} {kind} {shape}'] = (lambda l, v: lambda: l(v))(layer, x)
        x = layer(x)
    out['get_controls (exp_sigmoid)'] = lambda: s.get_controls(x)
    ctl = s.get_controls(x)
    if getattr(s, '_inv7', None) is not None:         # the fixed noise read in runs, multiplied by the magnitudes (`grain_signal`)
        out['synth: filter (noise table x magnitudes)'] = lambda: s._noise_filtered(ctl, 0, 0)
        spec = s._noise_filtered(ctl, 0, 0)
    else:
        out['synth: noise rows'] = lambda: s.noise_rows(0, T)
        rows = s.noise_rows(0, T)
        out['synth: filter (noise x magnitudes)'] = lambda: _filtered(rows, ctl)
        spec = _filtered(rows, ctl)
    out['synth: grains inverse FFT'] = lambda: torch.fft.irfft(spec, n=W)
    g = torch.fft.irfft(spec, n=W)
    win = _grain_window(W, H, str(g.device))
    out['synth: window + overlap-add'] = lambda: _windowed_sum(g, H, win)
    y = _windowed_sum(g, H, win)[W // 2: W // 2 + T * H]
    out['synth: post-filter'] = lambda: s.post(y)
    return out


def timed(fns:dict, repeats:int) -> dict:
    "Median wall and thread-CPU milliseconds of each callable, all measured in turn, `repeats` rounds after a warm-up."
    for f in fns.values(): f()
    wall, cpu = {k: [] for k in fns}, {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            t, c = time.perf_counter(), time.thread_time(); f()
            cpu[k].append(time.thread_time() - c); wall[k].append(time.perf_counter() - t)
    return {k: {'wall_ms': 1e3 * statistics.median(wall[k]), 'cpu_ms': 1e3 * statistics.median(cpu[k])} for k in fns}


def breakdown(m, z, repeats:int) -> dict:
    "Each step's median time and share of one decode (thread-CPU time); the rest (checks, copies, slicing) as 'other'."
    with torch.no_grad():
        fns = {'decode': lambda: m.decode(z), **pieces(m, torch.as_tensor(z).float())}
        t = timed(fns, repeats)
    dec = t['decode']['cpu_ms']
    parts = {k: {'cpu_ms': round(v['cpu_ms'], 3), 'wall_ms': round(v['wall_ms'], 3), 'share': round(v['cpu_ms'] / dec, 3)}
             for k, v in t.items() if k != 'decode'}
    net = sum(v['cpu_ms'] for k, v in parts.items() if k.startswith('network'))
    synth = sum(v['cpu_ms'] for k, v in parts.items() if not k.startswith('network'))
    return {'decode_cpu_ms': round(dec, 3), 'decode_wall_ms': round(t['decode']['wall_ms'], 3), 'parts': parts,
            'network_cpu_ms': round(net, 3), 'synth_cpu_ms': round(synth, 3), 'other_cpu_ms': round(dec - net - synth, 3),
            'shares': {'network': round(net / dec, 3), 'synth (get_controls to post-filter)': round(synth / dec, 3),
                       'other': round(1 - (net + synth) / dec, 3)}}


def side_by_side(models:dict, zs:dict, repeats:int) -> dict:
    "Decode and network (`controls`) of each model, measured in turn round after round: medians, and each model's speed-ups over the first."
    fns = {}
    for k, m in models.items():
        fns[f'{k} decode'] = (lambda m, z: lambda: m.decode(z))(m, zs[k])
        fns[f'{k} network'] = (lambda m, z: lambda: m.controls(z))(m, zs[k])
    with torch.no_grad(): t = timed(fns, repeats)
    ref, *others = models
    out = {k: {'decode': {u: round(v, 3) for u, v in t[f'{k} decode'].items()},
               'network': {u: round(v, 3) for u, v in t[f'{k} network'].items()}} for k in models}
    for k in others:
        for unit in ('cpu_ms', 'wall_ms'):
            out[k][f'decode_speedup_{unit[:-3]}'] = round(t[f'{ref} decode'][unit] / t[f'{k} decode'][unit], 3)
            out[k][f'network_speedup_{unit[:-3]}'] = round(t[f'{ref} network'][unit] / t[f'{k} network'][unit], 3)
    return out


def strongest_post_channels(m, k:int):
    """A copy of `m` whose post-filter keeps its `k` strongest channels (|mix weight| x |FIR taps|), the others removed
    (k = 0: no post-filter): a different synthesizer, not a faster implementation of the same one, so its quality must
    be measured (`--lsd`)."""
    import copy
    from latentplay.dsp import PostFIR
    m = copy.deepcopy(m)
    p = m.synth.post
    idx = (p.mix.weight[0, :, 0].abs() * p.fir.weight[:, 0].norm(dim=-1)).argsort(descending=True)[:k].sort().values
    if not k:
        m.synth.post = PostFIR(0).to(p.mix.weight.device)             # no post-filter (the identity), as `fir_channels=0` builds it
        return m
    q = PostFIR(k, p.fir.kernel_size[0])
    with torch.no_grad():
        q.mix.bias.copy_(p.mix.bias); q.fir.weight.copy_(p.fir.weight[idx]); q.fir.bias.copy_(p.fir.bias[idx]); q.mix.weight.copy_(p.mix.weight[:, idx])
    m.synth.post = q.to(p.mix.weight.device)
    return m


def held_out_lsd(models:dict, corpus:str) -> dict:
    "Median lsd (dB) of each model's resynthesis of the held-out hits of a built-in corpus (the shipped models' split: test=0.1, seed=0)."
    import latentplay as lp
    from latentplay.dsp import lsd
    test = lp.Corpus.builtin(corpus, progress=False).split(test=0.1, seed=0)[1]
    return {k: round(statistics.median(float(lsd(s, m.resynthesize(s))) for s in test.sounds), 3) for k, m in models.items()} | {'sounds': len(test)}


def before_after(models:dict, zs:dict, path:str, repeats:int) -> dict:
    """Each model decoded by the synthesizer of an earlier `latentplay/dsp.py` (e.g. `git show HEAD:latentplay/dsp.py > old.py`)
    and by the current one: the largest difference relative to the peak (several latent paths and noise seeds), and
    both timed side by side, round after round."""
    import copy, importlib.util, sys
    spec = importlib.util.spec_from_file_location('latentplay._dsp_before', path)
    old = importlib.util.module_from_spec(spec); sys.modules[spec.name] = old; spec.loader.exec_module(old)
    olds = {}
    for k, m in models.items():
        o = copy.deepcopy(m)
        o.synth.__class__ = old.HarmonicNoiseSynth if type(m.synth).__name__ == 'HarmonicNoiseSynth' else old.NoiseGrainSynth
        if type(o.synth.post).__name__ == 'PostFIR': o.synth.post.__class__ = old.PostFIR
        olds[k] = o
    out = {'reference': path, 'max_abs_difference_over_peak': {}}
    for k, m in models.items():
        worst = 0.0
        for zseed in (0, 1):
            z = m.prior(len(zs[k]), seed=zseed)
            for seed in (0, 1, 7):
                a, b = olds[k].decode(z, seed=seed).audio, m.decode(z, seed=seed).audio
                worst = max(worst, float(np.abs(a - b).max() / max(np.abs(a).max(), 1e-12)))
        out['max_abs_difference_over_peak'][k] = worst
    fns = {f'{k} {v}': (lambda mm, z: lambda: mm.decode(z))(mm, zs[k]) for k in models for v, mm in (('before', olds[k]), ('after', models[k]))}
    with torch.no_grad(): t = timed(fns, repeats)
    out['decode'] = {k: {u: round(x, 3) for u, x in v.items()} for k, v in t.items()}
    for k in models:
        out[f'{k} speedup'] = {u: round(t[f'{k} before'][u] / t[f'{k} after'][u], 3) for u in ('cpu_ms', 'wall_ms')}
    if len(models) > 1:
        ref, *others = models
        for when in ('before', 'after'):
            out[f'ratio {when}'] = {k: {u: round(t[f'{ref} {when}'][u] / t[f'{k} {when}'][u], 3) for u in ('cpu_ms', 'wall_ms')} for k in others}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--model', default='gm-drums', help="a pretrained name, a .lp file, or 'default' for an untrained default model")
    ap.add_argument('--against', nargs='*', default=[], help='other models (a trimmed one, a control) measured side by side with --model')
    ap.add_argument('--parts', action='store_true', help="where a decode's time goes, step by step (both models with --against)")
    ap.add_argument('--post-channels', type=int, nargs='*', default=None,
                    help="also the last model with its post-filter cut to its K strongest channels (0: none), for each K given: another synthesizer")
    ap.add_argument('--lsd', default=None, help="also the held-out lsd of every model measured, on this built-in corpus (e.g. gm-drums)")
    ap.add_argument('--before', default=None, help="an earlier latentplay/dsp.py: its synthesizer against the current one (difference, speed)")
    ap.add_argument('--seconds', type=float, default=10.0)
    ap.add_argument('--repeats', type=int, default=7)
    a = ap.parse_args()
    torch.set_num_threads(1)
    m = load(a.model)
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
    out = {
        'benchmark': 'grains-speed', 'model': label(a.model),
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
        'torch': torch.__version__}
    models, zs = {label(a.model): m}, {label(a.model): z}
    for other in a.against:
        o = load(other)
        if (o.sr, o.hop_length) != (m.sr, m.hop_length): raise SystemExit('--against needs models of the same rate and hop')
        models[label(other)], zs[label(other)] = o, o.prior(T, seed=0)
    if a.post_channels is not None:
        base = list(models)[-1]
        for k in a.post_channels:
            models[f'{base} (post-filter: {k} channels)'], zs[f'{base} (post-filter: {k} channels)'] = strongest_post_channels(models[base], k), zs[base]
    if len(models) > 1:
        out['side_by_side'] = side_by_side(models, zs, max(a.repeats, 15))
        for k, t in out['side_by_side'].items():
            t['parameters'] = sum(p.numel() for p in models[k].parameters())
            t['frame_length'], t['post_channels'] = models[k].frame_length, models[k].synth.post.channels
            t['rtf_decode_wall'] = round(secs / (t['decode']['wall_ms'] / 1e3), 1)
            t['rtf_decode_cpu'] = round(secs / (t['decode']['cpu_ms'] / 1e3), 1)
    if a.parts:
        out['parts'] = {k: breakdown(mm, zs[k], max(a.repeats, 15)) for k, mm in models.items()}
        if len(models) > 1:
            big = out['parts'][label(a.model)]
            # Amdahl: the synthesizer (and the rest) does not shrink with the network; with a network of no cost at all,
            # the decode speed-up could not pass decode / (synth + other) of the big model
            fixed = big['synth_cpu_ms'] + big['other_cpu_ms']
            out['amdahl'] = {'fixed_part_of_big_decode': round(fixed / big['decode_cpu_ms'], 3),
                             'speedup_ceiling_network_free': round(big['decode_cpu_ms'] / fixed, 3),
                             **{k: {'speedup_from_parts': round(big['decode_cpu_ms'] / v['decode_cpu_ms'], 3),
                                    'network_speedup_from_parts': round(big['network_cpu_ms'] / v['network_cpu_ms'], 3)}
                                for k, v in out['parts'].items() if k != label(a.model)}}
    if a.lsd: out['held_out_lsd'] = held_out_lsd(models, a.lsd)
    if a.before: out['before_after'] = before_after({k: v for k, v in list(models.items())[:2]}, zs, a.before, max(a.repeats, 15))
    out['load_average'] = os.getloadavg()
    print(json.dumps(out, indent=1))


if __name__ == '__main__': main()
