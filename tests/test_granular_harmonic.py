"`GrainModel(decoder='harmonic')`: harmonics of a predicted f0 beside the noise grains, on real notes, checked end to end."
import subprocess, sys
import numpy as np
import pytest
import torch

import latentplay as lp
from latentplay.granular import GrainModel, _tracked_f0
from latentplay.models import load_model

SMALL = dict(hidden=64, latent_dim=16, n_mels=32, rnn_hidden=32, embed_dim=8, progress=False, validate_every=0)


@pytest.fixture(scope='module')
def notes():
    c = lp.Corpus.builtin('gm-notes', sr=22050)
    tr, te = c.split(test=0.1, seed=0)
    return tr.filter(instrument=['Flute', 'Clarinet']), te.filter(instrument=['Flute', 'Clarinet'])


@pytest.fixture(scope='module')
def hm(notes):
    "A briefly trained harmonic note model conditioned on label and pitch."
    torch.manual_seed(0)
    return GrainModel.fit(notes[0], max_steps=12, pitch=True, decoder='harmonic', batch_size=8, **SMALL)


def test_config_and_old_files(hm, tmp_path):
    assert hm.config()['decoder'] == 'harmonic' and 'decoder' not in GrainModel(latent_dim=8, hidden=16, n_mels=16).config()
    back = load_model(hm.save(tmp_path / 'h.lp'))
    assert back.harmonic and back.synth.n_harmonics == hm.synth.n_harmonics
    z = hm.encode(notes_first(hm))
    assert np.allclose(back.decode(z).audio, hm.decode(z).audio, atol=1e-5)
    assert not lp.pretrained('gm-drums').harmonic                                            # files without the key load as the noise decoder
    with pytest.raises(ValueError, match="decoder must be 'noise' or 'harmonic'"): GrainModel(decoder='sine')


def notes_first(m):
    c = lp.Corpus.builtin('gm-notes', sr=22050)
    return c.split(test=0.1, seed=0)[1].filter(instrument='Flute')[0]


def test_generate_holds_the_asked_pitch(hm):
    for p in (64, 72):
        g = hm.generate(label='Flute', pitch=p, seed=1)
        assert np.isfinite(g.audio).all() and np.abs(g.audio).max() > 1e-3
        z = hm.sequence.decode(hm.sample_embedding('Flute', seed=1)[None], hm.condition_vector('Flute', p)[None], hm.seq_grains)[0]
        f0 = hm.harmonics(z, 'Flute', p)['f0']                         # what `generate(seed=1)` decodes: the asked pitch, by construction
        cents = 1200 * torch.log2(f0[torch.isfinite(f0)] / (440 * 2 ** ((p - 69) / 12)))
        assert len(cents) > 5 and cents.abs().median() < 50
        # heard: bench/bench_grains_harmonic.py checks the f0 (YIN) of generated notes of trained models; YIN on a model
        # trained for a few steps, still noisy, often lands an octave or two below


def test_decode_blocks_equal_one_piece_and_every_path(hm, notes):
    s = notes[1][0]
    z = hm.encode(s)
    np.testing.assert_allclose(hm.decode(z, block=5).audio, hm.decode(z).audio, atol=1e-5)   # the phase goes on across blocks
    r = hm.resynthesize(s)
    assert len(r.audio) == len(s.audio) and np.isfinite(r.audio).all()
    assert np.isfinite(hm.stretch(s.slice(0, 0.5), 1.5).audio).all()
    assert all(np.isfinite(x.audio).all() for x in hm.morph('Flute', 'Clarinet', n=3))
    ctl, h = hm.controls(z), hm.harmonics(z)
    assert ctl.shape == (len(z), hm.frame_length // 2 + 1) and h['distribution'].shape == (len(z), 48)
    assert torch.allclose(h['distribution'].sum(-1), torch.ones(len(z)), atol=1e-4)
    with pytest.raises(ValueError, match='noise decoder'): GrainModel(latent_dim=8, hidden=16, n_mels=16).harmonics(torch.zeros(3, 8))


def test_unvoiced_grains_are_noise_only(hm):
    z = hm.prior(40, seed=3)
    noise, h = hm._decoded(z, None, f0=torch.full((40,), float('nan')))   # every grain unvoiced
    assert (h.amplitude == 0).all()
    y = hm.render(z, f0=torch.full((40,), float('nan')))
    assert torch.isfinite(y).all()
    x = torch.randn(11025) * 0.1                                       # white noise has no pitch
    assert torch.isnan(_tracked_f0(hm, x)).float().mean() > 0.8


def test_training_step_learns_f0_and_voicing(hm):
    tr = [h for h in hm.history if h.get('stage') == 'grains' and 'f0' in h]
    assert tr and all(np.isfinite(h['f0']) and np.isfinite(h['voicing']) for h in tr)


def test_streaming_matches_decode_and_exports(hm, notes, tmp_path):
    st = hm.streaming(axes=False)
    z = hm.encode(notes[1][0])[:30]
    ref = hm.decode(z).audio

    @torch.no_grad()
    def stream(bs):
        st.reset(1)
        return torch.cat([st.stream_decode(z.T[None][..., b0:b0 + bs])[0, 0] for b0 in range(0, len(z), bs)]).numpy()
    a, b = stream(8), stream(3)
    np.testing.assert_allclose(a, b, atol=1e-3 * np.abs(a).max())     # blocks join without seams, the phase carried
    lat = st.latency()['decode']
    n = len(a) - lat
    assert np.abs(a[lat:] - ref[:n]).max() < 0.02 * np.abs(ref).max()   # the one-piece rendering, late by the latency
    p = hm.export(tmp_path / 'h.ts')
    code = (f"import torch; ts = torch.jit.load({str(p)!r}); ts.reset(1); y = ts.forward(torch.randn(1, 1, 4096) * 0.1); "
            "d = ts.decode(torch.randn(1, ts.decode_params[0].item(), 8)); "
            "print(int(bool(torch.isfinite(y).all() and torch.isfinite(d).all())))")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip().endswith('1'), r.stderr[-500:]


def test_lottery_trims_a_harmonic_model(hm, notes):
    from latentplay.lottery import trim
    small = trim(hm, notes[0][:8], keep=0.5, rounds=1, max_steps=2, progress=False)     # the output layer keeps every control
    assert small.harmonic and small.decoder.net[-1].out_features == hm.decoder.net[-1].out_features
    assert sum(p.numel() for p in small.parameters()) < sum(p.numel() for p in hm.parameters())
    g = small.generate(label='Flute', pitch=67)
    assert np.isfinite(g.audio).all()
