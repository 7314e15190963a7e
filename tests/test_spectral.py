"""Spectral representations, their inversion (Griffin-Lim and the learned inverter), the playing-technique corpus
and the timbre ratings: what the timbre-space and note models stand on."""
import math

import numpy as np
import pytest
import torch

from latentplay.corpus import Corpus
from latentplay.dsp import MultiScaleSpectralLoss, lsd, sc
from latentplay.soundfont import classical_mds, mds_stress, pitch_agreement, techniques_spec, timbre_ratings
from latentplay.spectral import (DEFAULT_SPECTRAL, SCALES, Inverter, Spectral, compare_representations, default_spectral,
                                 erb_filterbank, fit_inverter, load_inverter, noise_floor, pretrained_inverter, score_audio)
from latentplay.train import CheckpointError, write_checkpoint


@pytest.fixture(scope='module')
def techniques():
    return Corpus.builtin('gm-techniques', progress=False)


@pytest.fixture(scope='module')
def held(gm_notes):
    "Held-out notes of gm-notes (the split the shipped inverter never saw), their first second."
    _, test = gm_notes.split(test=0.05, seed=0)
    return [s.audio[:22050] for s in test][:6]


# ---- data: the playing-technique corpus and the ratings

def test_every_technique_note_is_fully_labelled(techniques):
    assert len(techniques) == 21 * 9 * 3                      # no note of the declaration is silent
    keys = {'instrument', 'family', 'style', 'pitch', 'pitch_class', 'octave', 'note', 'velocity', 'program', 'gm_name', 'label'}
    for m in techniques.meta:
        assert keys <= set(m) and all(m[k] is not None for k in keys)
        assert m['pitch_class'] == m['pitch'] % 12 and m['octave'] == m['pitch'] // 12 - 1
        assert m['label'] == f"{m['instrument']}/{m['style']}" and m['note'].endswith(str(m['octave']))
    spec = {i['instrument']: {s['style']: s['program'] for s in i['styles']} for i in techniques_spec()['instruments']}
    assert set(spec['Guitar']) == {'nylon', 'steel', 'jazz', 'clean', 'muted', 'overdriven', 'distortion', 'harmonics'}
    assert set(spec['Bass']) == {'finger', 'pick', 'fretless', 'slap'} and spec['Trumpet'] == {'open': 56, 'muted': 59}
    assert spec['Violin'] == {'arco': 40, 'tremolo': 44, 'pizzicato': 45}
    for inst, styles in spec.items():                          # every style of an instrument plays the same keys and velocities
        grid = {st: sorted((m['pitch'], m['velocity']) for m in techniques.meta if m['instrument'] == inst and m['style'] == st) for st in styles}
        assert len({tuple(g) for g in grid.values()}) == 1 and len({p for p, _ in next(iter(grid.values()))}) == 9
        assert len({m['pitch_class'] for m in techniques.meta if m['instrument'] == inst}) == 9
        for st, prog in styles.items():
            assert {m['program'] for m in techniques.meta if m['instrument'] == inst and m['style'] == st} == {prog}


def test_technique_labels_reachable_from_scripts(techniques, gm_notes):
    assert techniques.classes_of('instrument') == ['Bass', 'Guitar', 'Organ', 'Trumpet', 'Violin']
    pizz = techniques.filter(instrument='Violin', style='pizzicato', octave=5)
    assert len(pizz) > 0 and set(pizz.labels_of('style')) == {'pizzicato'} and set(pizz.labels_of('octave')) == {5}
    assert techniques.labels_of('style') == [m['style'] for m in techniques.meta]
    with pytest.raises(ValueError, match="the style values are"): techniques.filter(style='col legno')
    # gm-notes is untouched (its labels, its main label) and still answers pitch class and octave, derived from pitch
    assert all(s.meta['label'] == s.meta['instrument'] and 'pitch_class' not in s.meta for s in gm_notes)
    assert gm_notes.labels_of('pitch_class') == [p % 12 for p in gm_notes.labels_of('pitch')]
    assert len(gm_notes.filter(instrument='Flute', pitch_class=0)) > 0


def test_technique_pitches_sound_right(techniques):
    "The sustained, pitched styles play the labelled key (YIN f0 within 50 cents for nearly all notes)."
    clips = [(s.audio, s.meta) for s in techniques.filter(style=['arco', 'open', 'muted', 'nylon', 'finger', 'drawbar'], velocity=85)]
    ok, _ = pitch_agreement(clips)
    assert ok >= 0.85


def test_ratings_load_symmetric_and_mds_reproduces_them():
    r = timbre_ratings()
    D = r['matrix']
    assert D.shape == (12, 12) and len(r['instruments']) == 12 and 'variational-timbre' in r['source']
    assert np.allclose(D, D.T) and (np.diag(D) == 0).all() and np.isfinite(D).all()
    assert (D[~np.eye(12, dtype=bool)] > 0).all() and D.max() <= 1
    stress = [mds_stress(D, classical_mds(D, k)) for k in (2, 3, 5, 11)]
    assert stress == sorted(stress, reverse=True) and stress[0] < 0.3 and stress[-1] < 0.1
    X = np.random.default_rng(0).normal(size=(7, 3))                  # distances of real points: recovered exactly
    Dx = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    assert mds_stress(Dx, classical_mds(Dx, 3), scale=False) < 1e-9


# ---- representations

@pytest.mark.parametrize('scale', ['mel', 'erb', 'stft'])
def test_representations_round_trip(scale, held):
    sp = Spectral(scale)
    x = torch.from_numpy(held[0])
    M = sp(x)
    assert M.shape == (256, 87) and (M >= 0).all()
    S = sp.to_stft(M)                                                      # back to STFT bins: its bands match M
    assert S.shape[-2] == sp.n_fft // 2 + 1 and (S >= 0).all()
    if scale != 'stft': assert torch.linalg.norm(sp.fb @ S - M) / torch.linalg.norm(M) < 0.05
    y = sp.griffin_lim(M, 16, length=len(x))
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert float(lsd(x, y)) < 16 and float(sc(x, y)) < 0.7    # 24 notes, 32 iterations: lsd 9-11 dB, sc 0.24-0.45 (bench_spectral.py)


def test_erb_bands_and_bad_input():
    fb = erb_filterbank(22050, 1024, 256)
    assert fb.shape == (256, 513) and torch.allclose(fb.sum(1), torch.ones(256)) and (fb.max(1).values > 0).all()
    with pytest.raises(ValueError, match='scale must be one of'): Spectral('bark')
    with pytest.raises(ValueError, match='fmin'): erb_filterbank(22050, 1024, fmin=9000, fmax=100)
    sp = default_spectral()
    assert sp.config() == {**sp.config(), **DEFAULT_SPECTRAL} and set(SCALES) == {'mel', 'erb', 'stft', 'cqt'}
    z = sp.griffin_lim(torch.zeros(256, 10), 4)
    assert torch.isfinite(z).all() and float(z.abs().max()) == 0
    assert torch.isfinite(sp.griffin_lim(torch.full((256, 10), float('nan')), 2)).all()


def test_comparison_table(held):
    rows = compare_representations(held[:1], {'mel': Spectral('mel'), 'stft': Spectral('stft')}, n_iter=2)
    assert [r['name'] for r in rows] == ['mel', 'stft'] and all(np.isfinite([r['lsd'], r['sc'], r['ms']]).all() for r in rows)
    floor = score_audio(held[:2], noise_floor)
    sp = Spectral()
    gl = score_audio(held[:2], lambda x: sp.griffin_lim(sp(x), 8, length=len(x)))
    assert gl['lsd'] < floor['lsd'] and gl['sc'] < floor['sc']


# ---- the learned inverter

@pytest.fixture(scope='module')
def tiny_inverter(gm_notes):
    train, _ = gm_notes.split(test=0.05, seed=0)
    inv = Inverter(channels=32, blocks=2)
    x = torch.from_numpy(np.stack([s.audio[1000:1000 + 256 * 31] for s in train.filter(instrument='Flute')][:4]))
    loss = lambda: float(MultiScaleSpectralLoss((1024, 512, 256, 128))(inv.to_audio(inv.spectral(x), x.shape[-1]), x))
    before = loss()
    fit_inverter(train.filter(instrument=['Flute', 'Violin']), max_steps=8, batch=4, frames=24, progress=False, inverter=inv, lr=3e-3)
    return inv, before, loss()


def test_inverter_trains(tiny_inverter):
    inv, before, after = tiny_inverter
    assert len(inv.history) == 8 and after < before


def test_inverter_renders_and_survives_bad_input(tiny_inverter, held):
    inv = tiny_inverter[0]
    x = torch.from_numpy(held[0])
    y = inv.to_audio(inv.spectral(x), len(x))
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert inv(torch.zeros(2, 3, 256, 9)).shape == (2, 3, 256 * 8)      # batches of any shape
    s = inv.to_sound(inv.spectral(x)); assert s.sr == 22050 and len(s) == 256 * 86
    r = inv.to_audio(inv.spectral(x), len(x), refine=3)                   # Griffin-Lim steps from the network's phases
    assert r.shape == x.shape and torch.isfinite(r).all() and float(sc(x, r)) < float(sc(x, y)) + 0.05
    for bad in (torch.zeros(1, 256, 20), torch.full((1, 256, 20), 1e12), torch.full((1, 256, 20), float('inf')),
                torch.full((1, 256, 20), float('nan')), -torch.ones(1, 256, 20)):
        for k in (0, 2):
            out = inv.to_audio(bad, refine=k)
            assert torch.isfinite(out).all() and out.abs().max() <= 1
    out = inv(torch.full((1, 256, 20), 1e12)); assert torch.isfinite(out).all()   # the training path too
    with pytest.raises(ValueError, match=r'expected magnitudes \[\.\.\., 256, frames\]'): inv(torch.zeros(1, 128, 5))
    M = inv.spectral(x[:4096]).requires_grad_()                           # differentiable: a decoder can train through it
    inv(M).pow(2).sum().backward(); assert torch.isfinite(M.grad).all() and M.grad.abs().sum() > 0


def test_inverter_saves_and_loads(tiny_inverter, tmp_path):
    inv = tiny_inverter[0]
    p = inv.save(tmp_path / 'inv.lp')
    back = load_inverter(p)
    M = inv.spectral(torch.randn(4096) * 0.1)
    assert torch.allclose(back.to_audio(M), inv.to_audio(M), atol=1e-6) and back.config() == inv.config()
    assert len(back.history) == len(inv.history)
    write_checkpoint(tmp_path / 'g.lp', {'w': torch.zeros(2)}, {'kind': 'grains'})
    with pytest.raises(CheckpointError, match="not a 'inverter' model"): load_inverter(tmp_path / 'g.lp')
    with pytest.raises(ValueError, match="reads 'erb', 'mel' or 'stft'"): Inverter({'scale': 'cqt'})


def test_shipped_inverter_beats_noise(held):
    try: inv = pretrained_inverter('gm-notes')
    except ValueError: pytest.skip('no shipped inverter in this checkout (scripts/train_inverter.py writes it)')
    sp = inv.spectral
    ours = score_audio(held, lambda x: inv.to_audio(sp(x), len(x)))
    floor = score_audio(held, noise_floor)
    assert ours['lsd'] < floor['lsd'] and ours['sc'] < floor['sc']
    with pytest.raises(ValueError, match='no pretrained inverter'): pretrained_inverter('gm-banjo')
