"""Models in Max and Pure Data: the nn~ file is checked the way nn~ uses it — loaded in a fresh process that imports
nothing but torch, its methods listed with their `*_params`, called with buffers of 4096, 512 and 2048 samples
`[batch, channels, time]`, its attributes set through their `<name>_params` types — and compared with the Python
model: the stream equals the one-piece rendering (shifted by its latency), buffer after buffer."""
import json, os, subprocess, sys, textwrap

import numpy as np
import pytest
import torch

from latentplay.export import write_nn_tilde, nn_tilde_info, Resampler, Streaming
from latentplay.models import CapabilityError, require
from latentplay.sound import Sound

# Run by a fresh interpreter: torch alone, as nn~ (libtorch) sees the file. It plays every method in buffers of each
# size, as nn~ does (one input per `in_ratio`, outputs checked to hold `N` samples), sets each attribute from text as
# nn~'s `set` message does, and saves what it heard for the test process to compare.
NN_HOST = textwrap.dedent('''
    import sys, json, torch
    torch.set_num_threads(1)
    path, ins, out = sys.argv[1], torch.load(sys.argv[2]), sys.argv[3]
    m = torch.jit.load(path).eval()
    report = {'modules': sorted(k for k in sys.modules if k.split('.')[0] in ('latentplay', 'fastcore', 'librosa'))}
    methods = list(m.get_methods())
    report['params'] = {k: getattr(m, k + '_params').tolist() for k in methods}
    report['labels'] = {k: [len(getattr(m, k + '_input_labels')), len(getattr(m, k + '_output_labels'))] for k in methods}
    heard = {}
    higher = max(max(p[1], p[3]) for p in report['params'].values())         # nn~'s buffer is at least the largest ratio
    with torch.inference_mode():
        for N in (max(n, higher) for n in (4096, 512, 2048)):
            for name in methods:
                cin, rin, cout, rout = report['params'][name]
                x = ins['latents'] if name == 'decode' else ins['audio']          # [1, cin, T * rin]: one value per rin samples
                m.reset(1)
                outs = []
                for i in range(0, x.shape[-1], N // rin):
                    y = getattr(m, name)(x[:, :, i: i + N // rin])
                    assert y.dim() == 3 and y.shape[:2] == (1, cout) and y.shape[-1] * rout == N, (name, N, tuple(y.shape))
                    assert y.dtype == torch.float32
                    outs.append(y)
                heard[f'{name}{N}'] = torch.cat(outs, -1)
            m.reset(1)
            heard[f'silence{N}'] = torch.cat([m.forward(torch.zeros(1, 1, N)) for _ in range(4)], -1)
            m.reset(2)
            heard[f'batch{N}'] = m.forward(torch.zeros(2, 1, N))                   # mc.nn~: channels as a batch
    attrs = {}
    for a in m.get_attributes():
        types = getattr(m, a + '_params').tolist()
        value = [False, 3, 0.5, ''][types[0]]                                  # nn~ parses `set <name> <text>` by these types
        ok = getattr(m, 'set_' + a)(value)
        attrs[a] = [types, ok, getattr(m, 'get_' + a)()]
    report['attributes'] = attrs
    report['sample_rate'] = [m.set_sample_rate(48000), m.get_sample_rate()]
    torch.save(heard, out)
    print(json.dumps(report))
''')


def _nn_host(tmp_path, path, audio, latents):
    "What a torch-only process hears from the file `path` (see `NN_HOST`), and its report."
    torch.save({'audio': audio, 'latents': latents}, tmp_path / 'ins.pt')
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    r = subprocess.run([sys.executable, '-c', NN_HOST, str(path), str(tmp_path / 'ins.pt'), str(tmp_path / 'out.pt')],
                       capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1]), torch.load(tmp_path / 'out.pt')


@pytest.fixture(scope='module')
def hits(gm_drums):
    "Drum hits one after the other, 8192 * 5 samples (3.7 s) at 22050 Hz."
    a = np.concatenate([s.audio for s in gm_drums.sounds[::23]])[: 8192 * 5]
    return Sound(a, 22050)


def test_nn_tilde_file_in_a_torch_only_process(drums, hits, tmp_path):
    path = drums.export(tmp_path / 'gm-drums.ts')
    x = torch.from_numpy(hits.audio)
    z = drums.encode(hits)[: len(x) // drums.hop_length]                     # [T, 64], the Python model's latents
    c = torch.randn(len(z), 64, generator=torch.Generator().manual_seed(0))  # coordinates along the principal axes
    report, heard = _nn_host(tmp_path, path, x[None, None], c.T[None].contiguous())
    assert report['modules'] == []                                          # nothing of latentplay was needed
    assert report['params'] == {'encode': [1, 1, 64, 512], 'decode': [64, 512, 1, 1], 'forward': [1, 1, 1, 1]}
    assert report['labels'] == {'encode': [1, 64], 'decode': [64, 1], 'forward': [1, 1]}
    # every buffer size gives the same stream: consecutive buffers join without a seam
    for name in ('encode', 'decode', 'forward'):                            # (coordinates of the weakest axes: float rounding / 1e-3)
        for N in (512, 2048):
            torch.testing.assert_close(heard[f'{name}{N}'], heard[f'{name}4096'], atol=1e-3 if name == 'encode' else 2e-5, rtol=0)
    # ... and it is the Python model's rendering, shifted by the stream's latency (nothing of the first grain's
    # pre-roll is compared: the stream hears silence before its first buffer)
    st = drums.streaming()
    lat = st.latency()
    c2z = lambda c: st.lat_mean + (c * st.lat_scales) @ st.lat_back       # coordinates along the principal axes -> latents
    zs = c2z(heard['encode4096'][0].T)
    torch.testing.assert_close(zs[1:], z[: len(zs) - 1], atol=1e-4, rtol=1e-4)
    one = torch.from_numpy(drums.decode(c2z(c)).audio)
    d, y = lat['decode'], heard['decode4096'][0, 0]
    torch.testing.assert_close(y[d + 64:], one[64: len(y) - d], atol=1e-5, rtol=0)
    res = torch.from_numpy(drums.decode(drums.encode(hits)).audio)
    f, yf = lat['forward'], heard['forward4096'][0, 0]
    torch.testing.assert_close(yf[f + 2048:], res[2048: len(yf) - f], atol=1e-4, rtol=0)
    # no click where buffers meet: the largest sample-to-sample step at a seam is an ordinary step of the sound
    steps = yf.diff().abs()
    seams = steps[4095::4096][:-1]
    assert seams.max() <= steps.quantile(0.999)
    # silence in, silence out (the post-filter's DC offset is about -100 dBFS), on every channel of a batch
    for N in (512, 2048, 4096):
        assert heard[f'silence{N}'].abs().max() < 1e-4
        assert heard[f'batch{N}'].shape == (2, 1, N) and heard[f'batch{N}'].abs().max() < 1e-4
    expected = {'seed': [[1], 0, 3], 'gate': [[0], 0, False]}
    if 'label' in drums.decode_conditions: expected['label'] = [[3], 0, '']     # the class steers decoding: nn~ sets it
    assert report['attributes'] == expected
    assert report['sample_rate'] == [0, 48000]


def test_nn_tilde_at_another_host_rate(drums, hits, tmp_path):
    """At 44100 Hz a model at 22050 Hz has one latent per 1024 host samples; decode is the model-rate stream through
    the resampler (exactly), and any buffer size gives the same stream; at 48000 Hz too (one latent per 1024, steps
    taken at their moments)."""
    x = torch.from_numpy(hits.resample(44100).audio)[: 8192 * 10]
    z = torch.randn(40, 64, generator=torch.Generator().manual_seed(3))     # coordinates along the principal axes
    path = drums.export(tmp_path / 'd44.ts', sr=44100)
    info = nn_tilde_info(path)
    assert (info['host_sr'], info['host_hop'], info['kind']) == (44100, 1024, 'grains')
    report, heard = _nn_host(tmp_path, path, x[None, None], z.T[None].contiguous())
    assert report['params']['decode'] == [64, 1024, 1, 1]
    for name in ('encode', 'decode', 'forward'):
        for N in (1024, 2048):                                                # nn~ plays a 512 buffer as 1024 here
            torch.testing.assert_close(heard[f'{name}{N}'], heard[f'{name}4096'], atol=1e-3 if name == 'encode' else 2e-5, rtol=0)
    st = drums.streaming()                                                    # the same latents at the model's rate
    y0 = torch.cat([st.stream_decode(z.T[None, :, i: i + 8]) for i in range(0, 40, 8)], -1)[0]
    ref = torch.cat([torch.zeros(1, 2), Resampler(22050, 44100)(y0)], -1)[0]
    y = heard['decode4096'][0, 0]
    torch.testing.assert_close(y, ref[: len(y)], atol=1e-5, rtol=0)
    for N in (1024, 2048, 4096): assert heard[f'silence{N}'].abs().max() < 1e-4
    # 48 kHz: steps of 1114.6 host samples shown as one latent per 1024; the stream keeps its shape and its spectrum
    path48 = drums.export(tmp_path / 'd48.ts', sr=48000)
    report, heard = _nn_host(tmp_path, path48, torch.from_numpy(hits.resample(48000).audio)[None, None, : 8192 * 10],
                             torch.zeros(1, 64, 80))
    for name in ('encode', 'forward'):
        torch.testing.assert_close(heard[f'{name}2048'], heard[f'{name}4096'], atol=1e-3 if name == 'encode' else 2e-5, rtol=0)
    def spectrum(a, sr):                                                      # power density in 1/3 octaves, dB
        P = np.abs(np.fft.rfft(a)) ** 2 / (len(a) * sr); fr = np.fft.rfftfreq(len(a), 1 / sr)
        edges = 125 * 2 ** (np.arange(0, 19) / 3)                             # 125 Hz .. 8 kHz
        return np.array([10 * np.log10(P[(fr >= lo) & (fr < hi)].mean() + 1e-12) for lo, hi in zip(edges[:-1], edges[1:])])
    ref = spectrum(drums.resynthesize(hits).audio[: 8192 * 10 * 22050 // 48000], 22050)
    got = spectrum(heard['forward4096'][0, 0].numpy(), 48000)
    assert np.median(np.abs(got - ref)) < 1.5, np.round(got - ref, 1)


def test_export_refuses(drums, bare, gm_drums, tmp_path):
    from latentplay.catart import StoredGrains
    sg = StoredGrains.fit(gm_drums.filter(label=['kick', 'snare']), max_grains=200, progress=False)
    with pytest.raises(CapabilityError, match=r"cannot be exported for nn~ or streamed, because it has no `streaming`"):
        sg.export(tmp_path / 'sg.ts')
    with pytest.raises(CapabilityError, match='no `streaming`'): require(bare, 'stream')
    with pytest.raises(ValueError, match="unknown export format 'vst'"): drums.export(tmp_path / 'd.vst', format='vst')
    # never over a model file, a user's sound or a TorchScript file latentplay did not write; nothing left behind
    drums.save(tmp_path / 'drums.lp')
    Sound(np.zeros(100, np.float32), 22050).save(tmp_path / 'take1.wav')
    (tmp_path / 'rave.ts').write_bytes(b'a RAVE model, say')
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(ValueError, match='nn~ loads .ts files'): drums.export(tmp_path / 'drums.lp')
    with pytest.raises(ValueError, match='nn~ loads .ts files'): drums.export(tmp_path / 'take1.wav')
    with pytest.raises(ValueError, match='not a file latentplay wrote for nn~'): drums.export(tmp_path / 'rave.ts')
    (tmp_path / 'dir.ts').mkdir()
    with pytest.raises(IsADirectoryError): drums.export(tmp_path / 'dir.ts')
    (tmp_path / 'dir.ts').rmdir()
    with pytest.raises(ValueError, match='sr must be'): drums.export(tmp_path / 'x.ts', sr=10**9)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    # our own file is replaced whole (a temporary file, then a rename)
    p = drums.export(tmp_path / 'd.ts'); first = p.read_bytes()
    drums.export(tmp_path / 'd.ts', sr=44100)
    assert p.read_bytes() != first and nn_tilde_info(p)['host_sr'] == 44100
    assert sorted(q.name for q in tmp_path.iterdir() if q.name.startswith('.')) == []
    with pytest.raises(ValueError, match='not a file that latentplay wrote'): nn_tilde_info(tmp_path / 'rave.ts')
    # a module that does not compile leaves the old file as it was
    class Untyped(Streaming):
        def stream_encode(self, x): return torch.from_numpy(np.zeros((1, 2, 1)))   # numpy: not TorchScript
    with pytest.raises(RuntimeError, match="from_numpy"): write_nn_tilde(Untyped(22050, 512, 2), p)
    assert nn_tilde_info(p)['host_sr'] == 44100 and not [q for q in tmp_path.iterdir() if q.name.startswith('.')]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")   # torch.jit.load: nn~ reads TorchScript only
def test_label_attribute_of_a_conditioned_model(tmp_path):
    "A model whose grains follow the label takes `set label kick:0.7+snare:0.3`; an unknown label is refused (-1)."
    from conftest import tiny_grain_model
    m = tiny_grain_model(16000, grain_conditioning=True)
    f = torch.jit.load(str(m.export(tmp_path / 't.ts')))
    assert list(f.get_attributes()) == ['seed', 'gate', 'label'] and f.label_params.tolist() == [3]
    z = m.prior(8, seed=0)
    c = ((z - m.latent_mean) @ m.latent_axes.T) / m.latent_scales          # its coordinates along the principal axes
    assert f.set_label('kick') == 0 and f.get_label() == 'kick'
    f.reset(1); kick = f.decode(c.T[None].contiguous())[0, 0]
    one, d = torch.from_numpy(m.decode(z, label='kick').audio), m.streaming().latency()['decode']
    torch.testing.assert_close(kick[d + 64:], one[64: len(kick) - d], atol=1e-5, rtol=0)
    assert f.set_label('kick:0.7+snare:0.3') == 0
    torch.testing.assert_close(f.weights, torch.tensor([0.7, 0.3]))
    for bad in ('violin', 'kick:-1', 'kick:nan', 'kick:1:2', 'kick:0'):
        assert f.set_label(bad) == -1, bad
    assert f.get_label() == 'kick:0.7+snare:0.3'


def test_patches_fit_the_exported_model(drums, tmp_path):
    """The ready patches name the three methods of the shipped model, and every patch cord joins existing objects at
    outlets and inlets they have: 64 from `encode` to `decode`, as many as the file's `*_params` say."""
    from pathlib import Path
    root = Path(__file__).parent.parent / 'patches'
    p = nn_tilde_info(drums.export(tmp_path / 'gm-drums.ts'))['methods']
    d = p['encode'][2]
    assert p['decode'][0] == d == 64
    # Max: JSON, boxes and patch cords
    pat = json.loads((root / 'latentplay_nn.maxpat').read_text())['patcher']
    boxes = {b['box']['id']: b['box'] for b in pat['boxes']}
    nn = {b['text'].split()[2]: b for b in boxes.values() if b.get('text', '').startswith('nn~ gm-drums ')}
    assert set(nn) == {'encode', 'decode', 'forward'}
    assert (nn['encode']['numinlets'], nn['encode']['numoutlets']) == (p['encode'][0], d)
    assert (nn['decode']['numinlets'], nn['decode']['numoutlets']) == (d, p['decode'][2])
    cords = [(l['patchline']['source'], l['patchline']['destination']) for l in pat['lines']]
    for (a, o), (b, i) in cords:
        assert o < boxes[a]['numoutlets'] and i < boxes[b]['numinlets'], (a, o, b, i)
    enc_dec = {(o, i) for (a, o), (b, i) in cords if a == nn['encode']['id'] and b == nn['decode']['id']}
    assert enc_dec == {(k, k) for k in range(1, d)}                          # outlet 0 goes through the `+~` bias
    assert any(b.get('maxclass') == 'ezdac~' for b in boxes.values())
    # Pd: one object per `#X obj|msg|text|floatatom` line, cords by index
    lines = [l.rstrip(';') for l in (root / 'latentplay_nn.pd').read_text().splitlines()[1:]]
    objs = [l.split() for l in lines if not l.startswith('#X connect')]
    assert all(o[1] in ('obj', 'msg', 'text', 'floatatom') for o in objs)
    names = {' '.join(o[4:7]): k for k, o in enumerate(objs) if o[1] == 'obj' and o[4] == 'nn~'}
    assert set(names) == {'nn~ gm-drums encode', 'nn~ gm-drums decode', 'nn~ gm-drums forward'}
    conns = [tuple(map(int, l.split()[2:])) for l in lines if l.startswith('#X connect')]
    assert all(a < len(objs) and b < len(objs) for a, _, b, _ in conns)
    e, dd = names['nn~ gm-drums encode'], names['nn~ gm-drums decode']
    assert {(o, i) for a, o, b, i in conns if (a, b) == (e, dd)} == {(k, k) for k in range(1, d)}
    assert any(o[1] == 'obj' and o[4] == 'dac~' for o in objs)


@pytest.mark.filterwarnings('ignore::DeprecationWarning')
def test_nan_from_the_patch_does_not_stay_in_the_stream(drums, tmp_path):
    "A buffer holding NaN or infinity (a division by zero elsewhere in the patch) plays as if it held 0 there; later buffers are clean."
    f = torch.jit.load(str(drums.export(tmp_path / 'd.ts', sr=44100)))
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, 4096 * 4, generator=g) * 0.1
    bad = x.clone(); bad[0, 0, 100] = float('nan'); bad[0, 0, 200] = float('inf')
    zero = x.clone(); zero[0, 0, 100] = 0; zero[0, 0, 200] = 0
    for method, a, b in [('forward', bad, zero), ('encode', bad, zero),
                         ('decode', torch.full((1, 64, 16), float('nan')), torch.zeros(1, 64, 16))]:
        n = a.shape[-1] // 4
        outs = []
        for inp in (a, b):
            f.reset(1)
            with torch.inference_mode(): outs.append(torch.cat([getattr(f, method)(inp[..., i: i + n]) for i in range(0, inp.shape[-1], n)], -1))
        assert torch.isfinite(outs[0]).all(), method
        torch.testing.assert_close(outs[0], outs[1], atol=0, rtol=0)


def test_cli_export(tmp_path):
    "`latentplay export MODEL --nn-tilde OUT.ts`: one JSON line saying what the file holds; a sound file is never written."
    import json, subprocess, sys
    run = lambda *args: subprocess.run([sys.executable, '-m', 'latentplay.cli', *args], capture_output=True, text=True, cwd=tmp_path)
    r = run('export', 'pretrained:gm-drums', '--nn-tilde', 'd.ts', '--sr', '44100')
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out['host_sr'] == 44100 and out['methods']['decode'] == [64, 1024, 1, 1] and (tmp_path / 'd.ts').is_file()
    (tmp_path / 'take.wav').write_bytes(b'RIFF')
    r = run('export', 'pretrained:gm-drums', '--nn-tilde', 'take.wav')
    assert r.returncode == 2 and 'nn~ loads .ts files' in r.stderr and (tmp_path / 'take.wav').read_bytes() == b'RIFF'
    r = run('export', 'pretrained:gm-drums', '--nn-tilde', 'x.ts', '--sr', 'fast')
    assert r.returncode == 2 and '--sr must be a number' in r.stderr
