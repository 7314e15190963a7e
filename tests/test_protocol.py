"""The protocol sweep: tiny granular and stored-grain models at 16, 22.05 and 44.1 kHz (both grain-size branches of
`grain_defaults`), checked through the protocol alone, and every widget built and played with each."""
import warnings
import numpy as np
import pytest
import torch

from conftest import BareModel, tiny_grain_model
from latentplay.models import (ModelProtocol, ProtocolOnly, capabilities, can, require, check_protocol, load_model,
                               CapabilityError)

RATES = [16000, 22050, 44100]


@pytest.fixture(scope='module')
def hits(gm_drums):
    "A dozen real drum hits of four classes."
    return [s for s in gm_drums if s.meta['label'] in ('kick', 'snare', 'hihat', 'tom')][::12][:12]


@pytest.fixture(scope='module', params=RATES, ids=lambda sr: f'{sr}Hz')
def tiny(request):
    torch.set_num_threads(1)
    return tiny_grain_model(request.param)


@pytest.fixture(scope='module', params=RATES, ids=lambda sr: f'{sr}Hz')
def stored(request, hits):
    from latentplay.catart import StoredGrains
    from latentplay.corpus import Corpus
    return StoredGrains.fit(Corpus([h.resample(request.param) for h in hits], request.param), progress=False)


def _at(sounds, sr): return [s.resample(sr) for s in sounds]


def test_models_follow_the_protocol(tiny, stored):
    from latentplay.dsp import grain_defaults
    for m in (tiny, stored):
        assert isinstance(m, ModelProtocol) and isinstance(ProtocolOnly(m), ModelProtocol)
        assert check_protocol(m) is m
        assert (m.frame_length, m.hop_length) == grain_defaults(m.sr)
    assert capabilities(ProtocolOnly(tiny)) == frozenset()
    assert {'render', 'generate', 'resynthesize', 'stretch', 'embed', 'morph', 'axes', 'controls'} <= capabilities(tiny)
    assert not can(stored, 'render') and not can(stored, 'generate')
    with pytest.raises(CapabilityError, match='cannot generate new sounds of a class, because it has no `generate`'):
        require(stored, 'generate')


def test_encode_decode_save_load_at_each_rate(tiny, hits, tmp_path):
    s = hits[0].resample(tiny.sr)
    z = tiny.encode(s)
    assert z.shape == (1 + len(s) // tiny.hop_length, tiny.latent_dim)
    out = tiny.decode(z)
    assert out.sr == tiny.sr and len(out) == len(z) * tiny.hop_length and np.isfinite(out.audio).all()
    assert tiny.prior(3, seed=1).shape == (3, tiny.latent_dim)
    tiny.save(tmp_path / 'tiny.lp')
    with warnings.catch_warnings():
        warnings.simplefilter('error')                       # a file of this version opens without a warning
        back = load_model(tmp_path / 'tiny.lp')
    assert (back.sr, back.hop_length, back.frame_length) == (tiny.sr, tiny.hop_length, tiny.frame_length)
    assert np.array_equal(back.decode(z).audio, out.audio)


def test_every_widget_plays_each_rate(tiny, hits):
    from latentplay.widgets import sliders, latent_map, descriptor_target, sequencer
    sr, bare = tiny.sr, BareModel(tiny)
    step = tiny.hop_length / sr
    w = sliders(bare, n_axes=3, threaded=False, autoplay=False).set(coords=[1.0, -0.5], seconds=0.5, shape='loop')
    assert w.sound.sr == sr and abs(w.sound.duration - 0.5) <= step and w.path.shape[-1] == tiny.latent_dim
    lm = latent_map(bare, _at(hits, sr), threaded=False, autoplay=False)
    lm.draw([[0, 0, 0], [1, 0.5, 300], [-1, 1, 600]], seconds=0.6)
    assert lm.sound.sr == sr and abs(lm.sound.duration - 0.6) <= step
    lm.play(0)
    assert lm.sound is lm.map.sounds[0]
    dt = descriptor_target(bare, seconds=0.5, threaded=False, autoplay=False)   # no render: the greedy search
    dt.synthesize()
    assert dt.method == 'greedy' and dt.sound.sr == sr and abs(dt.sound.duration - 0.5) <= step
    dg = descriptor_target(tiny, seconds=0.5, n_iter=2, threaded=False, autoplay=False)
    dg.synthesize()
    assert dg.result.method == 'gradient' and np.isfinite(dg.sound.audio).all()
    seq = sequencer(bare, threaded=False, autoplay=False)
    seq.click('kick', 0)
    assert seq.sound.sr == sr and len(seq.sound) == seq.pattern.loop_samples(sr) and seq.sound.rms > 0


def test_stored_grains_play_each_rate(stored, hits):
    from latentplay.widgets import sliders, sequencer
    w = sliders(stored, n_axes=2, threaded=False, autoplay=False).set(coords=[0.5], seconds=0.4)
    assert w.sound.sr == stored.sr and abs(w.sound.duration - 0.4) <= stored.hop_length / stored.sr
    seq = sequencer(stored, threaded=False, autoplay=False)
    seq.click(0, 0)
    assert len(seq.sound) == seq.pattern.loop_samples(stored.sr)


def test_a_non_model_is_refused_clearly():
    from latentplay.widgets import sliders
    with pytest.raises(TypeError, match=r'lp.sliders needs a latentplay model; this dict has no `sr`'):
        sliders({'latent_dim': 4})
