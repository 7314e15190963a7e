"""Hostile checkpoints and careless calls on models: special files, damaged or lying headers, sizes taken on trust from a
file or an argument, NaN weights, and messages that must say what is actually wrong. Every case runs in a fresh Python
under a time limit and a memory cap (tests/hostile.py), so a hang or an allocation of gigabytes fails one test instead
of the run. A case makes several checks of one class and prints one `REFUSED ...` or `OK ...` line per check."""
import json, os, sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).parent))
from hostile import REFUSE, run_py

from latentplay.train import write_checkpoint


def outcomes(r) -> list[tuple[str, str]]:
    "Every `REFUSED <types>: <message>` / `OK <repr>` line of a case, as (types or 'OK', message); the case must end cleanly."
    assert r.returncode == 0, f"exit status {r.returncode}; stderr:\n{r.stderr[-3000:]}"
    out = []
    for l in r.stdout.splitlines():
        if l.startswith('REFUSED '):
            kind, _, msg = l[len('REFUSED '):].partition(': ')
            out.append((kind, msg))
        elif l.startswith('OK '): out.append(('OK', l[3:]))
    return out


def check(got, expected):
    "Each outcome against `(exception type or 'OK', words...)`; messages must be short (a file's strings are cut)."
    assert len(got) == len(expected), f"{len(got)} outcomes for {len(expected)} checks:\n" + '\n'.join(map(str, got))
    for i, ((kind, msg), (want, *words)) in enumerate(zip(got, expected)):
        assert want == 'OK' and kind == 'OK' or want in kind.split('|'), f"check {i}: {kind}: {msg}, expected {want}"
        assert len(msg) < 600, f"check {i}: a message of {len(msg)} characters: {msg[:300]}..."
        for w in words: assert w.lower() in msg.lower(), f"check {i}: {w!r} not in {msg}"


def case(*lines: str, **kw):
    "Run the checks (`refuse(lambda: ...)` lines) after importing latentplay, in a fresh capped Python."
    return outcomes(run_py(REFUSE + "import warnings; warnings.simplefilter('ignore')\nimport numpy as np, torch\n"
                           "import latentplay as lp\nfrom latentplay.models import load_model\n"
                           "from latentplay.train import checkpoint_info\n" + '\n'.join(lines), **kw))


def _grains_meta(**config) -> dict:
    from latentplay.granular import GrainModel
    base = GrainModel(sr=16000, latent_dim=4, hidden=8, n_mels=8, embed_dim=4, rnn_hidden=8, seq_seconds=0.2).config()
    return {'kind': 'grains', 'config': {**base, **config}, 'sr': 16000, 'labels': [], 'info': {}}


def _raw(path, text):
    "A safetensors file whose latentplay header is the text given, unchecked."
    save_file({'x': torch.zeros(2)}, str(path), metadata={'latentplay': text})
    return path


# ---------------------------------------------------------------------------------------------------------- files
@pytest.mark.skipif(not hasattr(os, 'mkfifo'), reason='needs named pipes')
def test_special_files_never_hang(tmp_path):
    "A pipe, a link to a device and a folder named .lp: refused at once by load_model and checkpoint_info."
    os.mkfifo(tmp_path / 'pipe.lp')
    (tmp_path / 'zero.lp').symlink_to('/dev/zero')
    (tmp_path / 'dir.lp').mkdir()
    lines = [f"refuse(lambda: {f}({str(tmp_path / n)!r}))" for n in ('pipe.lp', 'zero.lp', 'dir.lp')
             for f in ('load_model', 'checkpoint_info')]
    check(case(*lines, timeout=60), [('CheckpointError', 'not a regular file')] * 4 + [('CheckpointError', 'folder')] * 2)


@pytest.fixture
def hostile_headers(tmp_path):
    "Checkpoints whose latentplay header lies about its shape or types: (file, words expected in the refusal)."
    files = {
        'list.lp': (_raw(tmp_path / 'list.lp', '[1, 2, 3]'), 'not a JSON object'),
        'deep.lp': (_raw(tmp_path / 'deep.lp', '[' * 100_000 + ']' * 100_000), 'nested too deep'),
        'deep-config.lp': (_raw(tmp_path / 'deep-config.lp', '{"kind": "grains", "config": ' + '{"a":' * 100_000 + '1'
                                + '}' * 100_001), 'nested too deep'),
        'huge-kind.lp': (_raw(tmp_path / 'huge-kind.lp', json.dumps({'kind': 'x' * 10**6})), 'kind must be a short name'),
        'kind-number.lp': (_raw(tmp_path / 'kind-number.lp', json.dumps({'kind': 5})), 'kind must be a short name'),
        'format-text.lp': (_raw(tmp_path / 'format-text.lp', json.dumps({'kind': 'grains', 'format': '1'})), 'format'),
        'huge-header.lp': (_raw(tmp_path / 'huge-header.lp', json.dumps({'kind': 'grains', 'pad': 'x' * 20 * 2**20})), 'MB long'),
    }
    for name, meta, words in [('no-config.lp', {'kind': 'grains', 'sr': 16000}, 'no model config'),
                              ('config-text.lp', {'kind': 'grains', 'config': 'hidden=64'}, 'no model config'),
                              ('unexpected.lp', _grains_meta(colour='red'), "unexpected keyword argument 'colour'"),
                              ('latent-text.lp', _grains_meta(latent_dim='64'), "latent_dim must be a number, got '64'"),
                              ('labels-number.lp', _grains_meta(labels=5), 'labels must be a list'),
                              ('labels-huge.lp', _grains_meta(labels=['x' * 10**6]), 'at most 200 characters'),
                              ('names-list.lp', {'kind': 'stored-grains', 'config': {'names': [['loudness']]}}, 'names must be')]:
        files[name] = (write_checkpoint(tmp_path / name, {}, meta), words)
    return files


def test_hostile_headers_are_refused_as_damaged(hostile_headers):
    "Each lying header is a CheckpointError (a ValueError) that says what is wrong, from load_model and from checkpoint_info."
    lines = [f"refuse(lambda: load_model({str(path)!r}))" for path, _ in hostile_headers.values()]
    check(case(*lines), [('CheckpointError', words) for _, words in hostile_headers.values()])
    info = case(*[f"refuse(lambda: checkpoint_info({str(hostile_headers[n][0])!r}))" for n in
                  ('list.lp', 'deep.lp', 'huge-kind.lp', 'kind-number.lp', 'format-text.lp', 'huge-header.lp')])
    check(info, [('CheckpointError', 'damaged')] * 6)


SIZES = [('hidden', 10**9), ('latent_dim', 10**6), ('n_mels', 10**6), ('embed_dim', 10**9), ('rnn_hidden', 10**9),
         ('frame_length', 2 * 10**9), ('hop_length', 2 * 10**9), ('seq_seconds', 1e9), ('fir_kernel', 10**9),
         ('fir_channels', 10**9), ('sr', 10**9), ('max_magnitude', 1e300)]


def test_sizes_in_a_file_are_refused_before_allocating(tmp_path):
    "Every size in a GrainModel or StoredGrains config beyond its limit is refused, the key and the limit named."
    lines, expected = [], []
    for k, v in SIZES:
        p = write_checkpoint(tmp_path / f'{k}.lp', {}, _grains_meta(**{k: v}))
        lines.append(f"refuse(lambda: load_model({str(p)!r}))"); expected.append(('CheckpointError', k, 'must be'))
    for k, v in [('n_grains', 10**12), ('frame_length', 2**31), ('sr', 0)]:
        p = write_checkpoint(tmp_path / f'sg-{k}.lp', {}, {'kind': 'stored-grains', 'config': {k: v}})
        lines.append(f"refuse(lambda: load_model({str(p)!r}))"); expected.append(('CheckpointError', k, 'must be'))
    check(case(*lines, timeout=120), expected)


def test_nan_weights_are_named_at_load(tmp_path):
    "A checkpoint with NaN or infinite weights says so when it is opened, not later as a latent-path problem."
    from latentplay.granular import GrainModel
    m = GrainModel(sr=16000, latent_dim=4, hidden=8, n_mels=8, embed_dim=4, rnn_hidden=8, seq_seconds=0.2)
    with torch.no_grad(): m.decoder.net[0].weight[0, 0] = float('nan')
    m.save(tmp_path / 'nan.lp')
    with torch.no_grad(): m.decoder.net[0].weight[0, 0] = float('inf')
    m.save(tmp_path / 'inf.lp')
    check(case(f"refuse(lambda: load_model({str(tmp_path / 'nan.lp')!r}))", f"refuse(lambda: load_model({str(tmp_path / 'inf.lp')!r}))"),
          [('CheckpointError', 'weights hold NaN', 'damaged or the training diverged')] * 2)


def test_damaged_training_state_is_refused_on_resume(tmp_path):
    "A file whose training state is not what a run writes is refused by resume=True instead of half-read."
    p = write_checkpoint(tmp_path / 'run.lp', {}, {**_grains_meta(), 'training': {'stage': 'grains', 'state': 'step 5'}})
    check(case("from latentplay.corpus import Corpus",
               "c = Corpus([lp.Sound(np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1, 16000)], 16000)",
               f"refuse(lambda: lp.GrainModel.fit(c, max_steps=2, checkpoint={str(p)!r}, resume=True, progress=False))"),
          [('CheckpointError', 'training state is damaged')])


# ------------------------------------------------------------------------------------------------ sizes in arguments
def test_sizes_in_arguments_are_refused_before_allocating():
    "decode, render, prior, generate, stretch and the constructors refuse sizes beyond LIMITS, the limit named."
    check(case("m = lp.pretrained('gm-drums'); z = m.prior(4)",
               "refuse(lambda: m.decode(z, length=10**11))",
               "refuse(lambda: m.decode(z, length=-5))",
               "refuse(lambda: m.decode(torch.zeros(1, 64).expand(10**7, 64)))",
               "refuse(lambda: m.render(torch.zeros(1, 1, 64).expand(10**4, 10**3, 64)))",
               "refuse(lambda: m.prior(10**9))",
               "refuse(lambda: m.generate(n=10**6))",
               "refuse(lambda: m.morph('kick', 'snare', n=10**6))",
               "refuse(lambda: m.stretch(lp.Sound(np.zeros(10 * 22050, np.float32) + 0.1, 22050), 999))",
               "refuse(lambda: lp.GrainModel(hidden=10**9))",
               "refuse(lambda: lp.GrainModel(seq_seconds=1e9))",
               "refuse(lambda: lp.GrainModel(n_mels=4096, frame_length=1024))",
               "refuse(lambda: lp.StoredGrains(n_grains=10**12))",
               "refuse(lambda: lp.StoredGrains().from_descriptors(n_steps=10**9))",
               "refuse(lambda: lp.StoredGrains().prior(10**9))",
               "refuse(lambda: len(m.decode(z, length=np.int64(1000)).audio))"),
          [('ValueError', 'length must be', 'samples'),
           ('ValueError', 'length must be', 'got -5'),
           ('ValueError', '10,000,000 steps', 'at most 3600 seconds'),
           ('ValueError', 'at most 3600 seconds'),
           ('ValueError', 'n must be', 'got 1000000000'),
           ('ValueError', 'n must be', '10000'),
           ('ValueError', 'n must be', '10000'),
           ('ValueError', 'makes', 'at most 3600 s'),
           ('ValueError', 'hidden must be', '16384'),
           ('ValueError', 'seq_seconds must be', '3600'),
           ('ValueError', 'n_mels must be at most 513'),
           ('ValueError', 'n_grains must be', '10000000'),
           ('ValueError', 'n_steps must be'),
           ('ValueError', 'this model stores no grains'),
           ('OK', '1000')])


def test_path_sizes_are_refused_before_allocating():
    "Every path function refuses a result of more than MAX_STEPS points or MAX_VALUES numbers, before making it."
    check(case("import latentplay.paths as P; p = torch.zeros(5, 3)",
               "refuse(lambda: P.line([0., 0], [1., 1], 10**9))",
               "refuse(lambda: P.slerp([0., 0], [1., 1], n_steps=10**9))",
               "refuse(lambda: P.circle([0., 0], n_steps=10**9))",
               "refuse(lambda: P.spiral([0., 0], n_steps=10**9))",
               "refuse(lambda: P.random_walk([0., 0], n_steps=10**9))",
               "refuse(lambda: P.retime(p, factor=1e12))",
               "refuse(lambda: P.retime(p, n_steps=10**9))",
               "refuse(lambda: P.vary_speed(p, speed=1e-30))",
               "refuse(lambda: P.loop(p, repeats=10**9))",
               "refuse(lambda: P.line(torch.zeros(1000, 64), torch.ones(64), 10**5))",
               "refuse(lambda: P.interpolate([0.], [1.], torch.zeros(10**7)))",
               "refuse(lambda: tuple(P.line([0., 0], [1., 1], np.int64(5)).shape))"),
          [('ValueError', 'n_steps must be at most')] * 5 + [('ValueError', 'would have', 'MAX_STEPS')] +
          [('ValueError', 'n_steps must be at most')] + [('ValueError', 'would have')] +
          [('ValueError', 'repeats must be at most')] + [('ValueError', 'numbers', 'MAX_VALUES')] * 2 + [('OK', '(5, 2)')])


# ------------------------------------------------------------------------------------------ messages that point right
def test_messages_say_what_is_actually_wrong():
    "A bad temperature names the temperature, a too-loud input names its samples; numpy numbers are numbers."
    check(case("m = lp.pretrained('gm-drums'); s = lp.Sound(np.sin(np.arange(22050) / 9).astype(np.float32) * 0.3, 22050)",
               "loud = lp.Sound(np.full(22050, 1e30, np.float32), 22050)",
               *[f"refuse(lambda: m.generate(temperature={t}))" for t in ("float('nan')", "float('inf')", '-1')],
               "refuse(lambda: m.sample_embedding(temperature=float('nan')))",
               "refuse(lambda: m.resynthesize(loud))", "refuse(lambda: m.encode(loud))", "refuse(lambda: m.stretch(loud, 2))",
               "refuse(lambda: lp.StoredGrains().encode(loud))",
               "refuse(lambda: len(m.stretch(s, np.float32(2.0)).audio))",
               "refuse(lambda: len(m.stretch(s, np.int64(2)).audio))",
               "refuse(lambda: len(m.generate(n=np.int64(2), temperature=np.float32(0.5))))",
               "refuse(lambda: tuple(m.prior(np.int64(3)).shape))",
               "refuse(lambda: m.stretch(s, True))"),
          [('ValueError', 'temperature must be')] * 4 + [('ValueError', "sound's samples are out of range", 'normalize')] * 4
          + [('OK', '44100'), ('OK', '44100'), ('OK', '2'), ('OK', '(3, 64)'), ('ValueError', 'factor must be a number')])


def test_a_permission_problem_is_said_as_one(tmp_path, monkeypatch):
    "A checkpoint this user may not read is a PermissionError that says so, not 'damaged' or 'not a checkpoint'."
    from latentplay import train
    p = write_checkpoint(tmp_path / 'locked.lp', {}, _grains_meta())
    def locked(*a, **k): raise PermissionError(13, 'Permission denied')
    monkeypatch.setattr(os, 'open', locked)                      # every module's os.open, sound.open_regular's too
    for f in (train.checkpoint_info, train.read_checkpoint):
        with pytest.raises(PermissionError, match='permission denied; this user may not read it'): f(p)
