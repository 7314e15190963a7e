"""Shared fixtures: an isolated cache folder, the built-in corpora, a folder of real user sounds with bad files, the
shipped drum model, the one protocol-only fake model and tiny models at any sample rate."""
import os
from types import SimpleNamespace

import numpy as np
import pytest

from latentplay.models import ProtocolOnly


@pytest.fixture(scope='session', autouse=True)
def latentplay_cache(tmp_path_factory):
    "Every test session renders and caches into its own folder, never into the user's cache."
    d = tmp_path_factory.mktemp('latentplay_cache')
    old = os.environ.get('LATENTPLAY_CACHE')
    os.environ['LATENTPLAY_CACHE'] = str(d)
    yield d
    if old is None: os.environ.pop('LATENTPLAY_CACHE', None)
    else: os.environ['LATENTPLAY_CACHE'] = old


@pytest.fixture(scope='session')
def gm_drums():
    from latentplay.corpus import Corpus
    return Corpus.builtin('gm-drums', progress=False)


@pytest.fixture(scope='session')
def gm_notes():
    from latentplay.corpus import Corpus
    return Corpus.builtin('gm-notes', progress=False)


@pytest.fixture(scope='session')
def gm_textures():
    from latentplay.corpus import Corpus
    return Corpus.builtin('gm-textures', progress=False)


def _pick(corpus, n=2, **labels):
    return [s for s in corpus if all(s.meta.get(k) == v for k, v in labels.items())][:n]


@pytest.fixture
def tmp_user_folder(tmp_path, gm_drums):
    """A user folder `my_sounds/` of real drum hits in several formats, rates and channel counts, plus the bad files a
    real folder collects. Returns a namespace: `root`, `good` {relative path: label}, `bad` {relative path: words
    expected in the reason}, `ignored` (files that must be left alone silently), `short` (a file shorter than a grain)."""
    import soundfile as sf
    root = tmp_path / 'my_sounds'
    good, bad = {}, {}
    for cls, sr, ext, fmt in [('kick', 44100, 'wav', 'WAV'), ('snare', 11025, 'flac', 'FLAC'), ('hihat', 37800, 'ogg', 'OGG')]:
        (root / cls).mkdir(parents=True)
        for j, s in enumerate(_pick(gm_drums, 2, label=cls, kit='Standard', velocity=108)):
            rel = f"{cls}/{cls}{j}.{ext}"
            s.resample(sr).save(root / rel, level='as is', overflow='clip'); good[rel] = cls
    kick, snare = _pick(gm_drums, 1, label='kick')[0], _pick(gm_drums, 1, label='snare', velocity=127)[0]
    sf.write(root / 'kick' / 'surround.wav', np.stack([kick.audio * g for g in np.linspace(0.2, 1.0, 6)], 1), 22050)
    good['kick/surround.wav'] = 'kick'
    sf.write(root / 'kick' / 'LOUD.WAV', kick.audio, 22050, subtype='PCM_24'); good['kick/LOUD.WAV'] = 'kick'
    sf.write(root / 'snare' / 'snare.aiff', snare.resample(48000).audio, 48000, format='AIFF'); good['snare/snare.aiff'] = 'snare'
    sf.write(root / 'snare' / 'snare.aif', snare.audio, 22050, format='AIFF'); good['snare/snare.aif'] = 'snare'
    (root / 'hihat' / 'deep').mkdir()
    sf.write(root / 'hihat' / 'deep' / 'nested.oga', _pick(gm_drums, 1, label='hihat', velocity=127)[0].audio, 22050, format='OGG')
    good['hihat/deep/nested.oga'] = 'hihat'
    sf.write(root / 'loose.wav', snare.audio, 22050); good['loose.wav'] = None
    sf.write(root / 'kick' / 'tiny.wav', kick.audio[:300], 22050); good['kick/tiny.wav'] = 'kick'
    # bad files
    (root / 'snare' / 'empty.wav').write_bytes(b''); bad['snare/empty.wav'] = 'empty'
    (root / 'snare' / 'notes.wav').write_text('these are my notes, not audio\n' * 20); bad['snare/notes.wav'] = 'not readable'
    whole = (root / 'kick' / 'kick0.wav').read_bytes()
    (root / 'kick' / 'cut.wav').write_bytes(whole[:len(whole) // 3]); bad['kick/cut.wav'] = 'truncated'
    x = snare.audio.copy(); x[100] = np.nan
    sf.write(root / 'hihat' / 'nan.wav', x, 22050, subtype='FLOAT'); bad['hihat/nan.wav'] = 'NaN'
    y = snare.audio.copy(); y[50] = np.inf
    sf.write(root / 'hihat' / 'inf.wav', y, 22050, subtype='FLOAT'); bad['hihat/inf.wav'] = 'infinite'
    (root / 'snare' / 'garbage.flac').write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    bad['snare/garbage.flac'] = 'not readable'
    (root / 'kick' / 'phone.m4a').write_bytes(b'\x00\x00\x00\x20ftypM4A ' + bytes(100)); bad['kick/phone.m4a'] = 'unsupported'
    # ignored silently
    (root / 'README.txt').write_text('my drum sounds')
    (root / '.DS_Store').write_bytes(b'\x00\x01junk')
    (root / 'kick' / '._kick0.wav').write_bytes(b'\x00\x05\x16\x07 AppleDouble')
    (root / 'cover.jpg').write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
    ignored = ['README.txt', '.DS_Store', 'kick/._kick0.wav', 'cover.jpg']
    return SimpleNamespace(root=root, good=good, bad=bad, ignored=ignored, short='kick/tiny.wav')


# ------------------------------------------------------------------------------------------- shared models
@pytest.fixture(scope='session')
def drums():
    "The shipped drum model (`DEV_DRUMS` may name another checkpoint of the same kind while it is being retrained)."
    import torch
    torch.set_num_threads(1)
    if os.environ.get('DEV_DRUMS'):
        from latentplay.models import load_model
        return load_model(os.environ['DEV_DRUMS'])
    from latentplay.models import pretrained
    return pretrained('gm-drums')


class BareModel(ProtocolOnly):
    """A real model seen through the protocol only (`latentplay.models.ProtocolOnly`: no stored principal axes, no
    differentiable render, no generate, no stretch), whose decode takes the label it is given, so the widgets offer it
    a class picker. The one fake model of the test suite."""
    decode_conditions = property(lambda self: self.model.conditions)
    labels = property(lambda self: list(self.model.conditions.get('label', [])))


@pytest.fixture(scope='session')
def bare(drums): return BareModel(drums)


def tiny_grain_model(sr, labels=('kick', 'snare'), seed=0, **kw):
    "An untrained, tiny granular model at rate `sr` (the grain sizes follow `grain_defaults(sr)`): for sweeps over rates."
    import torch
    from latentplay.granular import GrainModel
    torch.manual_seed(seed)
    cfg = dict(latent_dim=8, hidden=32, n_mels=32, embed_dim=8, rnn_hidden=16, labels=list(labels))
    return GrainModel(sr=sr, **{**cfg, **kw}).eval()


def stop_once_saved(job, path, step:int=2, timeout:float=60):
    "Stop a background training `job` once its checkpoint `path` holds a training state at `step` or later; that state."
    import time
    from latentplay.train import checkpoint_info
    t0 = time.time()
    while not (path.exists() and (checkpoint_info(path).get('training') or {}).get('state', {}).get('step', 0) >= step) and time.time() - t0 < timeout:
        time.sleep(0.1)
    job.stop()
    return checkpoint_info(path)['training']
