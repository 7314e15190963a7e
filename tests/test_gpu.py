"On a machine with a CUDA GPU: every shipped model plays there as it plays on the CPU, every model kind trains there, and the tools follow the model's device. Skipped without a GPU (CI has none); `bench/bench_gpu.py` measures the speed."
import copy, math
import numpy as np
import pytest
import torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')

from latentplay.corpus import Corpus
from latentplay.models import pretrained, pretrained_names, device_of


def same_sound(a, b, tol):
    a, b = np.asarray(a.audio), np.asarray(b.audio)
    assert len(a) == len(b) and np.isfinite(a).all()
    assert np.abs(a - b).max() <= tol * max(np.abs(b).max(), 1e-6)


def plays_as_on_cpu(m, sound=None, tol=5e-3):
    "Decode the prior (and a sound encoded) on the GPU and on a CPU copy of the same weights."
    cpu = copy.deepcopy(m).to('cpu')
    z = m.prior(2, seed=0)
    assert z.device.type == 'cuda' and device_of(m).type == 'cuda'
    same_sound(m.decode(z), cpu.decode(z.cpu()), tol)
    if sound is not None:
        e = m.encode(sound)
        assert e.device.type == 'cuda'
        same_sound(m.decode(e), cpu.decode(cpu.encode(sound)), tol)


@pytest.fixture(scope='module')
def notes(): return Corpus.builtin('gm-notes', progress=False)

@pytest.fixture(scope='module')
def hits(): return Corpus.builtin('gm-drums', progress=False)


@pytest.mark.parametrize('name', pretrained_names())
def test_shipped_models_play_on_the_gpu(name, notes, hits):
    m = pretrained(name, device='cuda')
    plays_as_on_cpu(m, None if 'timbre' == name.split('-')[-1] else (hits if 'drums' in name else notes)[0])


def test_every_kind_trains_on_the_gpu(notes, hits):
    from latentplay.granular import GrainModel
    from latentplay.notes import NoteModel
    from latentplay.vq import VQTimbre
    from latentplay.move import MoVE
    from latentplay.timbrevae import TimbreVAE
    from latentplay.timbre import TimbreSpace
    three = notes.filter(instrument=['Flute', 'Trumpet', 'Violin'])
    tech = Corpus.builtin('gm-techniques', progress=False).filter(instrument=['Violin', 'Trumpet', 'Guitar'], velocity=[85, 127])
    runs = [(GrainModel.fit, hits, dict(max_steps=20, stages=(0.4, 0.3, 0.3))), (GrainModel.fit, three, dict(max_steps=20, pitch=True)),
            (NoteModel.fit, tech, dict(max_steps=8, batch_size=8, channels=16)),
            (VQTimbre.fit, three.filter(instrument='Violin'), dict(max_steps=8, batch_size=8, segment_seconds=0.25, n_codes=32, hidden=32)),
            (MoVE.fit, three, dict(max_steps=6, batch_size=16, channels=32)),
            (TimbreVAE.fit, three.filter(instrument='Flute'), dict(max_steps=6, channels=16, latent_dim=8, batch_size=4, segment_seconds=0.5)),
            (TimbreSpace.fit, notes, dict(max_steps=30, latent_dim=8, hidden=64, layers=2))]
    for fit, corpus, kw in runs:
        m = fit(corpus, device='cuda', progress=False, **kw)
        assert {p.device.type for p in m.parameters()} == {'cuda'}, fit
        assert all(math.isfinite(h['loss']) for h in m.history if 'loss' in h), fit
        plays_as_on_cpu(m, None if isinstance(m, TimbreSpace) else corpus[0])


def test_timbre_space_tools_follow_the_device():
    g, c = pretrained('gm-notes-timbre', device='cuda'), pretrained('gm-notes-timbre')
    for a, b in zip(g.morph('Flute', 'Trumpet', steps=3), c.morph('Flute', 'Trumpet', steps=3)): same_sound(a, b, 5e-3)
    dg, dc = g.descriptor_map(descriptor='centroid', n=16), c.descriptor_map(descriptor='centroid', n=16)
    assert np.allclose(dg.values, dc.values, rtol=1e-3)


def test_targets_maps_patterns_with_a_gpu_model(hits):
    from latentplay.targets import follow_descriptors
    from latentplay.maps import CorpusMap
    from latentplay.patterns import Pattern, render_pattern
    g, c = pretrained('gm-drums', device='cuda'), pretrained('gm-drums')
    T = {'centroid': [800., 4000.], 'loudness': -35.}
    same_sound(follow_descriptors(g, T, seconds=0.5, n_iter=3, tol=None).sound, follow_descriptors(c, T, seconds=0.5, n_iter=3, tol=None).sound, 5e-2)
    mg, mc = CorpusMap(g, hits[:40]), CorpusMap(c, hits[:40])
    assert torch.allclose(mg.xy.cpu(), mc.xy.cpu(), atol=1e-3)
    p = Pattern(tracks=['kick', 'snare'], n_steps=8).set('kick', 0).set('snare', 4)
    same_sound(render_pattern(g, p), render_pattern(c, p), 5e-3)
